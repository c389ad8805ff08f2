//! Reading wire types back from database rows.
//!
//! The server's store (SQLite or PostgreSQL) and the client's cache keep
//! notifications in tables of the same columns, and both read them back here, so
//! a row means the same thing on every side. A value no version of Herald writes
//! (an unknown kind, a priority out of range) is an error, never a guess: a
//! silent default would show a broadcast as personal, or hide the corruption
//! until someone acts on the wrong data.

use time::OffsetDateTime;

use crate::{Notification, NotificationKind};

/// A database row, read column by column. Each store implements it for its own
/// row type; [`StoredRow::corrupt`] turns a value that does not parse into that
/// store's error.
pub trait StoredRow {
    type Error;
    fn int(&self, column: usize) -> Result<i64, Self::Error>;
    fn text(&self, column: usize) -> Result<String, Self::Error>;
    fn opt_text(&self, column: usize) -> Result<Option<String>, Self::Error>;
    fn flag(&self, column: usize) -> Result<bool, Self::Error>;
    /// The error for a value in `column` that no version of Herald writes.
    fn corrupt(&self, column: usize, problem: String) -> Self::Error;
}

/// The columns [`Notification::from_row`] reads, in order, for a query to
/// select (the store qualifies them with its table aliases).
pub const NOTIFICATION_COLUMNS: [&str; 11] = [
    "id",
    "kind",
    "category",
    "title",
    "content",
    "link",
    "priority",
    "desktop",
    "sender",
    "created_at",
    "read",
];

impl Notification {
    /// Reads the [`NOTIFICATION_COLUMNS`] starting at column `at`; `created_at`
    /// is stored as Unix milliseconds.
    pub fn from_row<R: StoredRow>(row: &R, at: usize) -> Result<Self, R::Error> {
        let kind = row.text(at + 1)?;
        let kind = NotificationKind::parse(&kind)
            .ok_or_else(|| row.corrupt(at + 1, format!("unknown notification kind {kind:?}")))?;
        let priority = row.int(at + 6)?;
        let priority = u8::try_from(priority)
            .ok()
            .filter(|p| (1..=5).contains(p))
            .ok_or_else(|| row.corrupt(at + 6, format!("priority {priority} is not 1-5")))?;
        Ok(Notification {
            id: row.int(at)?,
            kind,
            category: row.opt_text(at + 2)?,
            title: row.text(at + 3)?,
            content: row.text(at + 4)?,
            link: row.opt_text(at + 5)?,
            priority,
            desktop: row.flag(at + 7)?,
            sender: row.opt_text(at + 8)?,
            created_at: from_millis(row.int(at + 9)?),
            read: row.flag(at + 10)?,
        })
    }
}

/// Timestamps are stored as Unix milliseconds: compact, sortable, indexable and
/// of one precision in every store (the conversation list's cursor carries them).
pub fn to_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The inverse of [`to_millis`]; a value out of range reads as the epoch.
pub fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row held as strings, enough to show what the mapper refuses.
    struct Cells(Vec<&'static str>);

    impl StoredRow for Cells {
        type Error = String;
        fn int(&self, column: usize) -> Result<i64, String> {
            self.0[column]
                .parse()
                .map_err(|_| format!("column {column}"))
        }
        fn text(&self, column: usize) -> Result<String, String> {
            Ok(self.0[column].to_owned())
        }
        fn opt_text(&self, column: usize) -> Result<Option<String>, String> {
            Ok(Some(self.0[column])
                .filter(|s| !s.is_empty())
                .map(str::to_owned))
        }
        fn flag(&self, column: usize) -> Result<bool, String> {
            Ok(self.0[column] == "1")
        }
        fn corrupt(&self, column: usize, problem: String) -> String {
            format!("corrupt column {column}: {problem}")
        }
    }

    fn row(kind: &'static str, priority: &'static str) -> Cells {
        Cells(vec![
            "7", kind, "", "title", "content", "", priority, "0", "ci", "1000", "1",
        ])
    }

    #[test]
    fn a_stored_notification_reads_back_as_written() {
        let n = Notification::from_row(&row("broadcast", "5"), 0).unwrap();
        assert_eq!(
            (n.id, n.kind, n.priority),
            (7, NotificationKind::Broadcast, 5)
        );
        assert_eq!(n.sender.as_deref(), Some("ci"));
        assert_eq!(to_millis(n.created_at), 1000);
        assert!(n.read);
    }

    #[test]
    fn an_unknown_kind_or_priority_is_corrupt_not_a_guess() {
        let error = Notification::from_row(&row("topic", "3"), 0).unwrap_err();
        assert_eq!(
            error,
            "corrupt column 1: unknown notification kind \"topic\""
        );
        let error = Notification::from_row(&row("personal", "9"), 0).unwrap_err();
        assert_eq!(error, "corrupt column 6: priority 9 is not 1-5");
    }
}
