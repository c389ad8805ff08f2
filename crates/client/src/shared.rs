//! State shared by the [`crate::Client`] handles and the sync engine, in a
//! module of its own so both can import it without importing each other.

use herald_protocol::{Counts, Cursor, User};
use parking_lot::Mutex;
use rusqlite::Transaction;
use tokio::sync::{broadcast, watch};

use crate::cache::tracker::Tracker;
use crate::cache::{chat, notifications, outbox, Cache};
use crate::error::Result;
use crate::events::{ClientEvent, ConnectionState};
use crate::options::ClientOptions;

/// Where the client stands, for [`Client::settled`] and the engine.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Status {
    pub state: ConnectionState,
    /// The current connection has applied everything the server had when it began.
    pub caught_up: bool,
    /// Outbox actions not yet confirmed by the server.
    pub unsent: usize,
}

/// State shared by the client handles and the engine task.
pub(crate) struct Shared {
    pub cache: Cache,
    pub options: ClientOptions,
    /// Fan-out of [`ClientEvent`]s to every front end.
    pub events: broadcast::Sender<ClientEvent>,
    pub status: watch::Sender<Status>,
    /// The counts last announced, so only changes are announced.
    pub counts: Mutex<Counts>,
    /// Who the server says we are (from `hello`, or the cache before that).
    pub user: Mutex<Option<User>>,
}

impl Shared {
    pub(crate) fn emit(&self, event: ClientEvent) {
        // No receiver is fine: nobody is looking.
        let _ = self.events.send(event);
    }

    pub(crate) fn set_state(&self, state: ConnectionState) {
        let changed = self.status.send_if_modified(|status| {
            if status.state == state {
                return false;
            }
            status.caught_up = false;
            status.state = state.clone();
            true
        });
        if changed {
            self.emit(ClientEvent::ConnectionChanged { state });
        }
    }

    pub(crate) fn set_caught_up(&self, cursor: Cursor) {
        self.status.send_modify(|status| status.caught_up = true);
        self.emit(ClientEvent::CaughtUp { cursor });
    }

    pub(crate) fn set_user(&self, user: User) {
        *self.user.lock() = Some(user);
    }

    /// The user's name, or empty before the first connection told us.
    pub(crate) fn me(&self) -> String {
        self.user
            .lock()
            .as_ref()
            .map(|u| u.username.clone())
            .unwrap_or_default()
    }

    /// Runs `f` in one write transaction on the blocking pool, then announces
    /// what it changed: notification events, counts, outbox size.
    pub(crate) async fn change<T, F>(&self, live: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction, &mut Tracker) -> Result<T> + Send + 'static,
    {
        let (value, events, counts, unsent) = self
            .cache
            .write_async(move |tx| {
                let mut tracker = Tracker::new(live);
                let value = f(tx, &mut tracker)?;
                let events = tracker.finish(tx)?;
                let counts = notifications::counts(tx)?;
                let unsent = outbox::unsent(tx)?;
                Ok((value, events, counts, unsent))
            })
            .await?;
        for event in events {
            self.emit(event);
        }
        self.announce(counts, unsent);
        Ok(value)
    }

    fn announce(&self, counts: Counts, unsent: usize) {
        let changed = {
            let mut last = self.counts.lock();
            let changed = *last != counts;
            *last = counts;
            changed
        };
        if changed {
            self.emit(ClientEvent::CountsChanged { counts });
        }
        self.status.send_if_modified(|status| {
            let changed = status.unsent != unsent;
            status.unsent = unsent;
            changed
        });
    }

    /// Drops notifications past the retention window.
    pub(crate) async fn purge(&self) -> Result<()> {
        let days = i64::from(self.options.retention_days);
        let before = time::OffsetDateTime::now_utc() - time::Duration::days(days);
        self.change(false, move |tx, tracker| {
            notifications::purge(tx, before, tracker)?;
            chat::purge(tx, before, tracker)
        })
        .await
    }
}
