//! Writing to the terminal: lines, JSON lines, aligned tables and local times.
//!
//! Every write returns an error instead of panicking like `println!`, so
//! `herald list | head -1` ends quietly when the pipe closes.
//!
//! Everything printed passes through [`clean_text`] (JSON through [`json_line`]):
//! text from the server is other people's text, and a control character in it
//! would be an instruction to the terminal (ESC starts escape sequences that can
//! clear the screen or write the clipboard). The server refuses such text, but
//! data stored before it did, or another server, may still hold it. Each such
//! character is shown as a visible escape like `\u{1b}` instead.

use std::fmt::{Display, Write as _};
use std::io::Write;
use std::sync::OnceLock;

use herald_client::{Error, Result};
use herald_protocol::text::is_forbidden;
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

/// `text` safe for a terminal: tabs and newlines stay, every other control,
/// separator or bidirectional-override character becomes a visible `\u{…}`.
pub fn clean_text(text: &str) -> String {
    clean(text, |c| matches!(c, '\t' | '\n').then_some(c))
}

/// [`clean_text`] for one line (a table cell): tabs and newlines become spaces.
pub fn clean_line(text: &str) -> String {
    clean(text, |c| matches!(c, '\t' | '\n').then_some(' '))
}

/// Copies `text`, writing each forbidden character as `keep` says or else as
/// an escape.
fn clean(text: &str, keep: impl Fn(char) -> Option<char>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match (is_forbidden(c), keep(c)) {
            (false, _) => out.push(c),
            (true, Some(kept)) => out.push(kept),
            (true, None) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    out
}

/// Writes one line to stdout and flushes, so a reader of a pipe sees it at once.
pub fn line(text: impl Display) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", clean_text(&text.to_string()))
        .and_then(|()| out.flush())
        .map_err(Error::Terminal)
}

/// Writes `value` as one line of JSON (JSON Lines), for scripts.
pub fn json_line<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let json = serde_json::to_string(value).expect("protocol types always serialize");
    line(escape_json(&json))
}

/// serde_json escapes C0 controls but writes DEL, C1 controls, separators and
/// bidirectional overrides as they are; these can only be inside strings, where
/// `\uXXXX` means the same character to a JSON reader and nothing to a terminal.
fn escape_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_forbidden(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes a message for the person at the terminal to stderr. A closed stderr is
/// ignored (unlike `eprintln!`, which would panic): the message is advisory.
pub fn note(text: impl Display) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "{}",
        clean_text(&text.to_string())
    );
}

/// Shortens `text` to one line of at most `max` characters, marking the cut with `…`.
pub fn truncate(text: &str, max: usize) -> String {
    // A title may contain newlines; a table row must not.
    let flat = clean_line(text);
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
    // Server text in a cell must neither break the row nor reach the terminal raw.
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| clean_line(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
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
    for row in &rows {
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

    #[test]
    fn control_sequences_are_shown_not_obeyed() {
        let osc52 = "copy\u{1b}]52;c;ZWNobyBoaQ==\u{7}done";
        assert_eq!(clean_text(osc52), "copy\\u{1b}]52;c;ZWNobyBoaQ==\\u{7}done");
        assert_eq!(
            clean_text("a\tb\nc\r\u{9b}2J\u{202e}"),
            "a\tb\nc\\u{d}\\u{9b}2J\\u{202e}"
        );
        assert_eq!(clean_line("a\tb\nc\u{0}"), "a b c\\u{0}");
        assert_eq!(truncate("\u{1b}[2J", 20), "\\u{1b}[2J");
        let table = table(&["A", "B"], &[vec!["x\ny".into(), "\u{1b}c".into()]]);
        assert_eq!(table, "A    B\nx y  \\u{1b}c");
    }

    #[test]
    fn json_lines_escape_what_serde_leaves_raw() {
        let value = serde_json::json!({"t": "\u{1b}\u{7f}\u{9b}\u{2028}\u{202e}ok"});
        let json = escape_json(&serde_json::to_string(&value).unwrap());
        assert_eq!(json, r#"{"t":"\u001b\u007f\u009b\u2028\u202eok"}"#);
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, value, "the same JSON to a reader");
    }
}
