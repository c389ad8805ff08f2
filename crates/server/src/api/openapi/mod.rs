//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    auth, contacts, conversations, events, extract::Json, health, messages, notifications, rooms,
    tokens, users,
};
use crate::ws;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Herald",
        description = "Self-hosted notifications and chat. WebSocket frames are listed as the \
                       ServerFrame and ClientFrame schemas; docs/protocol.md has examples."
    ),
    paths(
        auth::register, auth::login, auth::logout, auth::me,
        users::search, users::create, users::update, users::delete,
        tokens::create, tokens::list, tokens::delete,
        notifications::send, notifications::list, notifications::counts,
        notifications::read, notifications::unread, notifications::delete_many,
        notifications::delete_one,
        contacts::list, contacts::add, contacts::remove,
        conversations::list, conversations::messages, conversations::read,
        messages::send, messages::delete_one, messages::delete_many, messages::sent,
        messages::received,
        rooms::create, rooms::list, rooms::add_member, rooms::remove_member,
        events::poll, ws::upgrade, health::healthz, health::metrics,
    ),
    components(schemas(herald_protocol::ServerFrame, herald_protocol::ClientFrame)),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
