//! Many WebSocket clients in one process, each handing every text frame to a
//! shared sink.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::target::Target;
use crate::{Error, Result};

/// Handshakes in flight at once: enough to keep the server's accept loop busy
/// without overflowing its listen backlog.
pub const HANDSHAKES_IN_FLIGHT: usize = 256;
/// The default 128 KiB read buffer per client would need 2.4 GB for 19,000
/// clients; our frames are small.
const READ_BUFFER: usize = 4 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Called with (receiver index, frame text) for every text frame.
pub type Sink = Arc<dyn Fn(usize, &str) + Send + Sync>;

/// Connected clients; dropping or [`Receivers::close`] ends them.
pub struct Receivers {
    /// Clients that completed the handshake (and, for Herald, `hello`).
    pub connected: usize,
    /// Clients that could not connect, with the first reason seen.
    pub failed: usize,
    pub first_error: Option<String>,
    /// Connections that ended before we closed them.
    dropped: Arc<AtomicUsize>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Receivers {
    /// Connects users `0..n` of `target`, at most [`HANDSHAKES_IN_FLIGHT`] at a
    /// time, and returns once every attempt has succeeded or failed.
    pub async fn connect(target: &Target, n: usize, sink: Sink) -> Result<Self> {
        let (stop, stopped) = watch::channel(false);
        let dropped = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Semaphore::new(HANDSHAKES_IN_FLIGHT));
        let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
        let mut tasks = JoinSet::new();
        for i in 0..n {
            let (path, bearer) = target.ws_route(i);
            let client = Client {
                index: i,
                url: format!("ws://{}{}", target.addr, path),
                addr: target.addr,
                bearer,
                subscribe: target.wants_subscribe(),
                sink: sink.clone(),
                dropped: dropped.clone(),
                stopped: stopped.clone(),
            };
            let (gate, ready) = (gate.clone(), ready_tx.clone());
            tasks.spawn(async move {
                let permit = gate.acquire_owned().await;
                let opened = tokio::time::timeout(CONNECT_TIMEOUT, client.open())
                    .await
                    .unwrap_or_else(|_| Err(Error::Setup("connect timed out".into())));
                drop(permit);
                match opened {
                    Ok(ws) => {
                        let _ = ready.send(Ok(()));
                        drop(ready);
                        client.run(ws).await;
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e.to_string()));
                    }
                }
            });
        }
        drop(ready_tx);
        let (mut connected, mut failed, mut first_error) = (0, 0, None);
        for _ in 0..n {
            let Some(result) = ready_rx.recv().await else {
                break;
            };
            match result {
                Ok(()) => connected += 1,
                Err(e) => {
                    failed += 1;
                    first_error.get_or_insert(e);
                }
            }
        }
        Ok(Self {
            connected,
            failed,
            first_error,
            dropped,
            stop,
            tasks,
        })
    }

    /// Connections that ended on the server's side or by error so far.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Closes every client and waits for them.
    pub async fn close(mut self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(30), async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        self.tasks.abort_all();
    }
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

struct Client {
    index: usize,
    url: String,
    addr: std::net::SocketAddr,
    bearer: Option<String>,
    subscribe: bool,
    sink: Sink,
    dropped: Arc<AtomicUsize>,
    stopped: watch::Receiver<bool>,
}

impl Client {
    async fn open(&self) -> Result<Ws> {
        let stream = TcpStream::connect(self.addr).await?;
        stream.set_nodelay(true)?;
        let mut request = self.url.as_str().into_client_request()?;
        if let Some(token) = &self.bearer {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|_| Error::Setup("token is not a header value".into()))?;
            request.headers_mut().insert("authorization", value);
        }
        let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
        let (mut ws, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
        if self.subscribe {
            // Herald: `hello` carries the head cursor; subscribing from it
            // replays nothing and releases live events at once.
            let cursor = loop {
                match ws.next().await {
                    Some(Ok(Message::Text(text))) => {
                        let frame: serde_json::Value = serde_json::from_str(text.as_str())?;
                        if frame["type"] == "hello" {
                            break frame["cursor"].as_i64().unwrap_or(0);
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(Error::Setup("closed before hello".into())),
                }
            };
            let subscribe = format!(r#"{{"type":"subscribe","since":{cursor}}}"#);
            ws.send(Message::Text(subscribe.into())).await?;
        }
        Ok(ws)
    }

    async fn run(mut self, mut ws: Ws) {
        loop {
            tokio::select! {
                _ = self.stopped.changed() => {
                    let _ = ws.close(None).await;
                    return;
                }
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(text))) => (self.sink)(self.index, text.as_str()),
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                        if !*self.stopped.borrow() {
                            self.dropped.fetch_add(1, Ordering::Relaxed);
                        }
                        return;
                    }
                    Some(Ok(_)) => {}
                },
            }
        }
    }
}
