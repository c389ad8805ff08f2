//! Deciding that a silent connection is dead.
//!
//! A TCP connection through a NAT or a suspended laptop can die without either
//! end hearing about it; reads then simply never return. The server pings every
//! 25 s, so a healthy link is never silent for long. After `ping_after` of
//! silence the client asks itself (a `ping` frame the server must answer), and
//! after `dead_after` it gives up on the link and reconnects.

use std::time::Duration;

use tokio::time::Instant;

/// What to do about the silence so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing yet.
    Quiet,
    /// Silent for a while: send a ping to provoke an answer.
    Ping,
    /// Silent too long: the link is dead.
    Dead,
}

/// Tracks when the server was last heard from.
#[derive(Debug)]
pub(crate) struct Liveness {
    /// Any frame (data, ping, pong, close) counts.
    last_heard: Instant,
    /// Whether a ping went out during the current silence.
    pinged: bool,
    ping_after: Duration,
    dead_after: Duration,
}

impl Liveness {
    pub(crate) fn new(now: Instant, ping_after: Duration, dead_after: Duration) -> Self {
        Self {
            last_heard: now,
            pinged: false,
            ping_after: ping_after.min(dead_after),
            dead_after,
        }
    }

    pub(crate) fn heard(&mut self, now: Instant) {
        self.last_heard = now;
        self.pinged = false;
    }

    /// When [`Liveness::check`] next has something to say.
    pub(crate) fn deadline(&self) -> Instant {
        if self.pinged {
            self.last_heard + self.dead_after
        } else {
            self.last_heard + self.ping_after
        }
    }

    pub(crate) fn check(&mut self, now: Instant) -> Verdict {
        let silent = now.saturating_duration_since(self.last_heard);
        if silent >= self.dead_after {
            Verdict::Dead
        } else if silent >= self.ping_after && !self.pinged {
            self.pinged = true;
            Verdict::Ping
        } else {
            Verdict::Quiet
        }
    }

    /// How long the link has been silent for, for the "why offline" message.
    pub(crate) fn dead_after(&self) -> Duration {
        self.dead_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_silent_link_is_pinged_then_declared_dead_and_any_frame_revives_it() {
        let start = Instant::now();
        let mut live = Liveness::new(start, Duration::from_secs(30), Duration::from_secs(60));
        assert_eq!(live.deadline(), start + Duration::from_secs(30));

        tokio::time::sleep_until(live.deadline()).await;
        assert_eq!(live.check(Instant::now()), Verdict::Ping);
        assert_eq!(
            live.check(Instant::now()),
            Verdict::Quiet,
            "one ping per silence"
        );
        assert_eq!(live.deadline(), start + Duration::from_secs(60));

        tokio::time::sleep_until(live.deadline()).await;
        assert_eq!(live.check(Instant::now()), Verdict::Dead);

        live.heard(Instant::now());
        assert_eq!(live.check(Instant::now()), Verdict::Quiet);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(live.check(Instant::now()), Verdict::Ping);
    }

    #[tokio::test(start_paused = true)]
    async fn the_servers_25_second_pings_keep_a_healthy_link_alive() {
        let mut live = Liveness::new(
            Instant::now(),
            Duration::from_secs(30),
            Duration::from_secs(60),
        );
        for _ in 0..10 {
            tokio::time::advance(Duration::from_secs(25)).await;
            assert_eq!(live.check(Instant::now()), Verdict::Quiet);
            live.heard(Instant::now());
        }
    }
}
