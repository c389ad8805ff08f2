//! Native popups: the policy decides ([`crate::popup_policy`]), a [`PopupSink`]
//! shows. The real sink (notify-rust on the session bus) is the shell's; tests
//! record.

use parking_lot::Mutex;
use std::sync::Arc;

use herald_protocol::NotificationId;

use crate::ipc::FocusRequest;
use crate::popup_policy::{self, BurstCollapser, BurstDecision, Clock, PopupSettings, Source};

/// What clicking a popup does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClickTarget {
    /// A stored notification: it is marked read (the person has seen it), then
    /// its link opens in the browser, or the window shows it when it has none.
    Notification { id: i64, link: Option<String> },
    /// An ephemeral push with a link: open it in the browser.
    Link(String),
    /// A chat message: the window opens at its conversation.
    Conversation(i64),
    /// Just show the window (burst summaries, ephemeral pushes without a link).
    Window,
}

impl ClickTarget {
    pub fn new(id: Option<i64>, link: Option<String>) -> Self {
        match (id, link) {
            (Some(id), link) => ClickTarget::Notification { id, link },
            (None, Some(link)) => ClickTarget::Link(link),
            (None, None) => ClickTarget::Window,
        }
    }

    /// What the click does: the notification to mark read, if any, and where
    /// the person is taken.
    pub fn on_click(self) -> (Option<NotificationId>, ClickAction) {
        match self {
            ClickTarget::Notification {
                id,
                link: Some(url),
            } => (Some(id), ClickAction::OpenLink(url)),
            ClickTarget::Notification { id, link: None } => (
                Some(id),
                ClickAction::ShowWindow(FocusRequest {
                    notification: Some(id),
                    ..Default::default()
                }),
            ),
            ClickTarget::Link(url) => (None, ClickAction::OpenLink(url)),
            ClickTarget::Conversation(conversation) => (
                None,
                ClickAction::ShowWindow(FocusRequest {
                    conversation: Some(conversation),
                    ..Default::default()
                }),
            ),
            ClickTarget::Window => (None, ClickAction::ShowWindow(FocusRequest::default())),
        }
    }
}

/// Where a popup click takes the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClickAction {
    /// Open the link in the browser.
    OpenLink(String),
    /// Show the window, at the item named (if any).
    ShowWindow(FocusRequest),
}

/// One popup to raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Popup {
    pub title: String,
    pub body: String,
    pub target: ClickTarget,
    /// 1–5; 5 asks the notification server for "critical" urgency.
    pub priority: u8,
}

/// Something that can put a popup on screen. `replaces` updates an earlier popup
/// in place; the returned id can be passed back as `replaces`.
pub trait PopupSink: Send + Sync {
    fn show(&self, popup: &Popup, replaces: Option<u32>) -> Option<u32>;
}

/// Decides and raises popups.
pub struct Notifier {
    sink: Arc<dyn PopupSink>,
    clock: Arc<dyn Clock>,
    settings: Mutex<PopupSettings>,
    burst: Mutex<BurstState>,
}

#[derive(Default)]
struct BurstState {
    collapser: BurstCollapser,
    /// The summary popup of the burst in progress, updated in place as it grows.
    summary_id: Option<u32>,
}

/// What became of one request (tests and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Shown,
    Collapsed { count: usize },
    Suppressed(popup_policy::Suppressed),
}

impl Notifier {
    pub fn new(sink: Arc<dyn PopupSink>, clock: Arc<dyn Clock>, settings: PopupSettings) -> Self {
        Self {
            sink,
            clock,
            settings: Mutex::new(settings),
            burst: Mutex::new(BurstState::default()),
        }
    }

    pub fn settings(&self) -> PopupSettings {
        self.settings.lock().clone()
    }

    pub fn set_settings(&self, settings: PopupSettings) {
        *self.settings.lock() = settings;
    }

