//! Timestamps carried inside the notification `content`, so a receiver can tell
//! when its message was *scheduled* (open-loop latency, no coordinated omission)
//! and when it actually left the generator (how much of the latency is our own lag).

use std::time::{Duration, Instant};

/// Marks our payloads; nothing else a target sends contains it.
const MARK: &str = "\"bench:";

/// The generator's one time base, shared by senders and receivers (same process).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }

    /// Nanoseconds since the clock started.
    pub fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    /// The instant `ns` nanoseconds after the clock started.
    pub fn at(&self, ns: u64) -> Instant {
        self.origin + Duration::from_nanos(ns)
    }
}

/// What a payload says about its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub seq: u64,
    /// When the open-loop schedule said to send it.
    pub scheduled_ns: u64,
    /// When the request was actually written.
    pub sent_ns: u64,
}

/// The `content` for message `seq`.
pub fn content(stamp: Stamp) -> String {
    format!(
        "bench:{}:{}:{}",
        stamp.seq, stamp.scheduled_ns, stamp.sent_ns
    )
}

/// Finds our stamp in a received frame without parsing the JSON: receivers see
/// hundreds of thousands of frames per second and must stay cheap.
pub fn find(frame: &str) -> Option<Stamp> {
    let start = frame.find(MARK)? + MARK.len();
    let mut parts = frame[start..].split(['"', ':']);
    let seq = parts.next()?.parse().ok()?;
    let scheduled_ns = parts.next()?.parse().ok()?;
    let sent_ns = parts.next()?.parse().ok()?;
    Some(Stamp {
        seq,
        scheduled_ns,
        sent_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_survives_the_trip_through_a_frame() {
        let stamp = Stamp {
            seq: 7,
            scheduled_ns: 1_000,
            sent_ns: 1_250,
        };
        let frame = format!(
            r#"{{"type":"event","event":{{"notification":{{"title":"b","content":"{}","link":null}}}}}}"#,
            content(stamp)
        );
        assert_eq!(find(&frame), Some(stamp));
        assert_eq!(find(r#"{"type":"counts","personal":1}"#), None);
    }
}
