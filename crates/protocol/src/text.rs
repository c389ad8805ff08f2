//! Rules for free text that people send and other people's terminals and
//! windows show: titles, names, messages.
//!
//! A control character in a title is not text but an instruction to whatever
//! prints it: ESC starts a terminal escape sequence (clear the screen, write the
//! clipboard with OSC 52), a carriage return overwrites what came before, and
//! the Unicode bidirectional overrides reorder what a reader sees (the "Trojan
//! Source" trick). So every text field is checked here, by the server before it
//! stores anything and by the clients before they send:
//!
//! - [`single_line`] for names, titles, categories, links, keys: no C0 or C1
//!   control character (U+0000–U+001F, U+007F–U+009F), no line or paragraph
//!   separator (U+2028, U+2029) and no bidirectional embedding, override or
//!   isolate (U+202A–U+202E, U+2066–U+2069);
//! - [`multi_line`] for content: the same, except that tab and newline are
//!   allowed (a carriage return is not: send `\n` line ends).
//!
//! Lengths are counted in characters (Unicode scalar values, what JSON Schema's
//! `maxLength` counts), on the value as sent, before any trimming. New fields
//! (topic names, tags, …) use the same functions, and their OpenAPI schema uses
//! the matching `*_PATTERN` below, so the document and the server agree.

use std::fmt;

/// OpenAPI pattern of a [`single_line`] value (empty allowed).
pub const SINGLE_LINE_PATTERN: &str =
    r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$";
/// OpenAPI pattern of a [`required_line`] value: single-line and not blank.
pub const REQUIRED_LINE_PATTERN: &str = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202a-\u202f\u205f\u2066-\u2069\u3000][^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$";
/// OpenAPI pattern of a [`multi_line`] value (empty allowed).
pub const MULTI_LINE_PATTERN: &str =
    r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$";
/// OpenAPI pattern of a [`multi_line`] value that must not be blank.
pub const REQUIRED_TEXT_PATTERN: &str = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202a-\u202f\u205f\u2066-\u2069\u3000][^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$";
/// OpenAPI pattern of a [`link`]: empty (none), or `http(s)://` and at least one
/// more character, none of them whitespace or forbidden.
pub const LINK_PATTERN: &str = r"^(https?://[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202a-\u202f\u205f\u2066-\u2069\u3000]+)?$";

/// Why a text field was refused. The message names the field and, for a
/// forbidden character, where it is, so the sender can find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    /// Longer than the field allows, in characters.
    TooLong { field: &'static str, max: usize },
    /// Empty, or only whitespace, where a value is required.
    Blank { field: &'static str },
    /// A character the field may not hold; `position` counts characters from 1.
    Forbidden {
        field: &'static str,
        position: usize,
        character: char,
        multi_line: bool,
    },
    /// A link that is not an `http://` or `https://` URL without spaces.
    NotALink { field: &'static str },
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::TooLong { field, max } => {
                write!(f, "{field} is longer than {max} characters")
            }
            TextError::Blank { field } => write!(f, "{field} must not be empty"),
            TextError::Forbidden {
                field,
                position,
                character,
                multi_line,
            } => {
                let allowed = if *multi_line {
                    "only printable text, tabs and newlines"
                } else {
                    "only printable text on one line"
                };
                write!(
                    f,
                    "{field} has a control character (U+{:04X}) at character {position}; \
                     {allowed} may be sent",
                    u32::from(*character)
                )
            }
            TextError::NotALink { field } => write!(
                f,
                "{field} must be an http:// or https:// URL without spaces"
            ),
        }
    }
}

impl std::error::Error for TextError {}

/// Whether `c` may never appear in any text field (see the module docs).
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// A one-line value of at most `max_chars` characters (empty allowed).
pub fn single_line(field: &'static str, value: &str, max_chars: usize) -> Result<(), TextError> {
    check(field, value, max_chars, false)
}

/// Text that may span lines: [`single_line`]'s rules, but tab and newline are allowed.
pub fn multi_line(field: &'static str, value: &str, max_chars: usize) -> Result<(), TextError> {
    check(field, value, max_chars, true)
}

/// A [`single_line`] value that is not blank; returns it trimmed, as stored.
pub fn required_line<'a>(
    field: &'static str,
    value: &'a str,
    max_chars: usize,
) -> Result<&'a str, TextError> {
    single_line(field, value, max_chars)?;
    not_blank(field, value)
}

/// A [`single_line`] value where blank means "none"; returns it trimmed.
pub fn optional_line<'a>(
    field: &'static str,
    value: &'a str,
    max_chars: usize,
) -> Result<Option<&'a str>, TextError> {
    single_line(field, value, max_chars)?;
    Ok(Some(value.trim()).filter(|v| !v.is_empty()))
}

/// `value` trimmed, unless nothing is left.
pub fn not_blank<'a>(field: &'static str, value: &'a str) -> Result<&'a str, TextError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(TextError::Blank { field });
    }
    Ok(trimmed)
}

/// A link people click: empty (none), or an `http://`/`https://` URL of at most
/// `max_chars` characters with no whitespace; returns `None` for empty.
pub fn link<'a>(
    field: &'static str,
    value: &'a str,
    max_chars: usize,
) -> Result<Option<&'a str>, TextError> {
    single_line(field, value, max_chars)?;
    if value.is_empty() {
        return Ok(None);
    }
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.chars().any(char::is_whitespace) => Ok(Some(value)),
        _ => Err(TextError::NotALink { field }),
    }
}

