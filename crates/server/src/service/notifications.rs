//! Sending, listing and changing the state of notifications.

use herald_protocol::{
    text, validate_username, ChangeResult, Counts, ListNotificationsQuery, MarkRequest,
    Notification, Page, Role, SendNotification, SendResult, ServerFrame, UserId,
    DEFAULT_PAGE_LIMIT, DEFAULT_PRIORITY, MAX_CATEGORY_CHARS, MAX_CONTENT_CHARS,
    MAX_IDS_PER_REQUEST, MAX_LINK_CHARS, MAX_PAGE_LIMIT, MAX_RECIPIENTS, MAX_TITLE_CHARS,
    PRIORITY_RANGE,
};
use herald_store::{Audience, ListFilter, MarkTarget, NewNotification, Principal};
use time::{Duration, OffsetDateTime};

use crate::state::AppState;
use crate::{Error, Result};

pub async fn send(
    state: &AppState,
    sender: &Principal,
    request: SendNotification,
) -> Result<SendResult> {
    state.limits.sends.publish(sender, &state.metrics)?;
    let new = validate(sender, request.clone())?;
    if request.persist {
        let inserted = state.store.insert_notification(new).await?;
        return Ok(SendResult {
            id: Some(inserted.notification.id),
            recipients: inserted.recipients,
        });
    }
    // Ephemeral: a popup for whoever is connected now, stored nowhere.
    let frame = ServerFrame::Desktop {
        title: new.title,
        content: new.content,
        link: new.link,
        priority: new.priority,
        id: None,
    };
    match new.audience {
        Audience::Broadcast => {
            state.fanout.push(None, &frame);
            // Everyone connected here, plus those only other nodes have.
            let elsewhere = state.presence.online_elsewhere();
            let only_elsewhere = elsewhere
                .into_iter()
                .filter(|&user| state.hub.connections_of(user) == 0)
                .count();
            Ok(SendResult {
                id: None,
                recipients: (state.hub.connected_users() + only_elsewhere) as i64,
            })
        }
        Audience::Users(names) => {
            let ids = resolve_active(state, &names).await?;
            state.fanout.push(Some(&ids), &frame);
            Ok(SendResult {
                id: None,
                recipients: ids.len() as i64,
            })
        }
    }
}

async fn resolve_active(state: &AppState, names: &[String]) -> Result<Vec<UserId>> {
    let mut ids = Vec::with_capacity(names.len());
    let mut unknown = Vec::new();
    for name in names {
        match state.store.user_by_name(name).await? {
            Some(record) if !record.user.disabled => ids.push(record.user.id),
            _ => unknown.push(name.clone()),
        }
    }
    if !unknown.is_empty() {
        return Err(Error::UnknownUsers(unknown));
    }
    Ok(ids)
}

/// Checks a send request completely before anything is stored or pushed.
fn validate(sender: &Principal, request: SendNotification) -> Result<NewNotification> {
    let audience = match (request.to, request.broadcast) {
        (Some(_), true) => {
            return Err(Error::BadRequest(
                "give either `to` or `broadcast: true`, not both".into(),
            ))
        }
        (None, false) => {
            return Err(Error::BadRequest(
                "say who gets it: `to: [usernames]` or `broadcast: true`".into(),
            ))
        }
        (None, true) => {
            if sender.user.role != Role::Admin {
                return Err(Error::Forbidden("only admins may broadcast".into()));
            }
            Audience::Broadcast
        }
        (Some(to), false) => {
            if to.is_empty() {
                return Err(Error::BadRequest("`to` names no recipient".into()));
            }
            if to.len() > MAX_RECIPIENTS {
                return Err(Error::BadRequest(format!(
                    "at most {MAX_RECIPIENTS} recipients per notification"
                )));
            }
            for name in &to {
                validate_username(name).map_err(Error::BadRequest)?;
            }
            let mut to = to;
            to.sort();
            to.dedup();
            Audience::Users(to)
        }
    };
    let title = text::required_line("title", &request.title, MAX_TITLE_CHARS)?.to_owned();
    text::multi_line("content", &request.content, MAX_CONTENT_CHARS)?;
    let priority = request.priority.unwrap_or(DEFAULT_PRIORITY);
    if !PRIORITY_RANGE.contains(&priority) {
        return Err(Error::BadRequest("priority must be between 1 and 5".into()));
    }
    let link = match &request.link {
        Some(link) => text::link("link", link, MAX_LINK_CHARS)?.map(str::to_owned),
        None => None,
    };
    let category = match &request.category {
        Some(c) => text::optional_line("category", c, MAX_CATEGORY_CHARS)?.map(str::to_owned),
        None => None,
    };
    if !request.persist && !request.desktop {
        return Err(Error::BadRequest(
            "`persist: false` is only for desktop pushes (`desktop: true`)".into(),
        ));
    }
    Ok(NewNotification {
        audience,
        category,
        title,
        content: request.content,
        link,
        priority,
        desktop: request.desktop,
        sender: Some((sender.user.id, sender.user.username.clone())),
    })
}