    /// Raises `popup` for `source` unless DND, quiet hours or the settings say no;
    /// bursts collapse into one summary.
    pub fn request(&self, source: Source, popup: Popup) -> Outcome {
        let settings = self.settings();
        if let Err(why) = popup_policy::allowed(&settings, source, self.clock.local_minutes()) {
            tracing::debug!(?why, title = %popup.title, "popup suppressed");
            return Outcome::Suppressed(why);
        }
        let mut burst = self.burst.lock();
        match burst.collapser.on_popup(self.clock.now()) {
            BurstDecision::Single => {
                burst.summary_id = None;
                drop(burst);
                self.sink.show(&popup, None);
                Outcome::Shown
            }
            BurstDecision::Summary { count } => {
                let summary = Popup {
                    title: popup_policy::summary_title(count),
                    body: format!("Latest: {}", popup.title),
                    target: ClickTarget::Window,
                    priority: popup.priority,
                };
                let replaces = burst.summary_id;
                burst.summary_id = self.sink.show(&summary, replaces).or(replaces);
                Outcome::Collapsed { count }
            }
        }
    }
}

/// Raises popups on a thread of their own, in the order they were asked for:
/// notify-rust talks to the notification server with blocking D-Bus calls, which
/// must not hold up the async runtime that forwards the client's events.
pub struct PopupThread {
    requests: std::sync::mpsc::Sender<(Source, Popup)>,
}

impl PopupThread {
    pub fn spawn(notifier: Arc<Notifier>) -> std::io::Result<Self> {
        let (requests, incoming) = std::sync::mpsc::channel::<(Source, Popup)>();
        std::thread::Builder::new()
            .name("popups".into())
            .spawn(move || {
                for (source, popup) in incoming {
                    notifier.request(source, popup);
                }
            })?;
        Ok(Self { requests })
    }

