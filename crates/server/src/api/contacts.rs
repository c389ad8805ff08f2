//! `/contacts`: the caller's people, with presence.

use axum::extract::State;
use axum::http::StatusCode;
use herald_protocol::{Contact, ErrorBody, UsernameRequest};

use super::extract::{Json, Path, Session};
use crate::service::contacts;
use crate::state::AppState;
use crate::Result;

/// The caller's contacts by username, each with `online`.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts",
    security(("bearer" = [])), responses((status = 200, body = [Contact])))]
pub async fn list(
    State(state): State<AppState>,
    Session(me): Session,
) -> Result<Json<Vec<Contact>>> {
    Ok(Json(contacts::list(&state, &me.user).await?))
}

/// Add a contact by username: 201 when new, 200 when they already were one.
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts",
    request_body = UsernameRequest, security(("bearer" = [])),
    responses((status = 201, body = Contact), (status = 200, body = Contact),
              (status = 422, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    Session(me): Session,
    Json(request): Json<UsernameRequest>,
) -> Result<(StatusCode, Json<Contact>)> {
    let (contact, added) = contacts::add(&state, &me.user, &request.username).await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(contact)))
}

/// Remove a contact by username.
#[utoipa::path(delete, path = "/api/v1/contacts/{username}", tag = "contacts",
    params(("username" = herald_protocol::Username, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Session(me): Session,
    Path(username): Path<String>,
) -> Result<StatusCode> {
    contacts::remove(&state, &me.user, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}
