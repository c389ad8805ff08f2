//! `Api`: Herald's REST API as async methods returning protocol types.
//!
//! One method per route, no printing and no knowledge of the CLI, so the desktop
//! app's sync engine can use the same client. Error bodies become [`Error`] variants
//! carrying the server's own message.

use std::time::Duration;

use herald_protocol::{
    ChangeResult, Contact, Conversation, ConversationId, Counts, CreateTokenRequest,
    CreateUserRequest, CreatedToken, DeleteMessageQuery, DeleteMessages, DeleteRequest, ErrorBody,
    EventsPage, EventsQuery, FoundUser, HistoryQuery, ListConversationsQuery,
    ListNotificationsQuery, LoginRequest, LoginResponse, MarkRequest, Message, MessageId,
    Notification, NotificationId, Page, ReadConversation, SendMessage, SendNotification,
    SendResult, TokenInfo, UpdateUserRequest, User, UserId, UserSearchQuery, UsernameRequest,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{root_cause, Error, Result};

/// How long to wait for a TCP/TLS connection before calling the server unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound for an ordinary request; long-polls get their `wait` on top.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Path prefix of every REST route.
const API_PREFIX: &str = "/api/v1";

/// A REST client bound to one server and (optionally) one token.
///
/// Cheap to clone: `reqwest::Client` shares its connection pool between clones.
#[derive(Debug, Clone)]
pub struct Api {
    /// Shared connection pool; keeping one per `Api` lets requests reuse connections.
    http: reqwest::Client,
    /// Normalized server URL (see [`normalize_server_url`]); routes are appended to it.
    server: String,
    /// Bearer token; `None` only for calls made before login.
    token: Option<String>,
}

/// Turns what a person typed (`http://host:8080/`, `https://host/api/v1`) into the
/// base URL the client works with, so that saved and given URLs compare equal.
pub fn normalize_server_url(url: &str) -> Result<String> {
    let trimmed = url.trim();
    let lower = trimmed.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(Error::Usage(format!(
            "invalid server URL {trimmed:?}: it must start with http:// or https://"
        )));
    }
    let mut base = trimmed.trim_end_matches('/');
    if let Some(stripped) = base.strip_suffix(API_PREFIX) {
        base = stripped.trim_end_matches('/');
    }
    let host = &base[base.find("://").map_or(0, |i| i + 3)..];
    if host.is_empty() {
        return Err(Error::Usage(format!(
            "invalid server URL {trimmed:?}: it names no host"
        )));
    }
    reqwest::Url::parse(base)
        .map_err(|e| Error::Usage(format!("invalid server URL {trimmed:?}: {e}")))?;
    Ok(base.to_string())
}

