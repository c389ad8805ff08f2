//! Notifications: what a test platform, a lead or the system tells a user.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

/// Primary key of a notification. Ids grow with time, so lists sort by id.
pub type NotificationId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NotificationKind {
    /// Addressed to named users; each keeps their own read state.
    Personal,
    /// For everyone; stored once, with read/delete state kept apart per user.
    Broadcast,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Personal => "personal",
            NotificationKind::Broadcast => "broadcast",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "personal" => Some(NotificationKind::Personal),
            "broadcast" => Some(NotificationKind::Broadcast),
            _ => None,
        }
    }
}

/// A notification as one user sees it (`read` is that user's state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub category: Option<String>,
    pub title: String,
    pub content: String,
    pub link: Option<String>,
    pub priority: u8,
    pub desktop: bool,
    /// Username of the sender; `None` when the system sent it.
    pub sender: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    pub read: bool,
}

/// Lowest and highest priority; 3 is the default.
pub const PRIORITY_RANGE: std::ops::RangeInclusive<u8> = 1..=5;
pub const DEFAULT_PRIORITY: u8 = 3;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_CONTENT_CHARS: usize = 10_000;
pub const MAX_LINK_CHARS: usize = 2048;
pub const MAX_CATEGORY_CHARS: usize = 64;
pub const MAX_RECIPIENTS: usize = 1_000;

/// `POST /notifications`: to named users (`to`) or to everyone (`broadcast: true`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendNotification {
    /// Usernames (duplicates count once); or `broadcast: true` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::Username>>, min_items = 1, max_items = 1000)]
    pub to: Option<Vec<String>>,
    #[serde(default)]
    pub broadcast: bool,
    pub title: String,
    #[serde(default)]
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// 1 (lowest) to 5 (highest); 3 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 5)]
    pub priority: Option<u8>,
    /// Also raise a native desktop popup on the recipients' devices.
    #[serde(default)]
    pub desktop: bool,
    /// `false` makes a desktop push ephemeral: delivered to connected devices, never stored.
    #[serde(default = "default_true")]
    pub persist: bool,
}

fn default_true() -> bool {
    true
}

/// Answer to `POST /notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SendResult {
    /// Absent for ephemeral (`persist: false`) pushes, which are never stored.
    pub id: Option<NotificationId>,
    /// Users it was addressed to (for a broadcast: every active user).
    pub recipients: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    Unread,
    Read,
    #[default]
    All,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KindFilter {
    Personal,
    Broadcast,
    #[default]
    All,
}

impl KindFilter {
    pub fn includes(self, kind: NotificationKind) -> bool {
        matches!(
            (self, kind),
            (KindFilter::All, _)
                | (KindFilter::Personal, NotificationKind::Personal)
                | (KindFilter::Broadcast, NotificationKind::Broadcast)
        )
    }
}

/// `GET /notifications` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListNotificationsQuery {
    #[serde(default)]
    pub status: StatusFilter,
    #[serde(default)]
    pub kind: KindFilter,
    /// Only this category (exactly as stored).
    #[serde(default)]
    pub category: Option<String>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    pub cursor: Option<String>,
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Only notifications from the last `days` days (default: the retention window).
    #[serde(default)]
    #[param(minimum = 1, maximum = 3650)]
    pub days: Option<u32>,
}

/// `POST /notifications/read` and `/unread`: a list of ids, or everything (of a kind).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<i64>>, min_items = 1, max_items = 1000)]
    pub ids: Option<Vec<NotificationId>>,
    #[serde(default)]
    pub all: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<KindFilter>,
}

/// `POST /notifications/delete`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteRequest {
    #[schema(value_type = Vec<i64>, min_items = 1, max_items = 1000)]
    pub ids: Vec<NotificationId>,
}

/// How many notifications a mark or delete changed (already-read ones don't count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeResult {
    pub changed: i64,
}

/// Most ids one mark or delete request may name.
pub const MAX_IDS_PER_REQUEST: usize = 1_000;
