//! A fixed set of read connections shared by blocking tasks.

use parking_lot::{Mutex, MutexGuard};
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::Connection;

pub(super) struct ReadPool {
    connections: Vec<Mutex<Connection>>,
    /// Where the next caller starts looking, so waiters spread over connections.
    next: AtomicUsize,
}

impl ReadPool {
    pub(super) fn new(connections: Vec<Connection>) -> Self {
        Self {
            connections: connections.into_iter().map(Mutex::new).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// A free connection if there is one, else waits for one in turn.
    pub(super) fn acquire(&self) -> MutexGuard<'_, Connection> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.connections.len();
        for i in 0..n {
            if let Some(conn) = self.connections[(start + i) % n].try_lock() {
                return conn;
            }
        }
        // A panic while holding a connection leaves it usable: SQLite rolls back
        // any open statement when the next one starts.
        self.connections[start % n].lock()
    }
}
