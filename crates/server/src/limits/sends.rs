//! How fast one sender may publish notifications and send chat messages: a
//! token bucket per key (GCRA, from `governor`), `burst` deep and refilled at
//! `per_s`. Every publishing route and both chat paths (REST and the
//! WebSocket's `send_message`) ask here before they validate or store anything,
//! so a refused send changes nothing.
//!
//! Buckets live in this node's memory: in a cluster each node enforces the
//! limit on what reaches it.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use herald_store::Principal;

use crate::metrics::Metrics;
use crate::{Error, Result};

/// One bucket per key.
struct Buckets {
    limiter: DefaultKeyedRateLimiter<i64>,
    /// What a refusal calls the limit.
    what: &'static str,
}

impl Buckets {
    fn new(per_s: u32, burst: u32, what: &'static str) -> Self {
        let quota = Quota::per_second(at_least_one(per_s)).allow_burst(at_least_one(burst));
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            what,
        }
    }

    fn take(&self, key: i64, clock: &DefaultClock) -> Result<()> {
        self.limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(clock.now());
            Error::RateLimited {
                message: format!(
                    "{} rate limit reached; try again in {} s",
                    self.what,
                    whole_seconds(wait)
                ),
                retry_after: wait,
            }
        })
    }
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// A wait as the whole seconds `Retry-After` carries: rounded up, at least 1.
pub fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_millis().div_ceil(1000) as u64).max(1)
}

pub struct SendLimits {
    /// Per token: each CI job's send token has its own budget.
    publish: Buckets,
    /// Per user: a person's devices share one budget.
    chat: Buckets,
    clock: DefaultClock,
}

impl SendLimits {
    pub fn new(config: &crate::Config) -> Self {
        Self {
            publish: Buckets::new(config.publish_per_s, config.publish_burst, "publish"),
            chat: Buckets::new(config.chat_per_s, config.chat_burst, "chat"),
            clock: DefaultClock::default(),
        }
    }

    /// One notification published with `sender`'s token, or
    /// [`Error::RateLimited`].
    pub fn publish(&self, sender: &Principal, metrics: &Metrics) -> Result<()> {
        self.publish
            .take(sender.token.id, &self.clock)
            .inspect_err(|_| metrics.rate_limited("publish"))
    }

    /// One chat message from `user_id`, or [`Error::RateLimited`].
    pub fn chat(&self, user_id: i64, metrics: &Metrics) -> Result<()> {
        self.chat
            .take(user_id, &self.clock)
            .inspect_err(|_| metrics.rate_limited("chat"))
    }

    /// Drops the buckets that are full again (they would allow a whole burst,
    /// as a new one does), so memory follows the active senders.
    pub fn sweep(&self) {
        for buckets in [&self.publish, &self.chat] {
            buckets.limiter.retain_recent();
            buckets.limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_says_how_long_to_wait() {
        let buckets = Buckets::new(2, 3, "test");
        let clock = DefaultClock::default();
        for _ in 0..3 {
            buckets.take(1, &clock).unwrap();
        }
        match buckets.take(1, &clock) {
            Err(Error::RateLimited { retry_after, .. }) => {
                assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_millis(500))
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Another key has its own bucket.
        buckets.take(2, &clock).unwrap();
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1000)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }
}
