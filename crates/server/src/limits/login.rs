//! Failed logins back off per client address and per username.
//!
//! Each key gets `free` failures; the one that uses the last of them starts a
//! wait of `base`, and every further failure doubles it up to `max`. While it
//! runs, an attempt is refused before its password is hashed. Attempts in
//! flight count against the budget, so a burst of parallel guesses gets no more
//! tries than the same guesses one by one.
//!
//! The address weighs more than the username, so a flood cannot lock the real
//! user out:
//! - The username's wait applies only to addresses that have failures (or an
//!   attempt in flight) of their own. The real user, at a machine that has not
//!   been guessing, is still let in with the right password; an attacker's
//!   address has at most one try on a locked username before its own failures
//!   subject it to the wait as well.
//! - A success clears the username's record (the account proved itself) but
//!   never the address's, or an attacker with one valid account could log into
//!   it between guesses to keep their address clean.
//! - A record quiet for `max` is forgotten.
//!
//! Usernames that no account can have are not recorded (nobody to protect, and
//! a spray of invented names would grow the table).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use herald_protocol::validate_username;

/// Records kept per kind of key; a spray beyond this forgets the quietest.
const MAX_RECORDS: usize = 100_000;

/// How failures turn into waits.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub free: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Policy {
    /// The wait after `failures` failures in a row.
    fn wait_after(&self, failures: u32) -> Option<Duration> {
        let beyond = failures.checked_sub(self.free)?;
        let factor = 2u32.saturating_pow(beyond.min(31));
        Some(self.base.saturating_mul(factor).min(self.max))
    }
}

/// Which record refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottledBy {
    Address,
    Username,
}

/// Failures of one key.
#[derive(Debug, Default)]
struct Record {
    failures: u32,
    /// Attempts admitted and not settled yet.
    in_flight: u32,
    last_failure: Option<Instant>,
    /// No attempt before this.
    locked_until: Option<Instant>,
}

impl Record {
    /// When the next attempt may start, or `None` for now.
    fn refused_until(&self, policy: &Policy, now: Instant) -> Option<Instant> {
        if let Some(until) = self.locked_until.filter(|until| *until > now) {
            return Some(until);
        }
        // Free tries left, or the single try a finished wait allows.
        let allowed = policy.free.saturating_sub(self.failures).max(1);
        (self.in_flight >= allowed).then(|| now + policy.base)
    }

    fn is_clean(&self) -> bool {
        self.failures == 0 && self.in_flight == 0
    }

    fn forgotten(&self, policy: &Policy, now: Instant) -> bool {
        self.in_flight == 0
            && self
                .last_failure
                .is_none_or(|at| now.duration_since(at) >= policy.max)
    }
}

struct Ledger<K> {
    records: HashMap<K, Record>,
}

impl<K: Hash + Eq + Clone> Ledger<K> {
    fn new() -> Self {
        Self {
            records: HashMap::new(),
        }
    }

    fn record(&mut self, key: &K, policy: &Policy, now: Instant) -> &mut Record {
        if !self.records.contains_key(key) && self.records.len() >= MAX_RECORDS {
            self.sweep(policy, now);
            if self.records.len() >= MAX_RECORDS {
                let quietest = self
                    .records
                    .iter()
                    .filter(|(_, record)| record.in_flight == 0)
                    .min_by_key(|(_, record)| record.last_failure)
                    .map(|(key, _)| key.clone());
                if let Some(quietest) = quietest {
                    self.records.remove(&quietest);
                }
            }
        }
        self.records.entry(key.clone()).or_default()
    }

    fn sweep(&mut self, policy: &Policy, now: Instant) {
        self.records
            .retain(|_, record| !record.forgotten(policy, now));
    }

    fn settle(&mut self, key: &K, failed: Option<(&Policy, Instant)>) {
        let Some(record) = self.records.get_mut(key) else {
            return;
        };
        record.in_flight = record.in_flight.saturating_sub(1);
        if let Some((policy, now)) = failed {
            record.failures = record.failures.saturating_add(1);
            record.last_failure = Some(now);
            record.locked_until = policy.wait_after(record.failures).map(|wait| now + wait);
        }
    }
}

/// The failed-login records of one node.
pub struct LoginThrottle {
    policy: Policy,
    addresses: Mutex<Ledger<IpAddr>>,
    usernames: Mutex<Ledger<String>>,
}

impl LoginThrottle {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            addresses: Mutex::new(Ledger::new()),
            usernames: Mutex::new(Ledger::new()),
        }
    }

    /// Admits one login attempt from `address` for `username`, or says which
    /// record refused it and until when. The attempt must be settled with
    /// [`Attempt::failed`] or [`Attempt::succeeded`]; dropped unsettled (the
    /// password was never checked), it costs nothing.
    pub fn begin(
        &self,
        address: IpAddr,
        username: &str,
        now: Instant,
    ) -> Result<Attempt<'_>, (ThrottledBy, Instant)> {
        let mut addresses = self.addresses.lock();
        let by_address = addresses.record(&address, &self.policy, now);
        if let Some(until) = by_address.refused_until(&self.policy, now) {
            return Err((ThrottledBy::Address, until));
        }
        let address_clean = by_address.is_clean();
        let username = validate_username(username)
            .is_ok()
            .then(|| username.to_owned());
        if let Some(name) = &username {
            let mut usernames = self.usernames.lock();
            let by_name = usernames.record(name, &self.policy, now);
            if !address_clean {
                if let Some(until) = by_name.refused_until(&self.policy, now) {
                    return Err((ThrottledBy::Username, until));
                }
            }
            by_name.in_flight += 1;
        }
        addresses.record(&address, &self.policy, now).in_flight += 1;
        Ok(Attempt {
            throttle: self,
            address,
            username,
            settled: false,
        })
    }

    /// Forgets records quiet for longer than the longest wait.
    pub fn sweep(&self, now: Instant) {
        self.addresses.lock().sweep(&self.policy, now);
        self.usernames.lock().sweep(&self.policy, now);
    }
}

