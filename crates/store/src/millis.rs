//! Timestamps as Unix milliseconds, the one representation both backends store:
//! compact, sortable, indexable, and identical in precision across backends (the
//! conversation list's cursor carries them).

use time::OffsetDateTime;

pub(crate) fn to_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub(crate) fn now_millis() -> i64 {
    to_millis(OffsetDateTime::now_utc())
}