impl Api {
    /// A client for `server` (any form [`normalize_server_url`] accepts).
    pub fn new(server: &str, token: Option<String>) -> Result<Self> {
        let server = normalize_server_url(server)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("herald-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| Error::Http {
                what: "client setup".into(),
                source,
            })?;
        Ok(Self {
            http,
            server,
            token,
        })
    }

    /// The same server and connection pool with another token (e.g. after login).
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Self {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    /// The normalized base URL, e.g. `http://127.0.0.1:8080`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The bearer token, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The WebSocket URL of this server (`ws://` for `http://`, `wss://` for `https://`).
    pub fn ws_url(&self) -> String {
        let rest = self
            .server
            .strip_prefix("https://")
            .map(|r| format!("wss://{r}"))
            .or_else(|| {
                self.server
                    .strip_prefix("http://")
                    .map(|r| format!("ws://{r}"))
            })
            .unwrap_or_else(|| self.server.clone());
        format!("{rest}{API_PREFIX}/ws")
    }

    // ----- accounts -----

    /// `POST /auth/login`: exchanges a password for a session token.
    pub async fn login(&self, req: &LoginRequest) -> Result<LoginResponse> {
        self.call(Method::POST, "/auth/login", Some(req)).await
    }

    /// `POST /auth/logout`: revokes the current session token.
    pub async fn logout(&self) -> Result<()> {
        self.call_empty(Method::POST, "/auth/logout").await
    }

    /// `GET /me`: who the token belongs to.
    pub async fn me(&self) -> Result<User> {
        self.call(Method::GET, "/me", None::<&()>).await
    }

    /// `GET /users?q=&limit=`: users whose username or display name starts with
    /// `q`, each saying whether they are the caller's contact.
    pub async fn search_users(&self, query: &UserSearchQuery) -> Result<Vec<FoundUser>> {
        self.call_query(Method::GET, "/users", query).await
    }

    /// Admin `POST /users`.
    pub async fn create_user(&self, req: &CreateUserRequest) -> Result<User> {
        self.call(Method::POST, "/users", Some(req)).await
    }

    /// Admin `PATCH /users/{id}`; absent fields stay as they are.
    pub async fn update_user(&self, id: UserId, req: &UpdateUserRequest) -> Result<User> {
        self.call(Method::PATCH, &format!("/users/{id}"), Some(req))
            .await
    }

    /// Admin `DELETE /users/{id}`.
    pub async fn delete_user(&self, id: UserId) -> Result<()> {
        self.call_empty(Method::DELETE, &format!("/users/{id}"))
            .await
    }

    // ----- tokens -----

    /// `POST /tokens`: a send-only token for CI; its secret is returned only here.
    pub async fn create_token(&self, req: &CreateTokenRequest) -> Result<CreatedToken> {
        self.call(Method::POST, "/tokens", Some(req)).await
    }

    /// `GET /tokens`: the caller's tokens, without secrets.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        self.call(Method::GET, "/tokens", None::<&()>).await
    }

    /// `DELETE /tokens/{id}`.
    pub async fn delete_token(&self, id: i64) -> Result<()> {
        self.call_empty(Method::DELETE, &format!("/tokens/{id}"))
            .await
    }

    // ----- notifications -----

    /// `POST /notifications`: returns once the notification is durable.
    pub async fn send(&self, req: &SendNotification) -> Result<SendResult> {
        self.call(Method::POST, "/notifications", Some(req)).await
    }

    /// `GET /notifications`: one page; pass `next_cursor` back as `cursor` for the next.
    pub async fn list_notifications(
        &self,
        query: &ListNotificationsQuery,
    ) -> Result<Page<Notification>> {
        self.call_query(Method::GET, "/notifications", query).await
    }

    /// `GET /notifications/counts`.
    pub async fn counts(&self) -> Result<Counts> {
        self.call(Method::GET, "/notifications/counts", None::<&()>)
            .await
    }

    /// `POST /notifications/read`.
    pub async fn mark_read(&self, req: &MarkRequest) -> Result<ChangeResult> {
        self.call(Method::POST, "/notifications/read", Some(req))
            .await
    }

    /// `POST /notifications/unread`.
    pub async fn mark_unread(&self, req: &MarkRequest) -> Result<ChangeResult> {
        self.call(Method::POST, "/notifications/unread", Some(req))
            .await
    }

    /// `POST /notifications/delete`: several at once; ids that are not the caller's
    /// are simply not counted in `changed`.
    pub async fn delete_notifications(&self, ids: &[NotificationId]) -> Result<ChangeResult> {
        let req = DeleteRequest { ids: ids.to_vec() };
        self.call(Method::POST, "/notifications/delete", Some(&req))
            .await
    }

    /// `DELETE /notifications/{id}`: one, with a 404 when it is not the caller's.
    pub async fn delete_notification(&self, id: NotificationId) -> Result<()> {
        self.call_empty(Method::DELETE, &format!("/notifications/{id}"))
            .await
    }

    /// `GET /events`: the event stream for pollers; with `wait` it long-polls.
    pub async fn events(&self, query: &EventsQuery) -> Result<EventsPage> {
        let wait = Duration::from_secs(query.wait.unwrap_or(0).into());
        let request = self
            .request(Method::GET, "/events")
            .query(query)
            .timeout(REQUEST_TIMEOUT + wait);
        self.finish(request, "GET /events").await
    }

    // ----- chat -----

    /// `GET /conversations`: one page, most recent first.
    pub async fn conversations(
        &self,
        query: &ListConversationsQuery,
    ) -> Result<Page<Conversation>> {
        self.call_query(Method::GET, "/conversations", query).await
    }

    /// `GET /conversations/{id}/messages`: one page of history, newest first.
    pub async fn history(
        &self,
        conversation: ConversationId,
        query: &HistoryQuery,
    ) -> Result<Page<Message>> {
        let path = format!("/conversations/{conversation}/messages");
        self.call_query(Method::GET, &path, query).await
    }

    /// `POST /messages`: sending again with the same `client_id` returns the
    /// first message instead of a second one.
    pub async fn send_message(&self, req: &SendMessage) -> Result<Message> {
        self.call(Method::POST, "/messages", Some(req)).await
    }

    /// `POST /conversations/{id}/read`.
    pub async fn read_conversation(
        &self,
        conversation: ConversationId,
        up_to: MessageId,
    ) -> Result<ChangeResult> {
        let path = format!("/conversations/{conversation}/read");
        self.call(Method::POST, &path, Some(&ReadConversation { up_to }))
            .await
    }

    /// `POST /messages/delete`: all or nothing (404 when one id is not visible).
    pub async fn delete_messages(&self, req: &DeleteMessages) -> Result<ChangeResult> {
        self.call(Method::POST, "/messages/delete", Some(req)).await
    }

    /// `DELETE /messages/{id}`.
    pub async fn delete_message(&self, id: MessageId, for_everyone: Option<bool>) -> Result<()> {
        let what = format!("DELETE /messages/{id}");
        let request = self
            .request(Method::DELETE, &format!("/messages/{id}"))
            .query(&DeleteMessageQuery { for_everyone });
        self.send_checked(request, &what).await.map(drop)
    }

    /// `GET /contacts`, with presence.
    pub async fn contacts(&self) -> Result<Vec<Contact>> {
        self.call(Method::GET, "/contacts", None::<&()>).await
    }

    /// `POST /contacts`.
    pub async fn add_contact(&self, username: &str) -> Result<Contact> {
        let req = UsernameRequest {
            username: username.to_string(),
        };
        self.call(Method::POST, "/contacts", Some(&req)).await
    }

    /// `DELETE /contacts/{username}`.
    pub async fn remove_contact(&self, username: &str) -> Result<()> {
        self.call_empty(Method::DELETE, &format!("/contacts/{username}"))
            .await
    }

    // ----- plumbing -----

    fn url(&self, path: &str) -> String {
        format!("{}{API_PREFIX}{path}", self.server)
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut builder = self
            .http
            .request(method, self.url(path))
            .timeout(REQUEST_TIMEOUT);
        if let Some(token) = &self.token {
            builder = builder.bearer_auth(token);
        }
        builder
    }

    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let what = format!("{method} {path}");
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.finish(request, &what).await
    }

    async fn call_query<Q: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &Q,
    ) -> Result<T> {
        let what = format!("{method} {path}");
        let request = self.request(method, path).query(query);
        self.finish(request, &what).await
    }

    /// For routes that answer 204 No Content.
    async fn call_empty(&self, method: Method, path: &str) -> Result<()> {
        let what = format!("{method} {path}");
        let request = self.request(method, path);
        self.send_checked(request, &what).await.map(drop)
    }

    async fn finish<T: DeserializeOwned>(&self, request: RequestBuilder, what: &str) -> Result<T> {
        let response = self.send_checked(request, what).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport(e, what))?;
        serde_json::from_slice(&bytes).map_err(|source| Error::UnexpectedResponse {
            what: what.to_string(),
            source,
        })
    }

    /// Sends and turns any non-2xx answer into an [`Error`] with the server's message.
    async fn send_checked(&self, request: RequestBuilder, what: &str) -> Result<Response> {
        let response = request.send().await.map_err(|e| self.transport(e, what))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.bytes().await.unwrap_or_default();
        Err(error_from_body(status, &body))
    }

    fn transport(&self, err: reqwest::Error, what: &str) -> Error {
        // `is_request` covers a connection reset or closed mid-request: the server
        // went away, which to the caller is the same as not being there.
        if err.is_connect() || err.is_timeout() || err.is_request() {
            let reason = if err.is_timeout() {
                "no answer in time".to_string()
            } else {
                root_cause(&err)
            };
            Error::Unreachable {
                server: self.server.clone(),
                reason,
            }
        } else {
            Error::Http {
                what: what.to_string(),
                source: err,
            }
        }
    }
}

