//! Whether a native popup is raised, and how bursts collapse. Pure decisions with
//! the time passed in (see [`Clock`]), so tests are instant and exact.
//!
//! Popups only: Do-not-disturb and quiet hours never touch the badge or the list.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// More than this many popups within [`BURST_WINDOW`] is a burst.
pub const BURST_THRESHOLD: usize = 3;
pub const BURST_WINDOW: Duration = Duration::from_secs(2);

/// Time for the policy: a monotonic instant for bursts, the local wall-clock time
/// of day for quiet hours.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
    /// Minutes since local midnight, 0..1440.
    fn local_minutes(&self) -> u16;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn local_minutes(&self) -> u16 {
        use chrono::Timelike;
        let t = chrono::Local::now();
        (t.hour() * 60 + t.minute()) as u16
    }
}

/// A time of day as "HH:MM" on the wire and in settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(pub u16);

impl TimeOfDay {
    pub fn hm(h: u16, m: u16) -> Self {
        Self(h * 60 + m)
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let bad = || format!("invalid time {s:?}: use HH:MM, 00:00 to 23:59");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        let h: u16 = h.parse().map_err(|_| bad())?;
        let m: u16 = m.parse().map_err(|_| bad())?;
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(Self::hm(h, m))
    }
}

impl From<TimeOfDay> for String {
    fn from(t: TimeOfDay) -> String {
        format!("{:02}:{:02}", t.0 / 60, t.0 % 60)
    }
}

/// A daily quiet period; may wrap midnight (22:00–07:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QuietHours {
    /// "HH:MM", local time.
    #[schema(value_type = String)]
    pub start: TimeOfDay,
    /// "HH:MM", local time; before `start` when the period wraps midnight.
    #[schema(value_type = String)]
    pub end: TimeOfDay,
}

impl QuietHours {
    /// Whether `minutes` (since midnight) falls in the quiet period, start
    /// inclusive, end exclusive. start == end means no quiet period.
    pub fn contains(&self, minutes: u16) -> bool {
        let (s, e) = (self.start.0, self.end.0);
        if s <= e {
            (s..e).contains(&minutes)
        } else {
            minutes >= s || minutes < e
        }
    }
}

/// The user's popup settings (Settings → Notifications).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PopupSettings {
    /// Popups for notifications sent with `desktop: true` (the sender asked for one).
    pub desktop: bool,
    /// Popups for every new personal notification, not only `desktop` ones.
    pub personal: bool,
    /// Popups for every new broadcast.
    pub broadcast: bool,
    /// Popups for chat messages.
    pub chat: bool,
    /// Notifications below this priority (1–5) never pop up on their own.
    pub min_priority: u8,
    /// Do not disturb: no popups at all until turned off.
    pub dnd: bool,
    pub quiet_hours: Option<QuietHours>,
}

impl Default for PopupSettings {
    fn default() -> Self {
        Self {
            desktop: true,
            personal: false,
            broadcast: false,
            chat: true,
            min_priority: 1,
            dnd: false,
            quiet_hours: None,
        }
    }
}

/// What wants to pop up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A `desktop` frame: the sender asked for a popup.
    Desktop {
        priority: u8,
    },
    /// A new notification without the desktop flag.
    Personal {
        priority: u8,
    },
    Broadcast {
        priority: u8,
    },
    /// A chat message from someone else.
    Chat,
}

/// Why a popup was not raised (logged, and shown nowhere else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppressed {
    DoNotDisturb,
    QuietHours,
    /// The user turned this kind off, or it is below the minimum priority.
    Settings,
}

/// Whether `source` may pop up now under `settings`.
pub fn allowed(
    settings: &PopupSettings,
    source: Source,
    local_minutes: u16,
) -> Result<(), Suppressed> {
    if settings.dnd {
        return Err(Suppressed::DoNotDisturb);
    }
    if settings
        .quiet_hours
        .is_some_and(|q| q.contains(local_minutes))
    {
        return Err(Suppressed::QuietHours);
    }
    let (enabled, priority) = match source {
        Source::Desktop { priority } => (settings.desktop, Some(priority)),
        Source::Personal { priority } => (settings.personal, Some(priority)),
        Source::Broadcast { priority } => (settings.broadcast, Some(priority)),
        Source::Chat => (settings.chat, None),
    };
    if !enabled || priority.is_some_and(|p| p < settings.min_priority) {
        return Err(Suppressed::Settings);
    }
    Ok(())
}

/// What the notifier does with one allowed popup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurstDecision {
    /// Show it on its own.
    Single,
    /// A burst is on: close this burst's single popups and show (or update in
    /// place) one "`count` new notifications" popup.
    Summary { count: usize },
}

/// Collapses bursts: more than [`BURST_THRESHOLD`] popups within [`BURST_WINDOW`]
/// become one summary that keeps counting until the burst has been quiet for a
/// whole window.
#[derive(Debug, Default)]
pub struct BurstCollapser {
    /// Arrival times within the last window.
    recent: VecDeque<Instant>,
    /// Size of the burst in progress (0 = none).
    burst: usize,
    /// Last arrival, to tell when a burst is over.
    last: Option<Instant>,
}

