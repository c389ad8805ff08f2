//! Reconnect delays: exponential, capped, with jitter.
//!
//! Jitter matters for a server restart: every client lost its connection at the
//! same instant, and without it they would all come back at the same instants too.

use std::time::Duration;

use rand::Rng;

/// Delays between reconnect attempts: `initial`, doubling up to `max`, each
/// drawn at random from the upper half of its step (so never shorter than half
/// the nominal delay, and spread out across a fleet).
#[derive(Debug, Clone)]
pub struct Backoff {
    /// Failed attempts since the last success; the exponent.
    attempts: u32,
    /// First delay, and the one after [`Backoff::reset`].
    initial: Duration,
    /// Delays never grow past this, so a server back after an outage is found soon.
    max: Duration,
    /// Off in tests that check exact delays.
    jitter: bool,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(30))
    }
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            attempts: 0,
            initial,
            max: max.max(initial),
            jitter: true,
        }
    }

    /// The same schedule without randomness.
    pub fn without_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    /// The nominal delay of the next attempt, before jitter.
    fn step(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempts.min(20));
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The delay before the next attempt; each call lengthens the following one.
    pub fn next_delay(&mut self) -> Duration {
        let step = self.step();
        self.attempts = self.attempts.saturating_add(1);
        if !self.jitter {
            return step;
        }
        let millis = step.as_millis() as u64;
        Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
    }

    /// Call once a connection has proved itself (it caught up).
    pub fn reset(&mut self) {
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_one_second_to_thirty_and_reset() {
        let mut backoff = Backoff::default().without_jitter();
        let delays: Vec<u64> = (0..7).map(|_| backoff.next_delay().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_the_upper_half_of_each_step_and_never_passes_the_cap() {
        let mut backoff = Backoff::default();
        for step in [1, 2, 4, 8, 16, 30, 30, 30] {
            let delay = backoff.next_delay();
            let step = Duration::from_secs(step);
            assert!(delay >= step / 2 && delay <= step, "{delay:?} for {step:?}");
        }
        // Thousands of failures later the delay is still capped.
        for _ in 0..10_000 {
            assert!(backoff.next_delay() <= Duration::from_secs(30));
        }
    }
}