/// Maps an error answer to an [`Error`], preferring the server's `{"error":{…}}`
/// body and falling back to the status line when the body is something else (a
/// proxy's HTML page, for instance).
pub(crate) fn error_from_body(status: StatusCode, body: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => Error::from_status(status, error.code, error.message),
        Err(_) => {
            let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
            let text = String::from_utf8_lossy(body);
            let snippet: String = text.trim().chars().take(200).collect();
            let message = if snippet.is_empty() || snippet.starts_with('<') {
                format!("the server answered {} {reason}", status.as_u16())
            } else {
                format!(
                    "the server answered {} {reason}: {snippet}",
                    status.as_u16()
                )
            };
            Error::from_status(status, reason.replace(' ', "_"), message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_normalized_so_saved_and_typed_urls_compare_equal() {
        for typed in [
            "http://host:8080",
            "http://host:8080/",
            " http://host:8080/api/v1/ ",
        ] {
            assert_eq!(normalize_server_url(typed).unwrap(), "http://host:8080");
        }
        assert!(normalize_server_url("host:8080").is_err());
        assert!(normalize_server_url("ftp://host").is_err());
        assert!(normalize_server_url("http://").is_err());
    }

    #[test]
    fn websocket_url_follows_the_http_scheme() {
        let api = Api::new("http://127.0.0.1:1", None).unwrap();
        assert_eq!(api.ws_url(), "ws://127.0.0.1:1/api/v1/ws");
        let api = Api::new("https://herald.example.com/", None).unwrap();
        assert_eq!(api.ws_url(), "wss://herald.example.com/api/v1/ws");
    }

    #[test]
    fn error_bodies_keep_the_servers_message() {
        let body = br#"{"error":{"code":"not_found","message":"no user named bob"}}"#;
        let err = error_from_body(StatusCode::NOT_FOUND, body);
        assert!(matches!(&err, Error::NotFound { message } if message == "no user named bob"));

        let err = error_from_body(StatusCode::FORBIDDEN, b"");
        assert!(matches!(err, Error::Forbidden { .. }));

        let err = error_from_body(StatusCode::BAD_GATEWAY, b"<html>oops</html>");
        assert_eq!(err.to_string(), "the server answered 502 bad gateway");
    }
}
