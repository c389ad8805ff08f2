//! Sending one outbox action to the server and classifying the answer.
//!
//! The answer decides the action's fate: done (the overlay stays until the
//! server's event arrives), refused (dropped, the overlay undone), or failed for
//! a reason that may pass (kept, retried later). A 404 means some ids are no
//! longer the user's (deleted on another device, or expired): those rows are
//! dropped here too, and the rest of the action is sent id by id.

use herald_protocol::{
    ConversationId, DeleteMessages, KindFilter, MarkRequest, Message, MessageId, NotificationId,
    SendMessage, MAX_IDS_PER_REQUEST,
};
use reqwest::StatusCode;
use rusqlite::Connection;

use crate::api::Api;
use crate::cache::notifications::kind_value;
use crate::error::{Error, Result};
use crate::views::Action;

/// The requests one action turns into.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Mark {
        ids: Vec<NotificationId>,
        read: bool,
    },
    MarkAll {
        kind: KindFilter,
    },
    Delete {
        ids: Vec<NotificationId>,
    },
    Send(SendMessage),
    ReadConversation {
        conversation_id: ConversationId,
        up_to: MessageId,
    },
    DeleteMessages {
        ids: Vec<MessageId>,
        for_everyone: Option<bool>,
    },
    /// Nothing left to send (e.g. "mark all read" of what is already read).
    Nothing,
}

/// How sending an action went.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The server applied it. `gone`: ids it no longer knows for this user;
    /// `message`: the message a send stored.
    Done {
        changed: i64,
        gone: Vec<i64>,
        message: Option<Message>,
    },
    /// The server said no and will keep saying no.
    Refused(String),
    /// Not sent or no answer (offline, server error): try again later.
    Failed(Error),
}

/// Turns an action into requests, with what the cache knows now. "Mark all
/// read" becomes `{all: true}` unless something unread arrived after the user
/// clicked: then only what they saw is marked, by id.
pub(crate) fn plan(conn: &Connection, action: &Action) -> Result<Plan> {
    Ok(match action {
        Action::MarkRead { ids } => Plan::Mark {
            ids: ids.clone(),
            read: true,
        },
        Action::MarkUnread { ids } => Plan::Mark {
            ids: ids.clone(),
            read: false,
        },
        Action::Delete { ids } => Plan::Delete { ids: ids.clone() },
        Action::SendMessage {
            client_id,
            to,
            room,
            content,
        } => Plan::Send(SendMessage {
            to: to.clone(),
            room: *room,
            content: content.clone(),
            client_id: client_id.clone(),
        }),
        Action::ReadConversation {
            conversation_id,
            up_to,
        } => Plan::ReadConversation {
            conversation_id: *conversation_id,
            up_to: *up_to,
        },
        Action::DeleteMessages { ids, for_everyone } => Plan::DeleteMessages {
            ids: ids.clone(),
            for_everyone: *for_everyone,
        },
        Action::MarkAllRead { kind, up_to } => {
            let kind_sql = kind_value(*kind);
            let newer_unread: bool = conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM notifications
                     WHERE id > ?1 AND (?2 IS NULL OR kind = ?2) AND server_read = 0)",
                )?
                .query_row((up_to, kind_sql), |r| r.get(0))?;
            if !newer_unread {
                Plan::MarkAll { kind: *kind }
            } else {
                // Every id the user saw, read or not: the read flags here may
                // not show the echo of actions sent just before this one yet
                // (an "unread" a moment ago), and marking a read one again
                // changes nothing on the server.
                let ids: Vec<NotificationId> = conn
                    .prepare_cached(
                        "SELECT id FROM notifications
                         WHERE id <= ?1 AND (?2 IS NULL OR kind = ?2) AND hidden = 0",
                    )?
                    .query_map((up_to, kind_sql), |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                if ids.is_empty() {
                    Plan::Nothing
                } else {
                    Plan::Mark { ids, read: true }
                }
            }
        }
    })
}

