//! The OpenAPI document at `/api/openapi.json`.
//!
//! Most of it is generated from the handlers' `#[utoipa::path]` annotations and
//! the protocol types' `ToSchema` derives. What those cannot say is added to the
//! generated JSON by two passes, so the document states every rule the server
//! enforces and every answer it can give:
//! - [`constraints`]: the text rules (patterns and lengths, from the same
//!   constants the server checks with) and the rules that tie fields together
//!   ("`to` or `broadcast: true`");
//! - [`responses`]: the error answers each operation can give because of its
//!   shape (a body: 400, 413, 415; a token: 401, 403; storage: 500, 503), as
//!   shared response objects.
//!
//! The document is built once and served as bytes.

mod constraints;
mod responses;

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use serde_json::Value;
use utoipa::OpenApi;

use super::{
    auth, contacts, conversations, events, health, messages, notifications, rooms, tokens, users,
    ws,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Herald",
        description = "Self-hosted notifications and chat. WebSocket frames are listed as the \
                       ServerFrame and ClientFrame schemas; docs/protocol.md has examples and \
                       the table of limits."
    ),
    paths(
        auth::register,
        auth::login,
        auth::logout,
        auth::me,
        users::search,
        users::create,
        users::update,
        users::delete,
        tokens::create,
        tokens::list,
        tokens::delete,
        notifications::send,
        notifications::list,
        notifications::counts,
        notifications::read,
        notifications::unread,
        notifications::delete_many,
        notifications::delete_one,
        contacts::list,
        contacts::add,
        contacts::remove,
        conversations::list,
        conversations::messages,
        conversations::read,
        messages::send,
        messages::delete_one,
        messages::delete_many,
        messages::sent,
        messages::received,
        rooms::create,
        rooms::list,
        rooms::add_member,
        rooms::remove_member,
        events::poll,
        ws::upgrade,
        health::healthz,
        health::metrics,
        document,
    ),
    components(schemas(
        herald_protocol::ServerFrame,
        herald_protocol::ClientFrame,
        herald_protocol::StatusFilter,
    ))
)]
struct ApiDoc;

/// The whole document as JSON, with the passes applied.
pub fn spec() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serializes");
    doc["components"]["securitySchemes"] = serde_json::json!({
        "bearer": {"type": "http", "scheme": "bearer",
                   "description": "A session token from `POST /api/v1/auth/login`, or a send-only token from `POST /api/v1/tokens`."}
    });
    constraints::apply(&mut doc);
    responses::apply(&mut doc);
    doc
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "the OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn document() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| spec().to_string());
    ([(header::CONTENT_TYPE, "application/json")], body.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `"$ref"` in `value`, with where it was found.
    fn refs<'a>(value: &'a Value, at: String, found: &mut Vec<(String, &'a str)>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    match (key.as_str(), child) {
                        ("$ref", Value::String(target)) => found.push((at.clone(), target)),
                        _ => refs(child, format!("{at}/{key}"), found),
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    refs(child, format!("{at}/{i}"), found);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves() {
        let doc = spec();
        let mut found = Vec::new();
        refs(&doc, String::new(), &mut found);
        assert!(found.len() > 50, "the walk found the references");
        for (at, target) in found {
            let pointer = target.strip_prefix('#').unwrap_or_else(|| {
                panic!("{at}: {target} points outside the document");
            });
            assert!(
                doc.pointer(pointer).is_some(),
                "{at}: {target} does not resolve"
            );
        }
    }

    #[test]
    fn query_parameters_are_in_the_query_and_optional() {
        let doc = spec();
        let list = &doc["paths"]["/api/v1/notifications"]["get"]["parameters"];
        let params = list.as_array().expect("parameters");
        assert!(params.len() >= 6, "{list}");
        for param in params {
            assert_eq!(param["in"], "query", "{param}");
            assert_ne!(param["required"], true, "{param}");
        }
    }
}