    pub fn request(&self, source: Source, popup: Popup) {
        // The thread only ends with the process.
        let _ = self.requests.send((source, popup));
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::popup_policy::{QuietHours, Suppressed, TimeOfDay};

    #[derive(Default)]
    struct Recorder {
        shown: Mutex<Vec<(Popup, Option<u32>)>>,
    }

    impl PopupSink for Recorder {
        fn show(&self, popup: &Popup, replaces: Option<u32>) -> Option<u32> {
            let mut shown = self.shown.lock();
            shown.push((popup.clone(), replaces));
            Some(replaces.unwrap_or(shown.len() as u32))
        }
    }

    struct FakeClock {
        start: Instant,
        offset_ms: Mutex<u64>,
        minutes: Mutex<u16>,
    }

    impl FakeClock {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                start: Instant::now(),
                offset_ms: Mutex::new(0),
                minutes: Mutex::new(12 * 60),
            })
        }
        fn advance(&self, ms: u64) {
            *self.offset_ms.lock() += ms;
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.start + Duration::from_millis(*self.offset_ms.lock())
        }
        fn local_minutes(&self) -> u16 {
            *self.minutes.lock()
        }
    }

    fn popup(title: &str) -> Popup {
        Popup {
            title: title.into(),
            body: "body".into(),
            target: ClickTarget::Notification { id: 1, link: None },
            priority: 3,
        }
    }

    const DESKTOP: Source = Source::Desktop { priority: 3 };

    #[test]
    fn a_desktop_push_pops_up_with_its_title_and_body() {
        let sink = Arc::new(Recorder::default());
        let n = Notifier::new(sink.clone(), FakeClock::new(), PopupSettings::default());
        assert_eq!(
            n.request(DESKTOP, popup("Build #42 failed")),
            Outcome::Shown
        );
        let shown = sink.shown.lock();
        assert_eq!(shown[0].0.title, "Build #42 failed");
        assert_eq!(shown[0].0.body, "body");
    }

    #[test]
    fn ten_at_once_show_three_then_one_summary_updated_in_place() {
        let sink = Arc::new(Recorder::default());
        let clock = FakeClock::new();
        let n = Notifier::new(sink.clone(), clock.clone(), PopupSettings::default());
        for i in 0..10 {
            n.request(DESKTOP, popup(&format!("n{i}")));
            clock.advance(50);
        }
        let shown = sink.shown.lock();
        let singles: Vec<_> = shown
            .iter()
            .filter(|(p, _)| !p.title.contains("new notifications"))
            .collect();
        assert_eq!(singles.len(), 3);
        let summaries: Vec<_> = shown
            .iter()
            .filter(|(p, _)| p.title.contains("new notifications"))
            .collect();
        assert_eq!(summaries.first().unwrap().0.title, "4 new notifications");
        assert_eq!(summaries.last().unwrap().0.title, "10 new notifications");
        assert_eq!(summaries.last().unwrap().0.target, ClickTarget::Window);
        // Every update after the first replaces the same popup.
        let first_id = summaries[0].1;
        assert_eq!(first_id, None);
        let ids: Vec<_> = summaries[1..].iter().map(|(_, r)| *r).collect();
        assert!(ids.iter().all(|r| r.is_some() && *r == ids[0]), "{ids:?}");
    }

    #[test]
    fn a_click_on_a_stored_notification_knows_its_id_even_when_it_has_a_link() {
        let link = Some("https://ci.example/42".to_string());
        assert_eq!(
            ClickTarget::new(Some(42), link.clone()),
            ClickTarget::Notification {
                id: 42,
                link: link.clone()
            }
        );
        assert_eq!(
            ClickTarget::new(None, link),
            ClickTarget::Link("https://ci.example/42".into())
        );
        assert_eq!(ClickTarget::new(None, None), ClickTarget::Window);
    }

    #[test]
    fn a_click_marks_the_notification_read_then_opens_its_link_or_the_window_there() {
        let link = "https://ci.example/42".to_string();
        assert_eq!(
            ClickTarget::new(Some(42), Some(link.clone())).on_click(),
            (Some(42), ClickAction::OpenLink(link.clone()))
        );
        assert_eq!(
            ClickTarget::new(Some(42), None).on_click(),
            (
                Some(42),
                ClickAction::ShowWindow(FocusRequest {
                    notification: Some(42),
                    conversation: None
                })
            )
        );
        assert_eq!(
            ClickTarget::new(None, Some(link.clone())).on_click(),
            (None, ClickAction::OpenLink(link))
        );
        assert_eq!(
            ClickTarget::Conversation(3).on_click(),
            (
                None,
                ClickAction::ShowWindow(FocusRequest {
                    notification: None,
                    conversation: Some(3)
                })
            )
        );
        assert_eq!(
            ClickTarget::Window.on_click(),
            (None, ClickAction::ShowWindow(FocusRequest::default()))
        );
    }

    #[test]
    fn dnd_and_quiet_hours_suppress_popups() {
        let sink = Arc::new(Recorder::default());
        let clock = FakeClock::new();
        let n = Notifier::new(
            sink.clone(),
            clock.clone(),
            PopupSettings {
                dnd: true,
                ..Default::default()
            },
        );
        assert_eq!(
            n.request(DESKTOP, popup("x")),
            Outcome::Suppressed(Suppressed::DoNotDisturb)
        );
        n.set_settings(PopupSettings {
            quiet_hours: Some(QuietHours {
                start: TimeOfDay::hm(11, 0),
                end: TimeOfDay::hm(13, 0),
            }),
            ..Default::default()
        });
        assert_eq!(
            n.request(DESKTOP, popup("x")),
            Outcome::Suppressed(Suppressed::QuietHours)
        );
        *clock.minutes.lock() = 14 * 60;
        assert_eq!(n.request(DESKTOP, popup("x")), Outcome::Shown);
        assert_eq!(sink.shown.lock().len(), 1);
    }
}
