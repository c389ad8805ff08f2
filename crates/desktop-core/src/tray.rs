//! What the tray shows: the unread count, the connection and Do-not-disturb,
//! drawn by the shell as the icon ([`crate::badge`]), its tooltip and the check
//! mark of its menu. Menu ids are an enum so that the menu and its handler cannot
//! drift apart.

use herald_client::{ClientEvent, ConnectionState};

/// Every tray menu entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuId {
    Open,
    MarkAllRead,
    DoNotDisturb,
    Quit,
}

impl MenuId {
    pub const ALL: [MenuId; 4] = [
        MenuId::Open,
        MenuId::MarkAllRead,
        MenuId::DoNotDisturb,
        MenuId::Quit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MenuId::Open => "open",
            MenuId::MarkAllRead => "mark-all-read",
            MenuId::DoNotDisturb => "dnd",
            MenuId::Quit => "quit",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == id)
    }

    pub fn label(self) -> &'static str {
        match self {
            MenuId::Open => "Open Herald",
            MenuId::MarkAllRead => "Mark all read",
            MenuId::DoNotDisturb => "Do not disturb",
            MenuId::Quit => "Quit Herald",
        }
    }
}

/// What the tray shows; the shell updates it from client events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrayState {
    pub unread: i64,
    pub online: bool,
    pub dnd: bool,
    /// Not logged in yet: no count to show.
    pub signed_out: bool,
}

impl TrayState {
    /// Follows a client event; true when the tray has to be redrawn.
    pub fn apply(&mut self, event: &ClientEvent) -> bool {
        match event {
            ClientEvent::ConnectionChanged { state } => {
                self.online = state.is_online();
                if matches!(state, ConnectionState::AuthFailed { .. }) {
                    self.signed_out = true;
                }
                true
            }
            ClientEvent::CountsChanged { counts } => {
                self.unread = counts.unread_total;
                true
            }
            _ => false,
        }
    }

    /// The count the badge shows: none while signed out.
    pub fn badge_count(&self) -> i64 {
        if self.signed_out {
            0
        } else {
            self.unread
        }
    }

    /// Whether the icon is drawn in colour (else greyed).
    pub fn looks_online(&self) -> bool {
        self.online && !self.signed_out
    }
}

/// Tooltip text: count and connection state, e.g. "Herald — 3 unread · online".
pub fn tooltip(state: &TrayState) -> String {
    if state.signed_out {
        return "Herald — not signed in".into();
    }
    let count = match state.unread {
        0 => "no unread".to_string(),
        1 => "1 unread".to_string(),
        n => format!("{n} unread"),
    };
    let connection = if state.online { "online" } else { "offline" };
    let dnd = if state.dnd { " · do not disturb" } else { "" };
    format!("Herald — {count} · {connection}{dnd}")
}

#[cfg(test)]
mod tests {
    use herald_protocol::Counts;

    use super::*;

    #[test]
    fn menu_ids_round_trip_and_are_unique() {
        for id in MenuId::ALL {
            assert_eq!(MenuId::parse(id.as_str()), Some(id));
        }
        assert_eq!(MenuId::parse("nope"), None);
        let mut names: Vec<_> = MenuId::ALL.iter().map(|m| m.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), MenuId::ALL.len());
    }

    #[test]
    fn tooltip_tells_count_and_connection() {
        let mut s = TrayState {
            unread: 3,
            online: true,
            ..Default::default()
        };
        assert_eq!(tooltip(&s), "Herald — 3 unread · online");
        s.unread = 1;
        s.online = false;
        assert_eq!(tooltip(&s), "Herald — 1 unread · offline");
        s.unread = 0;
        s.online = true;
        s.dnd = true;
        assert_eq!(tooltip(&s), "Herald — no unread · online · do not disturb");
        s.signed_out = true;
        assert_eq!(tooltip(&s), "Herald — not signed in");
    }

    #[test]
    fn counts_and_connection_events_move_the_tray_and_a_refused_login_signs_out() {
        let mut s = TrayState::default();
        let counts = Counts {
            unread_total: 4,
            ..Default::default()
        };
        assert!(s.apply(&ClientEvent::CountsChanged { counts }));
        assert!(s.apply(&ClientEvent::ConnectionChanged {
            state: ConnectionState::Online
        }));
        assert_eq!((s.badge_count(), s.looks_online()), (4, true));
        assert!(!s.apply(&ClientEvent::ChatReloaded));
        s.apply(&ClientEvent::ConnectionChanged {
            state: ConnectionState::AuthFailed {
                message: "token revoked".into(),
            },
        });
        assert!(s.signed_out);
        assert_eq!((s.badge_count(), s.looks_online()), (0, false));
    }
}