pub(crate) async fn send(api: &Api, plan: Plan) -> Outcome {
    let mut sent = None;
    let result = match plan {
        Plan::Nothing => Ok((0, Vec::new())),
        Plan::MarkAll { kind } => {
            let request = MarkRequest {
                ids: None,
                all: true,
                kind: Some(kind),
            };
            api.mark_read(&request)
                .await
                .map(|r| (r.changed, Vec::new()))
        }
        Plan::Mark { ids, read } => mark(api, &ids, read).await,
        Plan::Delete { ids } => delete(api, &ids).await,
        // The same client_id again returns the first message: a resend after a
        // lost answer stores nothing twice.
        Plan::Send(request) => api.send_message(&request).await.map(|message| {
            sent = Some(message);
            (1, Vec::new())
        }),
        Plan::ReadConversation {
            conversation_id,
            up_to,
        } => api
            .read_conversation(conversation_id, up_to)
            .await
            .map(|r| (r.changed, Vec::new())),
        Plan::DeleteMessages { ids, for_everyone } => {
            delete_messages(api, &ids, for_everyone).await
        }
    };
    match result {
        Ok((changed, gone)) => Outcome::Done {
            changed,
            gone,
            message: sent,
        },
        Err(e) if may_pass(&e) => Outcome::Failed(e),
        Err(e) => Outcome::Refused(e.to_string()),
    }
}

/// Whether the same request may succeed later unchanged.
fn may_pass(err: &Error) -> bool {
    match err {
        Error::Unreachable { .. }
        | Error::Http { .. }
        | Error::WebSocket(_)
        | Error::UnexpectedResponse { .. }
        // A revoked token: the engine stops on it; after a new login of the same
        // account the action is still worth sending.
        | Error::Unauthorized { .. } => true,
        Error::Server { status, .. } => {
            status.is_server_error()
                || *status == StatusCode::TOO_MANY_REQUESTS
                || *status == StatusCode::REQUEST_TIMEOUT
        }
        _ => false,
    }
}

async fn mark(api: &Api, ids: &[NotificationId], read: bool) -> Result<(i64, Vec<NotificationId>)> {
    let call = |ids: Vec<NotificationId>| {
        let request = MarkRequest {
            ids: Some(ids),
            ..MarkRequest::default()
        };
        async move {
            if read {
                api.mark_read(&request).await
            } else {
                api.mark_unread(&request).await
            }
        }
    };
    let mut changed = 0;
    let mut gone = Vec::new();
    for chunk in ids.chunks(MAX_IDS_PER_REQUEST) {
        match call(chunk.to_vec()).await {
            Ok(result) => changed += result.changed,
            // All or nothing on the server: find out which ids are gone.
            Err(Error::NotFound { .. }) => {
                for &id in chunk {
                    match call(vec![id]).await {
                        Ok(result) => changed += result.changed,
                        Err(Error::NotFound { .. }) => gone.push(id),
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok((changed, gone))
}

async fn delete(api: &Api, ids: &[NotificationId]) -> Result<(i64, Vec<NotificationId>)> {
    let mut changed = 0;
    let mut gone = Vec::new();
    for chunk in ids.chunks(MAX_IDS_PER_REQUEST) {
        match api.delete_notifications(chunk).await {
            Ok(result) => changed += result.changed,
            Err(Error::NotFound { .. }) => {
                for &id in chunk {
                    match api.delete_notification(id).await {
                        Ok(()) => changed += 1,
                        // Already gone: exactly what the user wanted.
                        Err(Error::NotFound { .. }) => gone.push(id),
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok((changed, gone))
}

async fn delete_messages(
    api: &Api,
    ids: &[MessageId],
    for_everyone: Option<bool>,
) -> Result<(i64, Vec<MessageId>)> {
    let mut changed = 0;
    let mut gone = Vec::new();
    for chunk in ids.chunks(MAX_IDS_PER_REQUEST) {
        let request = DeleteMessages {
            ids: chunk.to_vec(),
            for_everyone,
        };
        match api.delete_messages(&request).await {
            Ok(result) => changed += result.changed,
            Err(Error::NotFound { .. }) => {
                for &id in chunk {
                    match api.delete_message(id, for_everyone).await {
                        Ok(()) => changed += 1,
                        Err(Error::NotFound { .. }) => gone.push(id),
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok((changed, gone))
}
