//! A WebSocket client for tests: typed frames, with timeouts instead of hangs.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use herald_protocol::{ClientFrame, Counts, Cursor, ErrorDetail, Event, ServerFrame};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Long enough for a loaded CI machine, short enough to fail a test quickly.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

pub struct WsClient {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Connects to `/api/v1/ws`, with the token in the header when given.
    pub async fn connect(base: &str, token: Option<&str>) -> Self {
        let url = format!("{}/api/v1/ws", base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("ws url");
        if let Some(token) = token {
            request.headers_mut().insert(
                "authorization",
                format!("Bearer {token}").parse().expect("header"),
            );
        }
        let (stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket connects");
        Self { stream }
    }

    /// Connects with a tiny socket receive buffer, so a test that stops reading
    /// backs the server up after a few KiB instead of megabytes.
    pub async fn connect_with_small_buffer(base: &str, token: &str) -> Self {
        let addr: std::net::SocketAddr = base
            .trim_start_matches("http://")
            .parse()
            .expect("test server address");
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        let tcp = socket.connect(addr).await.expect("tcp connect");
        let mut request = format!("ws://{addr}/api/v1/ws")
            .into_client_request()
            .expect("ws url");
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        let (stream, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp))
            .await
            .expect("websocket handshake");
        Self { stream }
    }

    /// Connects like a real client: reads `hello` and `counts`, subscribes from the
    /// hello cursor (which makes the server go live at once) and waits for the
    /// reply. Returns the cursor.
    pub async fn connect_ready(base: &str, token: &str) -> (Self, Cursor) {
        let mut client = Self::connect(base, Some(token)).await;
        let cursor = client.hello().await;
        client
            .send(&ClientFrame::Subscribe {
                id: Some(0),
                since: cursor,
            })
            .await;
        while !matches!(client.next().await, ServerFrame::Reply { id: 0, .. }) {}
        (client, cursor)
    }

    /// Reads `hello` and the `counts` after it; returns the hello cursor.
    pub async fn hello(&mut self) -> Cursor {
        let cursor = match self.next().await {
            ServerFrame::Hello { cursor, .. } => cursor,
            other => panic!("expected hello, got {other:?}"),
        };
        match self.next().await {
            ServerFrame::Counts(_) => cursor,
            other => panic!("expected counts after hello, got {other:?}"),
        }
    }

    pub async fn send(&mut self, frame: &ClientFrame) {
        let text = serde_json::to_string(frame).expect("frame serializes");
        self.send_text(&text).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("ws send");
    }

    /// The next server frame (pings are answered by tungstenite and skipped).
    pub async fn next(&mut self) -> ServerFrame {
        match self.try_next(FRAME_TIMEOUT).await {
            Some(frame) => frame,
            None => panic!("no frame within {FRAME_TIMEOUT:?}"),
        }
    }

    /// The next frame within `wait`, or `None` if none came (or the socket closed).
    pub async fn try_next(&mut self, wait: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match message.ok()? {
                Message::Text(text) => {
                    return Some(
                        serde_json::from_str(text.as_str())
                            .unwrap_or_else(|e| panic!("bad frame {text}: {e}")),
                    )
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The next `event` frame, skipping counts, pushes and replies.
    pub async fn next_event(&mut self) -> (Cursor, Event) {
        loop {
            if let ServerFrame::Event { cursor, event } = self.next().await {
                return (cursor, event);
            }
        }
    }

    /// The `reply` to request `id`, skipping (and dropping) other frames: its
    /// result, or its error detail.
    pub async fn reply(&mut self, id: u64) -> Result<serde_json::Value, ErrorDetail> {
        loop {
            if let ServerFrame::Reply {
                id: replied,
                ok,
                result,
                error,
            } = self.next().await
            {
                if replied != id {
                    continue;
                }
                return match (ok, error) {
                    (true, _) => Ok(result.unwrap_or_default()),
                    (false, error) => Err(error.expect("a failed reply carries an error")),
                };
            }
        }
    }

    /// The next `presence` frame as `(user, online)`, skipping others.
    pub async fn next_presence(&mut self) -> (String, bool) {
        loop {
            if let ServerFrame::Presence { user, online } = self.next().await {
                return (user, online);
            }
        }
    }

    /// The next `counts` frame, skipping others.
    pub async fn next_counts(&mut self) -> Counts {
        loop {
            if let ServerFrame::Counts(counts) = self.next().await {
                return counts;
            }
        }
    }

    /// Every frame that arrives within `wait`.
    pub async fn drain(&mut self, wait: Duration) -> Vec<ServerFrame> {
        let mut frames = Vec::new();
        while let Some(frame) = self.try_next(wait).await {
            frames.push(frame);
        }
        frames
    }

    /// Waits for the server to close; returns the close frame's code.
    pub async fn closed(&mut self) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + FRAME_TIMEOUT;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => panic!("socket not closed within {FRAME_TIMEOUT:?}"),
                Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return frame.map(|f: CloseFrame| u16::from(f.code))
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}