impl BurstCollapser {
    pub fn on_popup(&mut self, now: Instant) -> BurstDecision {
        while self
            .recent
            .front()
            .is_some_and(|&t| now.duration_since(t) > BURST_WINDOW)
        {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        let burst_continues = self.burst > 0
            && self
                .last
                .is_some_and(|t| now.duration_since(t) <= BURST_WINDOW);
        self.last = Some(now);
        if burst_continues {
            self.burst += 1;
            BurstDecision::Summary { count: self.burst }
        } else if self.recent.len() > BURST_THRESHOLD {
            self.burst = self.recent.len();
            BurstDecision::Summary { count: self.burst }
        } else {
            self.burst = 0;
            BurstDecision::Single
        }
    }
}

/// Title of the summary popup.
pub fn summary_title(count: usize) -> String {
    format!("{count} new notifications")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn three_quick_popups_show_one_by_one() {
        let t0 = Instant::now();
        let mut b = BurstCollapser::default();
        for ms in [0, 100, 200] {
            assert_eq!(b.on_popup(at(t0, ms)), BurstDecision::Single);
        }
    }

    #[test]
    fn a_fourth_within_two_seconds_collapses_the_burst_into_one_summary() {
        let t0 = Instant::now();
        let mut b = BurstCollapser::default();
        for ms in [0, 500, 1000] {
            b.on_popup(at(t0, ms));
        }
        assert_eq!(
            b.on_popup(at(t0, 1900)),
            BurstDecision::Summary { count: 4 }
        );
        assert_eq!(
            b.on_popup(at(t0, 2100)),
            BurstDecision::Summary { count: 5 }
        );
        // A burst keeps counting while arrivals keep coming, even past the first window.
        assert_eq!(
            b.on_popup(at(t0, 3500)),
            BurstDecision::Summary { count: 6 }
        );
        assert_eq!(summary_title(6), "6 new notifications");
    }

    #[test]
    fn after_a_quiet_window_popups_are_single_again() {
        let t0 = Instant::now();
        let mut b = BurstCollapser::default();
        for ms in [0, 10, 20, 30, 40] {
            b.on_popup(at(t0, ms));
        }
        assert_eq!(b.on_popup(at(t0, 40 + 2001)), BurstDecision::Single);
    }

    #[test]
    fn four_popups_spread_over_more_than_two_seconds_are_not_a_burst() {
        let t0 = Instant::now();
        let mut b = BurstCollapser::default();
        for ms in [0, 800, 1600, 2400, 3200] {
            assert_eq!(b.on_popup(at(t0, ms)), BurstDecision::Single, "at {ms} ms");
        }
    }

    #[test]
    fn do_not_disturb_suppresses_every_popup() {
        let s = PopupSettings {
            dnd: true,
            ..Default::default()
        };
        assert_eq!(
            allowed(&s, Source::Desktop { priority: 5 }, 600),
            Err(Suppressed::DoNotDisturb)
        );
        assert_eq!(
            allowed(&s, Source::Chat, 600),
            Err(Suppressed::DoNotDisturb)
        );
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let q = QuietHours {
            start: TimeOfDay::hm(22, 0),
            end: TimeOfDay::hm(7, 30),
        };
        assert!(q.contains(TimeOfDay::hm(22, 0).0));
        assert!(q.contains(TimeOfDay::hm(23, 59).0));
        assert!(q.contains(TimeOfDay::hm(0, 0).0));
        assert!(q.contains(TimeOfDay::hm(7, 29).0));
        assert!(!q.contains(TimeOfDay::hm(7, 30).0));
        assert!(!q.contains(TimeOfDay::hm(12, 0).0));
        let s = PopupSettings {
            quiet_hours: Some(q),
            ..Default::default()
        };
        assert_eq!(
            allowed(&s, Source::Desktop { priority: 5 }, TimeOfDay::hm(1, 0).0),
            Err(Suppressed::QuietHours)
        );
        assert_eq!(
            allowed(&s, Source::Desktop { priority: 5 }, TimeOfDay::hm(9, 0).0),
            Ok(())
        );
    }

    #[test]
    fn daytime_quiet_hours_and_empty_ones() {
        let lunch = QuietHours {
            start: TimeOfDay::hm(12, 0),
            end: TimeOfDay::hm(13, 0),
        };
        assert!(lunch.contains(TimeOfDay::hm(12, 30).0));
        assert!(!lunch.contains(TimeOfDay::hm(13, 0).0));
        let none = QuietHours {
            start: TimeOfDay::hm(9, 0),
            end: TimeOfDay::hm(9, 0),
        };
        assert!(!none.contains(TimeOfDay::hm(9, 0).0));
    }

    #[test]
    fn per_kind_switches_and_minimum_priority() {
        let s = PopupSettings {
            personal: true,
            broadcast: false,
            min_priority: 3,
            ..Default::default()
        };
        assert_eq!(allowed(&s, Source::Personal { priority: 4 }, 0), Ok(()));
        assert_eq!(
            allowed(&s, Source::Personal { priority: 2 }, 0),
            Err(Suppressed::Settings)
        );
        assert_eq!(
            allowed(&s, Source::Broadcast { priority: 5 }, 0),
            Err(Suppressed::Settings)
        );
        assert_eq!(allowed(&s, Source::Desktop { priority: 3 }, 0), Ok(()));
        // Chat has no priority; it follows its own switch.
        assert_eq!(allowed(&s, Source::Chat, 0), Ok(()));
    }

    #[test]
    fn times_of_day_parse_and_print_as_hh_mm() {
        assert_eq!(
            TimeOfDay::try_from("07:05".to_string()),
            Ok(TimeOfDay::hm(7, 5))
        );
        assert_eq!(String::from(TimeOfDay::hm(22, 0)), "22:00");
        assert!(TimeOfDay::try_from("24:00".to_string()).is_err());
        assert!(TimeOfDay::try_from("7".to_string()).is_err());
        let json = serde_json::to_string(&QuietHours {
            start: TimeOfDay::hm(22, 0),
            end: TimeOfDay::hm(7, 0),
        })
        .unwrap();
        assert_eq!(json, r#"{"start":"22:00","end":"07:00"}"#);
    }
}
