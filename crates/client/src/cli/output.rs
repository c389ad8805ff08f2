//! Writing to the terminal: lines, JSON lines, aligned tables and local times.
//!
//! Every write returns an error instead of panicking like `println!`, so
//! `herald list | head -1` ends quietly when the pipe closes.

use std::fmt::Display;
use std::io::Write;
use std::sync::OnceLock;

use herald_client::{Error, Result};
use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};

/// The local UTC offset, read once at start-up: the `time` crate can only read it
/// safely while the process is still single-threaded.
static LOCAL_OFFSET: OnceLock<UtcOffset> = OnceLock::new();

/// Call first thing in `main`, before any thread exists.
pub fn init_local_offset() {
    let offset = UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC);
    let _ = LOCAL_OFFSET.set(offset);
}

fn local(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(LOCAL_OFFSET.get().copied().unwrap_or(UtcOffset::UTC))
}

/// `2025-11-25 09:12` in local time: minutes are enough to find a message in a list.
pub fn date_time(t: OffsetDateTime) -> String {
    let t = local(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `09:12:33` in local time, for the live feed of `herald watch`.
pub fn clock_now() -> String {
    let t = local(OffsetDateTime::now_utc());
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

/// Writes one line to stdout and flushes, so a reader of a pipe sees it at once.
pub fn line(text: impl Display) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(Error::Terminal)
}

/// Writes `value` as one line of JSON (JSON Lines), for scripts.
pub fn json_line<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    line(serde_json::to_string(value).expect("protocol types always serialize"))
}

/// Writes a message for the person at the terminal to stderr. A closed stderr is
/// ignored (unlike `eprintln!`, which would panic): the message is advisory.
pub fn note(text: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Shortens `text` to at most `max` characters, marking the cut with `…`.
pub fn truncate(text: &str, max: usize) -> String {
    // A title may contain newlines; a table row must not.
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `1 notification` / `3 notifications`.
pub fn plural(n: i64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Formats rows under a header with columns padded to their widest cell. The last
/// column is not padded, so long titles do not leave trailing spaces.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let render = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (i, cell) in cells.enumerate() {
            if i + 1 == columns {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                let pad = widths[i] - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad + 2));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = render(&mut header.iter().copied());
    for row in rows {
        out.push('\n');
        out.push_str(&render(&mut row.iter().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_to_the_widest_cell() {
        let rows = vec![
            vec!["1".to_string(), "short".to_string(), "x".to_string()],
            vec![
                "100".to_string(),
                "a longer one".to_string(),
                "y".to_string(),
            ],
        ];
        let text = table(&["ID", "TITLE", "FROM"], &rows);
        assert_eq!(
            text,
            "ID   TITLE         FROM\n1    short         x\n100  a longer one  y"
        );
    }

    #[test]
    fn long_or_multiline_titles_are_cut_to_one_short_line() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdefgh", 5), "abcd…");
        assert_eq!(truncate("two\nlines", 20), "two lines");
    }
}
