//! Who gets each committed event.
//!
//! The store hands every committed batch, in cursor order, to one fan-out task;
//! it serializes each event once and offers the bytes to the live connections it
//! concerns. In-process today; the Redis fan-out for clusters plugs in here.

mod hub;
pub mod presence;

pub use hub::{CountsChange, Hub, Outbound, Subscription};
pub use presence::{Presence, Transition};

use std::sync::Arc;

use herald_store::StoredEvent;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Forwards committed events to the hub until the store shuts down.
pub fn spawn(
    mut commits: mpsc::UnboundedReceiver<Vec<StoredEvent>>,
    hub: Arc<Hub>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(batch) = commits.recv().await {
            hub.publish(&batch);
        }
    })
}
