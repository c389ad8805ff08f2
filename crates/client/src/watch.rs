//! A resumable stream of a user's events over the WebSocket.
//!
//! [`Watcher`] owns the connection: it connects, sends `subscribe{since}` so events
//! missed while away are replayed, drops duplicates from the replay/live overlap,
//! and reconnects with exponential backoff. It reports what happens as [`Update`]s
//! instead of printing, so the CLI and the desktop app decide how to show it.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use herald_protocol::{
    ClientFrame, Counts, Cursor, ErrorDetail, Event, NotificationId, ServerFrame, User,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::{HeaderValue, AUTHORIZATION};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::api::{error_from_body, Api};
use crate::error::{root_cause, Error, Result};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long to wait for the handshake plus the `hello` frame.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// The design's rule: a connection silent for 60 s is dead on either side.
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Reconnect delays: 1 s, doubling up to 30 s, back to 1 s after a good connection.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// The delay the next failure will get.
    next: Duration,
    /// First delay, and the one after [`Backoff::reset`].
    initial: Duration,
    /// Delays never grow past this, so a server back after an outage is found soon.
    max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(30))
    }
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            next: initial,
            initial,
            max,
        }
    }

    /// The delay before the next attempt; each call doubles the following one.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// Call after a connection succeeded.
    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

/// What happened on the stream, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// A connection is up and subscribed. `resumed_from` is the cursor replay starts
    /// after (`None` when the watcher started "from now").
    Connected {
        user: User,
        head: Cursor,
        resumed_from: Option<Cursor>,
    },
    /// A new event; [`Watcher::cursor`] already points at it.
    Event { cursor: Cursor, event: Event },
    /// Unread counts changed.
    Counts(Counts),
    /// A desktop popup request; `id` is `None` for ephemeral pushes, which have no
    /// event of their own.
    Desktop {
        title: String,
        content: String,
        link: Option<String>,
        priority: u8,
        id: Option<NotificationId>,
    },
    /// A contact went on- or offline.
    Presence { user: String, online: bool },
    /// The requested cursor was older than the retained stream: some events are
    /// gone, so local state must be reloaded over REST. The stream continues from
    /// `cursor`.
    ResyncRequired { cursor: Cursor },
    /// The server rejected something we sent; the connection stays up.
    ServerError(ErrorDetail),
    /// The connection dropped (or could not be made); the next call to
    /// [`Watcher::next`] waits `retry_in` and reconnects.
    Disconnected { reason: String, retry_in: Duration },
}

/// A self-healing subscription to one user's event stream.
pub struct Watcher {
    /// `ws://…/api/v1/ws` of the server.
    url: String,
    /// Sent in the upgrade request's `Authorization` header.
    token: String,
    /// Last event seen (or the head at first connect); replay starts after it.
    cursor: Option<Cursor>,
    /// Delay schedule between reconnect attempts.
    backoff: Backoff,
    /// The live connection, if any.
    socket: Option<Socket>,
    /// Set when a connection failed: wait this long before the next attempt.
    pending_delay: Option<Duration>,
    /// Silence longer than this means the connection is dead.
    idle_timeout: Duration,
}

impl Watcher {
    /// A watcher for the user of `api`'s token, resuming after `since` (or from the
    /// head of the stream when `None`). Nothing connects until [`Watcher::next`].
    pub fn new(api: &Api, since: Option<Cursor>) -> Result<Self> {
        let token = api.token().ok_or(Error::NotLoggedIn)?.to_string();
        Ok(Self {
            url: api.ws_url(),
            token,
            cursor: since,
            backoff: Backoff::default(),
            socket: None,
            pending_delay: None,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        })
    }

    /// Replaces the reconnect schedule (tests use short delays).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The cursor to persist: the last event delivered, so a restart resumes there.
    pub fn cursor(&self) -> Option<Cursor> {
        self.cursor
    }

