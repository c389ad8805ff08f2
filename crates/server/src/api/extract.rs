//! Request extractors whose failures answer in Herald's error shape.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use herald_protocol::{Role, TokenKind};
use herald_store::Principal;

use crate::service::accounts;
use crate::state::AppState;
use crate::Error;

/// JSON body; malformed, mistyped, unknown-field and oversized bodies become
/// `{"error":…}` answers.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType(
                "send the body as JSON with Content-Type: application/json".into(),
            ),
            _ => match rejection {
                JsonRejection::JsonSyntaxError(e) => {
                    Error::MalformedJson(format!("body is not valid JSON: {}", e.body_text()))
                }
                other => Error::BadRequest(other.body_text()),
            },
        }
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct Query<T>(pub T);

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::BadRequest(rejection.body_text())
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct Path<T>(pub T);

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Self {
        Error::BadRequest(rejection.body_text())
    }
}

/// The token from `Authorization: Bearer …`, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn principal(parts: &Parts, state: &AppState) -> Result<Principal, Error> {
    let token = bearer_token(&parts.headers).ok_or_else(|| {
        Error::Unauthorized("missing `Authorization: Bearer <token>`; log in first".into())
    })?;
    accounts::authenticate(state, token).await
}

/// Any valid token, including send-only ones: only publishing takes this.
pub struct Sender(pub Principal);

/// A session token: a user acting on their own data.
pub struct Session(pub Principal);

/// A session token of an admin.
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Sender {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        Ok(Sender(principal(parts, state).await?))
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let principal = principal(parts, state).await?;
        if principal.token.kind != TokenKind::Session {
            return Err(Error::Forbidden(
                "this token may only send notifications".into(),
            ));
        }
        Ok(Session(principal))
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let Session(principal) = Session::from_request_parts(parts, state).await?;
        if principal.user.role != Role::Admin {
            return Err(Error::Forbidden("only admins may manage users".into()));
        }
        Ok(Admin(principal))
    }
}

/// The client's address: the socket's peer, or the client a trusted reverse
/// proxy names (see `limits::ClientIps`). Per-address limits key on it.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        // The listener records every connection's peer; without one (a router
        // driven directly) all requests share the unspecified address.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        Ok(ClientIp(
            state.limits.client_ips.resolve(peer, &parts.headers),
        ))
    }
}
