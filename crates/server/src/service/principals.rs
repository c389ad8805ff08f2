//! Authenticated tokens kept in memory, so a request with a known token costs a
//! hash lookup instead of a blocking read of the database.
//!
//! The cache is only ever a copy of the database. The store announces every
//! committed change to a user's access on its commit feed; the fan-out applies
//! it here ([`PrincipalCache::forget`], through [`crate::fanout::Hub::revoke`]
//! for ended sessions) and on the other nodes, then records that it has
//! ([`PrincipalCache::caught_up`]). Until it has, [`PrincipalCache::get`]
//! misses and requests read the database, so the request that ended a session
//! is never followed by one the cache still lets through. Entries expire after
//! [`MAX_AGE`] as a backstop for a change this node never heard of.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use herald_protocol::UserId;
use herald_store::Principal;

/// A principal is trusted from memory for at most this long; a change that some
/// other node made and did not announce is therefore bounded in time.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// SHA-256 of a bearer token.
pub type TokenHash = [u8; 32];

/// A point in the sequence of revocations. A principal read from the database
/// after [`PrincipalCache::epoch`] returned `e` may be cached only if no
/// revocation happened since `e`: the read may predate the revocation's commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(u64);

pub struct PrincipalCache {
    inner: Mutex<Inner>,
    /// Entries kept at most (both generations together), so memory stays bounded
    /// however many tokens are presented.
    capacity: usize,
}

struct Inner {
    /// Entries inserted or used since the last rotation.
    recent: HashMap<TokenHash, Entry>,
    /// The generation before: still served (and promoted on use), dropped at the
    /// next rotation. Rotating instead of evicting one by one keeps the tokens in
    /// use and costs no bookkeeping per lookup.
    older: HashMap<TokenHash, Entry>,
    /// Revocations so far; see [`Epoch`].
    revocations: u64,
    /// The store's access changes applied so far (their count).
    applied: u64,
}

struct Entry {
    principal: Principal,
    cached_at: Instant,
}

impl PrincipalCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                recent: HashMap::new(),
                older: HashMap::new(),
                revocations: 0,
                applied: 0,
            }),
            capacity: capacity.max(2),
        }
    }

    /// The cached principal, or on a miss the epoch to pass to [`Self::insert`]
    /// once the database has answered. `announced` is the store's count of
    /// access changes ([`herald_store::Store::access_changes`]): while this cache
    /// has applied fewer, nothing cached is trusted and every lookup misses.
    pub fn get(&self, hash: &TokenHash, announced: u64) -> Result<(Principal, Epoch), Epoch> {
        let mut inner = self.inner.lock();
        let epoch = Epoch(inner.revocations);
        if inner.applied < announced {
            return Err(epoch);
        }
        let entry = match inner.recent.get(hash) {
            Some(entry) => Some(entry.principal.clone()).filter(|_| fresh(entry)),
            None => match inner.older.remove(hash) {
                Some(entry) if fresh(&entry) => {
                    let principal = entry.principal.clone();
                    self.put(&mut inner, *hash, entry);
                    Some(principal)
                }
                _ => None,
            },
        };
        entry.map(|principal| (principal, epoch)).ok_or(epoch)
    }

    /// Caches a principal read from the database after `read_since`, unless a
    /// revocation happened meanwhile.
    pub fn insert(&self, hash: TokenHash, principal: Principal, read_since: Epoch) {
        let mut inner = self.inner.lock();
        if inner.revocations != read_since.0 {
            return;
        }
        let entry = Entry {
            principal,
            cached_at: Instant::now(),
        };
        self.put(&mut inner, hash, entry);
    }

    /// The current epoch: compare it with the one a principal was known valid at
    /// to learn whether a revocation happened in between.
    pub fn epoch(&self) -> Epoch {
        Epoch(self.inner.lock().revocations)
    }

    /// Drops every cached token of the user; their next request reads the
    /// database. Call it after any change to the user or their tokens commits.
    pub fn forget(&self, user: UserId) {
        let mut inner = self.inner.lock();
        inner.revocations += 1;
        inner.recent.retain(|_, e| e.principal.user.id != user);
        inner.older.retain(|_, e| e.principal.user.id != user);
    }

    /// Records that the store's first `applied` access changes have been applied.
    pub fn caught_up(&self, applied: u64) {
        let mut inner = self.inner.lock();
        inner.applied = inner.applied.max(applied);
    }

    /// Drops everything: after this node may have missed other nodes'
    /// announcements (its link to them broke), nothing cached is trusted.
    pub fn forget_all(&self) {
        let mut inner = self.inner.lock();
        inner.revocations += 1;
        inner.recent.clear();
        inner.older.clear();
    }

    fn put(&self, inner: &mut Inner, hash: TokenHash, entry: Entry) {
        if inner.recent.len() >= self.capacity / 2 {
            inner.older = std::mem::take(&mut inner.recent);
        }
        inner.recent.insert(hash, entry);
    }
}