    /// Waits for the next update. Connection problems come back as
    /// [`Update::Disconnected`] and are retried on the next call; only an
    /// authentication failure, which retrying cannot fix, is an `Err`.
    pub async fn next(&mut self) -> Result<Update> {
        loop {
            let Some(socket) = self.socket.as_mut() else {
                if let Some(delay) = self.pending_delay.take() {
                    tokio::time::sleep(delay).await;
                }
                return match self.connect().await {
                    Ok(update) => Ok(update),
                    Err(e) if e.is_auth() => Err(e),
                    Err(e) => Ok(self.disconnected(e.to_string())),
                };
            };
            let message = match tokio::time::timeout(self.idle_timeout, socket.next()).await {
                Err(_) => {
                    let secs = self.idle_timeout.as_secs();
                    return Ok(self.disconnected(format!("no data from the server for {secs}s")));
                }
                Ok(None) => return Ok(self.disconnected("the server closed the connection".into())),
                Ok(Some(Err(e))) => return Ok(self.disconnected(ws_reason(&e))),
                Ok(Some(Ok(message))) => message,
            };
            match message {
                Message::Text(text) => {
                    // Frames this version does not know are skipped, so an older
                    // client keeps working against a newer server.
                    let Ok(frame) = serde_json::from_str::<ServerFrame>(text.as_str()) else {
                        continue;
                    };
                    if let Some(update) = self.on_frame(frame)? {
                        return Ok(update);
                    }
                }
                Message::Close(frame) => {
                    let reason = match frame {
                        Some(f) if !f.reason.is_empty() => {
                            format!("the server closed the connection: {}", f.reason)
                        }
                        _ => "the server closed the connection".to_string(),
                    };
                    return Ok(self.disconnected(reason));
                }
                // Pings are answered by tungstenite as we keep reading.
                _ => continue,
            }
        }
    }

    /// Turns a frame into the update to report, if any; keeps the cursor current.
    fn on_frame(&mut self, frame: ServerFrame) -> Result<Option<Update>> {
        Ok(match frame {
            ServerFrame::Event { cursor, event } => {
                if self.cursor.is_some_and(|seen| cursor <= seen) {
                    None // already delivered: the replay and the live feed overlap
                } else {
                    self.cursor = Some(cursor);
                    Some(Update::Event { cursor, event })
                }
            }
            ServerFrame::Counts(counts) => Some(Update::Counts(counts)),
            ServerFrame::Desktop {
                title,
                content,
                link,
                priority,
                id,
            } => Some(Update::Desktop {
                title,
                content,
                link,
                priority,
                id,
            }),
            ServerFrame::Presence { user, online } => Some(Update::Presence { user, online }),
            ServerFrame::ResyncRequired { cursor } => {
                self.cursor = Some(cursor);
                Some(Update::ResyncRequired { cursor })
            }
            ServerFrame::Error(detail) if is_auth_code(&detail.code) => {
                return Err(Error::Unauthorized {
                    message: detail.message,
                })
            }
            ServerFrame::Error(detail) => Some(Update::ServerError(detail)),
            // A second hello or a reply to a request we never made: nothing to report.
            ServerFrame::Hello { .. } | ServerFrame::Reply { .. } => None,
        })
    }

    /// Connects, waits for `hello` and subscribes from the cursor.
    async fn connect(&mut self) -> Result<Update> {
        let attempt = async {
            let mut request =
                self.url.as_str().into_client_request().map_err(|e| {
                    Error::Usage(format!("invalid websocket URL {}: {e}", self.url))
                })?;
            let bearer =
                HeaderValue::from_str(&format!("Bearer {}", self.token)).map_err(|_| {
                    Error::Usage("the token contains characters not allowed in a header".into())
                })?;
            request.headers_mut().insert(AUTHORIZATION, bearer);
            let (mut socket, _) = tokio_tungstenite::connect_async(request)
                .await
                .map_err(|e| handshake_error(e, &self.url))?;
            let (user, head) = read_hello(&mut socket).await?;
            let since = self.cursor.unwrap_or(head);
            let subscribe = ClientFrame::Subscribe { id: None, since };
            let json = serde_json::to_string(&subscribe).expect("client frames always serialize");
            socket
                .send(Message::Text(json.into()))
                .await
                .map_err(|e| Error::WebSocket(Box::new(e)))?;
            Ok::<_, Error>((socket, user, head))
        };
        let (socket, user, head) = tokio::time::timeout(CONNECT_TIMEOUT, attempt)
            .await
            .map_err(|_| {
                Error::Protocol(format!(
                    "no hello from {} within {}s",
                    self.url,
                    CONNECT_TIMEOUT.as_secs()
                ))
            })??;
        let resumed_from = self.cursor;
        if self.cursor.is_none() {
            self.cursor = Some(head);
        }
        self.socket = Some(socket);
        self.backoff.reset();
        Ok(Update::Connected {
            user,
            head,
            resumed_from,
        })
    }