pub async fn list(
    state: &AppState,
    user_id: UserId,
    query: ListNotificationsQuery,
) -> Result<Page<Notification>> {
    let before_id = id_cursor(query.cursor)?;
    if let Some(category) = &query.category {
        text::single_line("category", category, MAX_CATEGORY_CHARS)?;
    }
    let days = query.days.unwrap_or(state.config.retention_days);
    if days == 0 || days > 3650 {
        return Err(Error::BadRequest("days must be between 1 and 3650".into()));
    }
    let filter = ListFilter {
        status: query.status,
        kind: query.kind,
        category: query.category,
        before_id,
        since: OffsetDateTime::now_utc() - Duration::days(days.into()),
        limit: page_limit(query.limit)?,
    };
    Ok(state.store.list_notifications(user_id, filter).await?)
}

/// The user's unread counts, for the badge and the tabs.
pub async fn counts(state: &AppState, user_id: UserId) -> Result<Counts> {
    Ok(state.store.counts(user_id).await?.0)
}

/// The id an id-ordered list continues below (its `next_cursor`): a positive
/// number of at most 18 digits, as the OpenAPI document says (`^[1-9][0-9]{0,17}$`).
pub fn id_cursor(cursor: Option<String>) -> Result<Option<i64>> {
    cursor
        .map(|c| {
            cursor_number(&c)
                .filter(|id| *id > 0 && !c.starts_with('0'))
                .ok_or_else(|| Error::BadRequest(format!("invalid cursor {c:?}")))
        })
        .transpose()
}

/// 1 to 18 ASCII digits (every id and time fits, and no sign or overflow
/// needs explaining), else `None`.
pub fn cursor_number(text: &str) -> Option<i64> {
    let digits = (1..=18).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten()
}

/// `limit` within 1..=200, 50 when absent.
pub fn page_limit(limit: Option<u32>) -> Result<u32> {
    match limit {
        None => Ok(DEFAULT_PAGE_LIMIT),
        Some(n) if (1..=MAX_PAGE_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(Error::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE_LIMIT}"
        ))),
    }
}

pub fn mark_target(request: MarkRequest) -> Result<MarkTarget> {
    match (request.ids, request.all) {
        (Some(_), true) => Err(Error::BadRequest(
            "give either `ids` or `all: true`, not both".into(),
        )),
        (None, false) => Err(Error::BadRequest("give `ids: [...]` or `all: true`".into())),
        (None, true) => Ok(MarkTarget::All(request.kind.unwrap_or_default())),
        (Some(ids), false) => {
            if request.kind.is_some() {
                return Err(Error::BadRequest(
                    "`kind` only goes with `all: true`".into(),
                ));
            }
            Ok(MarkTarget::Ids(checked_ids(ids)?))
        }
    }
}

pub fn checked_ids(ids: Vec<i64>) -> Result<Vec<i64>> {
    if ids.is_empty() {
        return Err(Error::BadRequest("`ids` is empty".into()));
    }
    if ids.len() > MAX_IDS_PER_REQUEST {
        return Err(Error::BadRequest(format!(
            "at most {MAX_IDS_PER_REQUEST} ids per request"
        )));
    }
    Ok(ids)
}

pub async fn mark(
    state: &AppState,
    user_id: UserId,
    request: MarkRequest,
    read: bool,
) -> Result<ChangeResult> {
    let target = mark_target(request)?;
    let changed = state.store.mark(user_id, target, read).await?;
    Ok(ChangeResult { changed })
}

pub async fn delete(state: &AppState, user_id: UserId, ids: Vec<i64>) -> Result<ChangeResult> {
    let ids = checked_ids(ids)?;
    let changed = state
        .store
        .delete_notifications(user_id, herald_protocol::DeleteRequest { ids })
        .await?;
    Ok(ChangeResult { changed })
}
