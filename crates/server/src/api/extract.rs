//! Request extractors whose failures answer in Herald's error shape.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use herald_protocol::{Role, TokenKind};
use herald_store::Principal;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::Deserializer;
use serde_json::Value;

use crate::service::accounts;
use crate::state::AppState;
use crate::Error;

/// JSON body; malformed, mistyped, unknown-field and oversized bodies become
/// `{"error":…}` answers.
///
/// Two readings differ from serde's and follow JSON's (and so the OpenAPI
/// document's): a body must be an object (serde would also fill a struct from
/// an array, `[null, null]`), and a whole number written with a fraction
/// (`274.0`) is that integer. The second costs a second parse, paid only by a
/// body that failed the first.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        if !is_json(request.headers()) {
            return Err(Error::UnsupportedMediaType(
                "send the body as JSON with Content-Type: application/json".into(),
            ));
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
                    _ => Error::BadRequest(rejection.body_text()),
                })?;
        match axum::Json::<Object<T>>::from_bytes(&bytes) {
            Ok(axum::Json(Object(value))) => Ok(Json(value)),
            Err(rejection) => {
                let whole = serde_json::from_slice::<Value>(&bytes)
                    .ok()
                    .and_then(integral_floats_as_integers);
                match whole.map(serde_json::from_value::<Object<T>>) {
                    Some(Ok(Object(value))) => Ok(Json(value)),
                    _ => Err(rejection.into()),
                }
            }
        }
    }
}

/// `application/json` or any `application/*+json`, as `axum::Json` accepts.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// `value` with every whole-number float (`2.0`) as an integer, or `None` when
/// it has none (then it would fail the same way again).
fn integral_floats_as_integers(mut value: Value) -> Option<Value> {
    fn walk(value: &mut Value, changed: &mut bool) {
        match value {
            Value::Number(n) if n.is_f64() => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                // Beyond 2^53 a float no longer names one integer.
                if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 {
                    *value = Value::from(f as i64);
                    *changed = true;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, changed)),
            Value::Object(map) => map.values_mut().for_each(|v| walk(v, changed)),
            _ => {}
        }
    }
    let mut changed = false;
    walk(&mut value, &mut changed);
    changed.then_some(value)
}

/// A `T` read only from a JSON object.
struct Object<T>(T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: serde::Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let value = T::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Object(value))
            }
        }

        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}

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