fn fresh(entry: &Entry) -> bool {
    entry.cached_at.elapsed() < MAX_AGE
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_protocol::{Role, TokenInfo, TokenKind, User};
    use time::OffsetDateTime;

    fn principal(user: UserId, token: i64) -> Principal {
        let now = OffsetDateTime::now_utc();
        Principal {
            user: User {
                id: user,
                username: format!("user{user}"),
                display_name: format!("User {user}"),
                role: Role::User,
                disabled: false,
                created_at: now,
            },
            token: TokenInfo {
                id: token,
                name: "device".into(),
                kind: TokenKind::Session,
                created_at: now,
            },
        }
    }

    fn hash(n: u8) -> TokenHash {
        [n; 32]
    }

    fn cached(cache: &PrincipalCache, n: u8) -> Option<i64> {
        cache.get(&hash(n), 0).ok().map(|(p, _)| p.token.id)
    }

    #[test]
    fn forgetting_a_user_drops_only_their_tokens() {
        let cache = PrincipalCache::new(16);
        for (n, user) in [(1, 1), (2, 1), (3, 2)] {
            let epoch = cache.get(&hash(n), 0).unwrap_err();
            cache.insert(hash(n), principal(user, n.into()), epoch);
        }
        cache.forget(1);
        assert_eq!(
            (cached(&cache, 1), cached(&cache, 2), cached(&cache, 3)),
            (None, None, Some(3))
        );
    }

    #[test]
    fn a_read_that_raced_a_revocation_is_not_cached() {
        let cache = PrincipalCache::new(16);
        let epoch = cache.get(&hash(1), 0).unwrap_err();
        cache.forget(1);
        cache.insert(hash(1), principal(1, 1), epoch);
        assert_eq!(cached(&cache, 1), None);
        assert_ne!(cache.epoch(), epoch);
    }

    #[test]
    fn nothing_cached_is_trusted_until_the_stores_access_changes_are_applied() {
        let cache = PrincipalCache::new(16);
        cache.insert(hash(1), principal(1, 1), cache.epoch());
        assert!(
            cache.get(&hash(1), 1).is_err(),
            "one change not applied yet"
        );
        cache.caught_up(1);
        assert_eq!(cache.get(&hash(1), 1).map(|(p, _)| p.token.id), Ok(1));
    }

    #[test]
    fn the_cache_stays_bounded_and_keeps_tokens_in_use() {
        let cache = PrincipalCache::new(4);
        let epoch = cache.epoch();
        cache.insert(hash(0), principal(1, 0), epoch);
        for n in 1..=20 {
            cache.insert(hash(n), principal(1, n.into()), epoch);
            assert_eq!(cached(&cache, 0), Some(0), "token 0 still in use");
            let inner = cache.inner.lock();
            assert!(inner.recent.len() + inner.older.len() <= 4);
        }
        assert_eq!(cached(&cache, 1), None);
    }
}