/// One admitted login attempt.
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    address: IpAddr,
    username: Option<String>,
    settled: bool,
}

impl Attempt<'_> {
    /// Wrong password (or unknown user): both records move towards a wait.
    pub fn failed(mut self, now: Instant) {
        self.settle(Some(now));
    }

    /// Right password: the username's record is cleared, the address keeps its
    /// failures (see the module's notes).
    pub fn succeeded(mut self) {
        self.settle(None);
        if let Some(name) = &self.username {
            self.throttle.usernames.lock().records.remove(name);
        }
    }

    fn settle(&mut self, failed_at: Option<Instant>) {
        self.settled = true;
        let policy = &self.throttle.policy;
        let failed = failed_at.map(|now| (policy, now));
        self.throttle.addresses.lock().settle(&self.address, failed);
        if let Some(name) = &self.username {
            self.throttle.usernames.lock().settle(name, failed);
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.settle(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(1);

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(Policy {
            free: 3,
            base: BASE,
            max: Duration::from_secs(60),
        })
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    fn fail(throttle: &LoginThrottle, from: IpAddr, name: &str, now: Instant, times: usize) {
        for _ in 0..times {
            throttle
                .begin(from, name, now)
                .expect("admitted")
                .failed(now);
        }
    }

    #[test]
    fn an_address_backs_off_exponentially_after_its_free_failures() {
        let throttle = throttle();
        let t0 = Instant::now();
        fail(&throttle, ip(1), "alice", t0, 3);
        let (by, until) = throttle.begin(ip(1), "bob", t0).err().expect("refused");
        assert_eq!((by, until), (ThrottledBy::Address, t0 + BASE));
        // One try after the wait; its failure doubles the wait.
        let t1 = t0 + BASE;
        fail(&throttle, ip(1), "bob", t1, 1);
        let (_, until) = throttle.begin(ip(1), "carol", t1).err().expect("refused");
        assert_eq!(until, t1 + 2 * BASE);
        // Waits stop growing at the cap.
        let mut now = t1;
        for _ in 0..10 {
            now += Duration::from_secs(60);
            fail(&throttle, ip(1), "carol", now, 1);
        }
        let (_, until) = throttle.begin(ip(1), "dave", now).err().expect("refused");
        assert_eq!(until, now + Duration::from_secs(60));
    }

    #[test]
    fn parallel_attempts_get_no_more_tries_than_sequential_ones() {
        let throttle = throttle();
        let now = Instant::now();
        let admitted: Vec<_> = (0..10)
            .filter_map(|_| throttle.begin(ip(1), "alice", now).ok())
            .collect();
        assert_eq!(admitted.len(), 3);
        // Unsettled attempts (the hash pool was busy) give their try back.
        drop(admitted);
        assert!(throttle.begin(ip(1), "alice", now).is_ok());
    }

    #[test]
    fn a_locked_username_still_admits_an_address_without_failures() {
        let throttle = throttle();
        let now = Instant::now();
        // Three attackers fail once each on alice: her username is locked.
        for attacker in 1..=3 {
            fail(&throttle, ip(attacker), "alice", now, 1);
        }
        let (by, _) = throttle.begin(ip(1), "alice", now).err().expect("refused");
        assert_eq!(by, ThrottledBy::Username);
        // Alice, from her own machine, gets in.
        throttle
            .begin(ip(200), "alice", now)
            .expect("admitted")
            .succeeded();
        // ...which clears the username, but not the attackers' addresses.
        fail(&throttle, ip(1), "alice", now, 2);
        assert_eq!(
            throttle.begin(ip(1), "alice", now).err().map(|(by, _)| by),
            Some(ThrottledBy::Address)
        );
    }

    #[test]
    fn a_success_does_not_clean_the_address_that_failed() {
        let throttle = throttle();
        let now = Instant::now();
        fail(&throttle, ip(1), "alice", now, 2);
        throttle
            .begin(ip(1), "mallory", now)
            .expect("admitted")
            .succeeded();
        fail(&throttle, ip(1), "alice", now, 1);
        assert!(throttle.begin(ip(1), "bob", now).is_err());
    }

    #[test]
    fn quiet_records_are_forgotten() {
        let throttle = throttle();
        let now = Instant::now();
        fail(&throttle, ip(1), "alice", now, 3);
        throttle.sweep(now + Duration::from_secs(60));
        assert!(throttle.addresses.lock().records.is_empty());
        assert!(throttle.usernames.lock().records.is_empty());
        assert!(throttle
            .begin(ip(1), "alice", now + Duration::from_secs(60))
            .is_ok());
    }

    #[test]
    fn invented_usernames_are_not_recorded() {
        let throttle = throttle();
        let now = Instant::now();
        fail(&throttle, ip(1), &"X".repeat(1000), now, 1);
        assert!(throttle.usernames.lock().records.is_empty());
    }
}
