//! Changes to who may do what, announced on the commit feed.
//!
//! The server trusts principals from memory and holds connections open per
//! session; both must hear when a session ends or a user changes. Announcing it
//! here, from the store methods that commit such a change, means no caller has
//! to remember to: whoever deletes a token or disables a user, the feed says so.

use std::sync::atomic::{AtomicU64, Ordering};

use herald_protocol::UserId;

use crate::{CommitFeed, Committed};

/// A committed change to a user's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessChange {
    /// The session of one token (`Some`) or every session of the user (`None`)
    /// ended: its connections close, its cached principal goes.
    SessionsEnded { user: UserId, token: Option<i64> },
    /// The user's role, name or disabled flag changed; their sessions live on,
    /// but a cached principal no longer says what they may do.
    Changed { user: UserId },
}

/// The backend's side of the announcements: the feed, and how many were sent.
pub(crate) struct AccessFeed {
    feed: CommitFeed,
    announced: AtomicU64,
}

impl AccessFeed {
    pub(crate) fn new(feed: CommitFeed) -> Self {
        Self {
            feed,
            announced: AtomicU64::new(0),
        }
    }

    /// Announces a change that has committed. The count moves first, so a
    /// reader that sees the answer to the request that made the change also sees
    /// a count its consumer has not caught up with (see [`crate::Store::access_changes`]).
    pub(crate) fn announce(&self, change: AccessChange) {
        let number = self.announced.fetch_add(1, Ordering::SeqCst) + 1;
        // The receiver is gone only during shutdown, when nobody listens.
        let _ = self.feed.send(Committed::Access { change, number });
    }

    pub(crate) fn announced(&self) -> u64 {
        self.announced.load(Ordering::SeqCst)
    }
}