    fn disconnected(&mut self, reason: String) -> Update {
        self.socket = None;
        let retry_in = self.backoff.next_delay();
        self.pending_delay = Some(retry_in);
        Update::Disconnected { reason, retry_in }
    }
}

/// Reads frames until `hello`, the server's first frame after authentication.
async fn read_hello(socket: &mut Socket) -> Result<(User, Cursor)> {
    while let Some(message) = socket.next().await {
        let message = message.map_err(|e| Error::WebSocket(Box::new(e)))?;
        let Message::Text(text) = message else {
            if let Message::Close(frame) = message {
                let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                return Err(Error::Protocol(format!("closed before hello: {reason}")));
            }
            continue;
        };
        match serde_json::from_str::<ServerFrame>(text.as_str()) {
            Ok(ServerFrame::Hello { user, cursor, .. }) => return Ok((user, cursor)),
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

fn is_auth_code(code: &str) -> bool {
    matches!(code, "unauthorized" | "forbidden" | "unauthenticated")
}

/// Splits handshake failures into "the credentials are wrong" (fatal) and
/// "the server is not there" (retry).
fn handshake_error(err: tungstenite::Error, url: &str) -> Error {
    match err {
        tungstenite::Error::Http(response) => {
            let status = reqwest::StatusCode::from_u16(response.status().as_u16())
                .unwrap_or(reqwest::StatusCode::BAD_GATEWAY);
            let body = response.body().as_deref().unwrap_or_default();
            error_from_body(status, body)
        }
        tungstenite::Error::Io(ref e) => Error::Unreachable {
            server: url.to_string(),
            reason: root_cause(e),
        },
        other => Error::WebSocket(Box::new(other)),
    }
}

fn ws_reason(err: &tungstenite::Error) -> String {
    match err {
        tungstenite::Error::Io(e) => root_cause(e),
        tungstenite::Error::Protocol(p) => p.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_to_thirty_and_resets() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> = (0..7).map(|_| backoff.next_delay().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_secs(1));
    }

    fn watcher(since: Option<Cursor>) -> Watcher {
        let api = Api::new("http://127.0.0.1:1", Some("t".into())).unwrap();
        Watcher::new(&api, since).unwrap()
    }

    fn read_event(cursor: Cursor) -> ServerFrame {
        ServerFrame::Event {
            cursor,
            event: Event::NotificationsRead { ids: vec![cursor] },
        }
    }

    #[test]
    fn replayed_events_already_seen_are_dropped_and_the_cursor_moves_forward() {
        let mut w = watcher(Some(5));
        assert_eq!(w.on_frame(read_event(4)).unwrap(), None);
        assert_eq!(w.on_frame(read_event(5)).unwrap(), None);
        assert!(matches!(
            w.on_frame(read_event(6)).unwrap(),
            Some(Update::Event { cursor: 6, .. })
        ));
        assert_eq!(w.cursor(), Some(6));
        assert_eq!(w.on_frame(read_event(6)).unwrap(), None);
    }

    #[test]
    fn resync_moves_the_cursor_to_where_the_server_says() {
        let mut w = watcher(Some(1));
        let update = w
            .on_frame(ServerFrame::ResyncRequired { cursor: 40 })
            .unwrap();
        assert_eq!(update, Some(Update::ResyncRequired { cursor: 40 }));
        assert_eq!(w.cursor(), Some(40));
    }

    #[tokio::test]
    async fn an_unreachable_server_is_reported_and_retried_not_fatal() {
        let mut w = watcher(None);
        match w.next().await.unwrap() {
            Update::Disconnected { reason, retry_in } => {
                assert!(reason.contains("127.0.0.1:1"), "{reason}");
                assert_eq!(retry_in, Duration::from_secs(1));
            }
            other => panic!("expected a disconnect, got {other:?}"),
        }
    }
}
