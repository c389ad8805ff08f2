//! Local full-text search (SQLite FTS5) over what is cached.
//!
//! People type words, not FTS5 syntax, so the query is rebuilt from the words
//! they typed: every word must match, each is quoted (a `-`, `"` or `OR` in the
//! input is text, never an operator) and the last one matches as a prefix, so
//! results appear while typing.

use herald_protocol::Notification;

use crate::views::ChatMessage;
use rusqlite::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use super::notifications::from_row;
use crate::error::Result;

/// Marks where a match starts and ends inside FTS5's snippet; private-use
/// characters, which real text does not contain.
const MATCH_START: char = '\u{E000}';
const MATCH_END: char = '\u{E001}';

/// Words of context around a match in a snippet.
const SNIPPET_TOKENS: u32 = 12;

/// A piece of a snippet: `matched` pieces are what the query found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SnippetPart {
    pub text: String,
    pub matched: bool,
}

/// A notification that matches a search, with where it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NotificationHit {
    pub notification: Notification,
    /// The best-matching stretch of the title or content, split into parts so a
    /// window can highlight matches without parsing (or trusting) markup.
    pub snippet: Vec<SnippetPart>,
}

/// The FTS5 query for what a person typed; `None` when it has no words.
pub(crate) fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    let mut query = words.join(" ");
    if query.is_empty() {
        return None;
    }
    query.push('*');
    Some(query)
}

/// Best matches first (a match in the title counts more than one in the content),
/// newest first among equals.
pub(crate) fn notifications(
    conn: &Connection,
    input: &str,
    limit: u32,
) -> Result<Vec<NotificationHit>> {
    let Some(query) = fts_query(input) else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT n.id, n.kind, n.category, n.title, n.content, n.link, n.priority, n.desktop,
                n.sender, n.created_at, n.read,
                snippet(notifications_fts, -1, '{MATCH_START}', '{MATCH_END}', '…', {SNIPPET_TOKENS})
         FROM notifications_fts
         JOIN notifications n ON n.id = notifications_fts.rowid
         WHERE notifications_fts MATCH ?1 AND n.hidden = 0
         ORDER BY bm25(notifications_fts, 4.0, 1.0), n.id DESC
         LIMIT ?2"
    );
    let hits = conn
        .prepare_cached(&sql)?
        .query_map((query, limit), |row| {
            let snippet: String = row.get(11)?;
            Ok(NotificationHit {
                notification: from_row(row)?,
                snippet: split_snippet(&snippet),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(hits)
}

/// A chat message that matches a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MessageHit {
    pub message: ChatMessage,
    pub snippet: Vec<SnippetPart>,
}

/// Best matches first, newest first among equals.
pub(crate) fn messages(conn: &Connection, input: &str, limit: u32) -> Result<Vec<MessageHit>> {
    let Some(query) = fts_query(input) else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT m.local_id, m.id, m.conversation_id, m.peer, m.sender, m.content, m.client_id,
                m.created_at, m.state,
                snippet(messages_fts, -1, '{MATCH_START}', '{MATCH_END}', '…', {SNIPPET_TOKENS})
         FROM messages_fts
         JOIN messages m ON m.local_id = messages_fts.rowid
         WHERE messages_fts MATCH ?1 AND m.hidden = 0
         ORDER BY bm25(messages_fts), m.local_id DESC
         LIMIT ?2"
    );
    let hits = conn
        .prepare_cached(&sql)?
        .query_map((query, limit), |row| {
            let snippet: String = row.get(9)?;
            Ok(MessageHit {
                message: super::chat::message_from_row(row)?,
                snippet: split_snippet(&snippet),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(hits)
}

fn split_snippet(marked: &str) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut matched = false;
    for c in marked.chars() {
        let toggle = match c {
            MATCH_START => Some(true),
            MATCH_END => Some(false),
            _ => None,
        };
        match toggle {
            Some(next) => {
                if !text.is_empty() {
                    parts.push(SnippetPart {
                        text: std::mem::take(&mut text),
                        matched,
                    });
                }
                matched = next;
            }
            None => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(SnippetPart { text, matched });
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_a_quoted_prefix_query() {
        assert_eq!(
            fts_query("deploy fail").as_deref(),
            Some("\"deploy\" \"fail\"*")
        );
        assert_eq!(fts_query("  ").as_deref(), None);
        assert_eq!(fts_query("- \"").as_deref(), None);
        assert_eq!(
            fts_query("plan-42 OR \"x").as_deref(),
            Some("\"plan-42\" \"OR\" \"\"\"x\"*")
        );
    }

    #[test]
    fn snippets_split_into_matched_and_plain_parts() {
        let marked = format!("a {MATCH_START}deploy{MATCH_END} failed");
        assert_eq!(
            split_snippet(&marked),
            vec![
                SnippetPart {
                    text: "a ".into(),
                    matched: false
                },
                SnippetPart {
                    text: "deploy".into(),
                    matched: true
                },
                SnippetPart {
                    text: " failed".into(),
                    matched: false
                },
            ]
        );
    }
}