fn check(
    field: &'static str,
    value: &str,
    max_chars: usize,
    multi_line: bool,
) -> Result<(), TextError> {
    let mut count = 0;
    for c in value.chars() {
        count += 1;
        let allowed_here = multi_line && matches!(c, '\t' | '\n');
        if is_forbidden(c) && !allowed_here {
            return Err(TextError::Forbidden {
                field,
                position: count,
                character: c,
                multi_line,
            });
        }
    }
    if count > max_chars {
        return Err(TextError::TooLong {
            field,
            max: max_chars,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Characters each rule must refuse, and some it must let through.
    const HOSTILE: &[char] = &[
        '\0', '\u{7}', '\u{8}', '\u{b}', '\u{c}', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}',
        '\u{9f}', '\u{2028}', '\u{2029}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
    ];
    const FINE: &[&str] = &[
        "plan #42: 3 failed",
        "Zoë ✓ 日本 👍",
        "a\u{a0}b",
        "\u{200f}rtl mark",
    ];

    #[test]
    fn single_lines_refuse_every_control_character_and_name_its_position() {
        for &c in HOSTILE.iter().chain(&['\t', '\n']) {
            let value = format!("ab{c}d");
            let error = single_line("title", &value, 200).unwrap_err();
            assert_eq!(
                error,
                TextError::Forbidden {
                    field: "title",
                    position: 3,
                    character: c,
                    multi_line: false
                }
            );
            let message = error.to_string();
            assert!(message.starts_with("title "), "{message}");
            assert!(message.contains("at character 3"), "{message}");
        }
        for fine in FINE {
            single_line("title", fine, 200).unwrap();
        }
    }

    #[test]
    fn multi_line_text_allows_tabs_and_newlines_only() {
        multi_line("content", "line 1\n\tline 2\n", 100).unwrap();
        for &c in HOSTILE {
            let value = format!("x{c}");
            assert!(
                matches!(
                    multi_line("content", &value, 100),
                    Err(TextError::Forbidden { position: 2, .. })
                ),
                "{c:?} was let through"
            );
        }
    }

    #[test]
    fn lengths_count_characters_as_sent() {
        single_line("name", &"é".repeat(64), 64).unwrap();
        assert_eq!(
            single_line("name", &"é".repeat(65), 64),
            Err(TextError::TooLong {
                field: "name",
                max: 64
            })
        );
        // Trimming happens after the count: the limit is on what was sent.
        assert!(required_line("name", &format!(" {} ", "a".repeat(63)), 64).is_err());
        assert_eq!(required_line("name", "  bob ", 64), Ok("bob"));
        assert_eq!(
            required_line("name", " \u{a0} ", 64),
            Err(TextError::Blank { field: "name" })
        );
        assert_eq!(optional_line("category", "   ", 64), Ok(None));
    }

    #[test]
    fn links_are_http_urls_without_spaces() {
        assert_eq!(link("link", "", 10), Ok(None));
        assert_eq!(link("link", "https://x", 10), Ok(Some("https://x")));
        for bad in [
            "ftp://x",
            "https://",
            "https://a b",
            "javascript:alert(1)",
            "HTTPS://x",
        ] {
            assert_eq!(
                link("link", bad, 100),
                Err(TextError::NotALink { field: "link" }),
                "{bad}"
            );
        }
        assert!(matches!(
            link("link", "https://x/\u{1b}]52;c;", 100),
            Err(TextError::Forbidden { position: 11, .. })
        ));
    }

    /// The OpenAPI patterns say what the functions do: both accept and refuse
    /// the same samples.
    #[test]
    fn the_documented_patterns_agree_with_the_checks() {
        let pattern = |p: &str| regex::Regex::new(p).unwrap();
        let single = pattern(SINGLE_LINE_PATTERN);
        let required = pattern(REQUIRED_LINE_PATTERN);
        let multi = pattern(MULTI_LINE_PATTERN);
        let required_text = pattern(REQUIRED_TEXT_PATTERN);
        let links = pattern(LINK_PATTERN);
        let mut samples: Vec<String> = FINE.iter().map(|s| s.to_string()).collect();
        samples.extend(
            [
                "",
                " ",
                "\u{3000}",
                " x ",
                "\t",
                "a\nb",
                "\n",
                "http://a",
                "https://a b",
            ]
            .map(String::from),
        );
        samples.extend(["https://", "http://x\u{1b}", "https://x\u{a0}y"].map(String::from));
        samples.extend(HOSTILE.iter().map(|c| format!("a{c}b")));
        for s in &samples {
            let max = usize::MAX;
            assert_eq!(
                single.is_match(s),
                single_line("f", s, max).is_ok(),
                "{s:?}"
            );
            assert_eq!(
                required.is_match(s),
                required_line("f", s, max).is_ok(),
                "{s:?}"
            );
            assert_eq!(multi.is_match(s), multi_line("f", s, max).is_ok(), "{s:?}");
            let text_ok = multi_line("f", s, max)
                .and_then(|()| not_blank("f", s))
                .is_ok();
            assert_eq!(required_text.is_match(s), text_ok, "{s:?}");
            assert_eq!(links.is_match(s), link("f", s, max).is_ok(), "{s:?}");
        }
    }
}
