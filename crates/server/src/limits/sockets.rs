//! WebSockets that upgraded without a token and have not sent `auth` yet, per
//! client address. Each may wait 10 s for its first frame; without a cap one
//! address could hold thousands of them while proving nothing.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Default)]
pub struct Unauthenticated {
    open: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl Unauthenticated {
    /// A place for one more unauthenticated socket from `client`, or `None` at
    /// `cap`. The place is given back when the returned guard is dropped.
    pub fn claim(&self, client: IpAddr, cap: u32) -> Option<Pending> {
        let mut open = self.open.lock();
        let count = open.entry(client).or_default();
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(Pending {
            open: self.open.clone(),
            client,
        })
    }
}

/// One unauthenticated socket's place; dropped once it authenticated or closed.
pub struct Pending {
    open: Arc<Mutex<HashMap<IpAddr, u32>>>,
    client: IpAddr,
}

impl Drop for Pending {
    fn drop(&mut self) {
        let mut open = self.open.lock();
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_own_cap_and_places_come_back() {
        let sockets = Unauthenticated::default();
        let (a, b) = (IpAddr::from([192, 0, 2, 1]), IpAddr::from([192, 0, 2, 2]));
        let first = sockets.claim(a, 2).unwrap();
        let _second = sockets.claim(a, 2).unwrap();
        assert!(sockets.claim(a, 2).is_none());
        assert!(sockets.claim(b, 2).is_some());
        drop(first);
        assert!(sockets.claim(a, 2).is_some());
    }
}
