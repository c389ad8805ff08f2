//! One WebSocket connection to `/api/v1/ws`: the handshake, `hello`, sending
//! frames with a bound on how long a write may take, and what a close means.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use herald_protocol::{ClientFrame, Cursor, ServerFrame, User};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::{HeaderValue, AUTHORIZATION};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::api::{error_from_body, Api};
use crate::error::{root_cause, Error, Result};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the server says first: who we are and where its stream is now.
#[derive(Debug, Clone)]
pub(crate) struct Hello {
    pub user: User,
    /// The head of the stream when the connection started.
    pub head: Cursor,
}

/// Connects, authenticates with the token in the upgrade request and reads
/// `hello`, all within `timeout`.
pub(crate) async fn open(api: &Api, timeout: Duration) -> Result<(Socket, Hello)> {
    let url = api.ws_url();
    let token = api.token().ok_or(Error::NotLoggedIn)?.to_string();
    let attempt = async {
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| Error::Usage(format!("invalid websocket URL {url}: {e}")))?;
        let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Error::Usage("the token contains characters not allowed in a header".into())
        })?;
        request.headers_mut().insert(AUTHORIZATION, bearer);
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| handshake_error(e, api.server()))?;
        let hello = read_hello(&mut socket).await?;
        Ok::<_, Error>((socket, hello))
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| Error::Unreachable {
            server: api.server().to_string(),
            reason: format!("no hello within {}s", timeout.as_secs_f32()),
        })?
}

/// Sends one frame; a peer that does not take it within `timeout` is as good as gone.
pub(crate) async fn send(
    socket: &mut Socket,
    frame: &ClientFrame,
    timeout: Duration,
) -> Result<()> {
    let json = serde_json::to_string(frame).expect("client frames always serialize");
    match tokio::time::timeout(timeout, socket.send(Message::Text(json.into()))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Error::WebSocket(Box::new(e))),
        Err(_) => Err(Error::Protocol(
            "the server does not take what we send".into(),
        )),
    }
}

/// Reads frames until `hello`, the server's first frame after authentication.
async fn read_hello(socket: &mut Socket) -> Result<Hello> {
    while let Some(message) = socket.next().await {
        let message = message.map_err(|e| Error::WebSocket(Box::new(e)))?;
        let text = match message {
            Message::Text(text) => text,
            Message::Close(frame) => return Err(close_error(frame.as_ref())),
            _ => continue,
        };
        match serde_json::from_str::<ServerFrame>(text.as_str()) {
            Ok(ServerFrame::Hello { user, cursor, .. }) => return Ok(Hello { user, head: cursor }),
            Ok(ServerFrame::Error(detail)) if is_auth_code(&detail.code) => {
                return Err(Error::Unauthorized {
                    message: detail.message,
                })
            }
            Ok(ServerFrame::Error(detail)) => return Err(Error::Protocol(detail.message)),
            _ => continue,
        }
    }
    Err(Error::Protocol(
        "the server closed the connection before hello".into(),
    ))
}

pub(crate) fn is_auth_code(code: &str) -> bool {
    matches!(code, "unauthorized" | "forbidden" | "unauthenticated")
}

/// What a close frame means: 1008 (policy) is how the server ends a revoked or
/// refused session, which no retry can fix; anything else is worth a reconnect.
pub(crate) fn close_error(frame: Option<&CloseFrame>) -> Error {
    match frame {
        Some(f) if u16::from(f.code) == 1008 => Error::Unauthorized {
            message: if f.reason.is_empty() {
                "the server ended the session".to_string()
            } else {
                f.reason.to_string()
            },
        },
        Some(f) if !f.reason.is_empty() => {
            Error::Protocol(format!("the server closed the connection: {}", f.reason))
        }
        _ => Error::Protocol("the server closed the connection".into()),
    }
}

/// Splits handshake failures into "the credentials are wrong" (fatal) and
/// "the server is not there" (retry).
fn handshake_error(err: tungstenite::Error, server: &str) -> Error {
    match err {
        tungstenite::Error::Http(response) => {
            let status = reqwest::StatusCode::from_u16(response.status().as_u16())
                .unwrap_or(reqwest::StatusCode::BAD_GATEWAY);
            let body = response.body().as_deref().unwrap_or_default();
            error_from_body(status, body)
        }
        tungstenite::Error::Io(ref e) => Error::Unreachable {
            server: server.to_string(),
            reason: root_cause(e),
        },
        other => Error::WebSocket(Box::new(other)),
    }
}

/// A readable reason for a broken link.
pub(crate) fn read_error(err: &tungstenite::Error) -> String {
    match err {
        tungstenite::Error::Io(e) => root_cause(e),
        tungstenite::Error::Protocol(p) => p.to_string(),
        other => other.to_string(),
    }
}
