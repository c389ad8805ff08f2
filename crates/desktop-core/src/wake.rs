//! Reconnecting when the computer wakes up. After a sleep the WebSocket is
//! almost certainly dead, but the client would only notice when its liveness
//! check runs out (up to a minute) — and a laptop lid opening is exactly when
//! someone looks at the badge. So the end of a sleep (logind's
//! `PrepareForSleep(false)` on the system bus) and the window regaining focus
//! while offline both ask the client to reconnect now. The shell listens for
//! both; this module decides.

use herald_client::ConnectionState;

/// What suggests the connection may be stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The OS resumed from sleep or hibernation.
    Resumed,
    /// The window was shown or focused.
    WindowFocused,
}

/// Whether `wake` should make a signed-in client drop its connection (or its
/// wait before the next attempt) and connect now.
pub fn should_reconnect(wake: Wake, signed_in: bool, state: &ConnectionState) -> bool {
    match state {
        _ if !signed_in => false,
        // Reconnecting cannot fix a refused login; the window asks for a new one.
        ConnectionState::AuthFailed { .. } => false,
        // After a sleep even an "online" socket is most likely dead.
        _ if wake == Wake::Resumed => true,
        // Waiting for the next retry: no reason to wait any longer.
        ConnectionState::Offline { .. } => true,
        // Online, or an attempt under way that a reconnect would only restart.
        ConnectionState::Online | ConnectionState::Connecting => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline() -> ConnectionState {
        ConnectionState::Offline {
            reason: "connection refused".into(),
            retry_in_ms: Some(16_000),
        }
    }

    #[test]
    fn waking_from_sleep_reconnects_even_a_connection_that_looks_online() {
        for state in [
            ConnectionState::Online,
            ConnectionState::Connecting,
            offline(),
        ] {
            assert!(should_reconnect(Wake::Resumed, true, &state), "{state:?}");
        }
    }

    #[test]
    fn focusing_the_window_reconnects_only_while_waiting_to_retry() {
        assert!(should_reconnect(Wake::WindowFocused, true, &offline()));
        assert!(!should_reconnect(
            Wake::WindowFocused,
            true,
            &ConnectionState::Online
        ));
        assert!(!should_reconnect(
            Wake::WindowFocused,
            true,
            &ConnectionState::Connecting
        ));
    }

    #[test]
    fn nothing_reconnects_when_signed_out_or_refused() {
        let refused = ConnectionState::AuthFailed {
            message: "token revoked".into(),
        };
        for wake in [Wake::Resumed, Wake::WindowFocused] {
            assert!(!should_reconnect(wake, true, &refused));
            assert!(!should_reconnect(wake, false, &offline()));
        }
    }
}
