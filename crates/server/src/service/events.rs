//! The event stream for pollers, and the resume rule shared with the gateway.

use std::time::Duration;

use herald_protocol::{Cursor, EventEnvelope, EventsPage, EventsQuery, UserId};
use herald_store::StoredEvent;

use super::notifications::page_limit;
use crate::state::AppState;
use crate::Result;

/// Longest long-poll; proxies commonly cut idle requests soon after.
pub const MAX_WAIT_S: u32 = 60;

/// Whether a client at `since` can resume, or must reload everything first.
pub async fn can_resume(state: &AppState, since: Cursor) -> Result<Result<(), Cursor>> {
    let bounds = state.store.stream_bounds().await?;
    // Older than the purge horizon: events were deleted. Newer than the head: the
    // cursor is from another server or a restored database. Either way a replay
    // would silently skip events, so the client reloads instead.
    if since < bounds.purged_through || since > bounds.head {
        return Ok(Err(bounds.head));
    }
    Ok(Ok(()))
}

pub fn envelope(stored: StoredEvent) -> EventEnvelope {
    EventEnvelope {
        cursor: stored.seq,
        at: stored.at,
        event: stored.event,
    }
}

pub async fn poll(state: &AppState, user_id: UserId, query: EventsQuery) -> Result<EventsPage> {
    let limit = page_limit(query.limit)?;
    let wait = Duration::from_secs(query.wait.unwrap_or(0).min(MAX_WAIT_S).into());
    let since = match query.since {
        Some(since) => since,
        None => state.store.stream_bounds().await?.head,
    };
    if let Err(head) = can_resume(state, since).await? {
        return Ok(EventsPage {
            events: Vec::new(),
            cursor: head,
            resync_required: true,
        });
    }
    let deadline = tokio::time::Instant::now() + wait;
    let mut head = state.hub.watch_head();
    // What the hub had published when the store was last read: every event up
    // to it was committed before that read, so a read that found none of this
    // user's events may move the poller's cursor there (and a quiet poller never
    // falls behind the purge horizon into a needless resync).
    let mut published;
    loop {
        // Mark the head seen before reading, so an event committed after the read
        // wakes the wait below.
        published = *head.borrow_and_update();
        let events = state.store.events_since(user_id, since, limit).await?;
        if !events.is_empty() {
            let cursor = events.last().map_or(since, |e| e.seq);
            return Ok(EventsPage {
                events: events.into_iter().map(envelope).collect(),
                cursor,
                resync_required: false,
            });
        }
        tokio::select! {
            changed = head.changed() => if changed.is_err() { break },
            _ = tokio::time::sleep_until(deadline) => break,
            _ = state.shutdown.cancelled() => break,
        }
    }
    Ok(EventsPage {
        events: Vec::new(),
        cursor: since.max(published),
        resync_required: false,
    })
}
