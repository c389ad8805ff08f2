//! The REST API: one module per resource, all routes under `/api/v1`.

mod auth;
mod body;
mod contacts;
mod conversations;
mod events;
pub mod extract;
mod health;
mod messages;
mod notifications;
mod openapi;
mod rooms;
mod tokens;
mod users;
mod ws;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post};
use axum::{middleware, Router};
use herald_protocol::MAX_BODY_BYTES;

use crate::state::AppState;
use crate::{metrics, Error};

pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/users", get(users::search).post(users::create))
        .route("/users/{id}", patch(users::update).delete(users::delete))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", delete(tokens::delete))
        .route(
            "/notifications",
            get(notifications::list).post(notifications::send),
        )
        .route("/notifications/counts", get(notifications::counts))
        .route("/notifications/read", post(notifications::read))
        .route("/notifications/unread", post(notifications::unread))
        .route("/notifications/delete", post(notifications::delete_many))
        .route("/notifications/{id}", delete(notifications::delete_one))
        .route("/contacts", get(contacts::list).post(contacts::add))
        .route("/contacts/{username}", delete(contacts::remove))
        .route("/conversations", get(conversations::list))
        .route("/conversations/{id}/messages", get(conversations::messages))
        .route("/conversations/{id}/read", post(conversations::read))
        .route("/messages", post(messages::send))
        .route("/messages/sent", get(messages::sent))
        .route("/messages/received", get(messages::received))
        .route("/messages/delete", post(messages::delete_many))
        .route("/messages/{id}", delete(messages::delete_one))
        .route("/rooms", get(rooms::list).post(rooms::create))
        .route("/rooms/{id}/members", post(rooms::add_member))
        .route(
            "/rooms/{id}/members/{username}",
            delete(rooms::remove_member),
        )
        .route("/events", get(events::poll))
        .route("/ws", get(ws::upgrade))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics));
    Router::new()
        .nest("/api/v1", v1)
        .route("/api/openapi.json", get(openapi::document))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route_layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            body::read_within_deadline,
        ))
        .with_state(state)
}

async fn not_found() -> Error {
    Error::NotFound("route".into())
}

async fn method_not_allowed() -> (
    axum::http::StatusCode,
    extract::Json<herald_protocol::ErrorBody>,
) {
    (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        extract::Json(herald_protocol::ErrorBody {
            error: herald_protocol::ErrorDetail {
                code: "method_not_allowed".into(),
                message: "this route does not take that method".into(),
            },
        }),
    )
}
