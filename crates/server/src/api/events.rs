//! `/events`: the stream for clients without WebSocket.

use axum::extract::State;
use herald_protocol::{EventsPage, EventsQuery};

use super::extract::{Json, Query, Session};
use crate::service::events;
use crate::state::AppState;
use crate::Result;

/// Events after `since`; with `wait`, holds the request up to that many seconds
/// (at most 60) until one arrives.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery),
    security(("bearer" = [])), responses((status = 200, body = EventsPage)))]
pub async fn poll(
    State(state): State<AppState>,
    Session(me): Session,
    Query(query): Query<EventsQuery>,
) -> Result<Json<EventsPage>> {
    Ok(Json(events::poll(&state, me.user.id, query).await?))
}
