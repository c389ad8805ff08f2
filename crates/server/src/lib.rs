//! Herald's server: REST API, WebSocket gateway and fan-out over a [`Store`].
//!
//! [`serve`] runs a server on a listener the caller owns until `shutdown`
//! resolves, which is how both `main` and the tests start it.
//!
//! [`Store`]: herald_store::Store

pub mod api;
mod config;
mod connection;
mod error;
pub mod fanout;
pub mod files;
pub mod limits;
mod listener;
mod metrics;
pub mod service;
pub mod state;
mod ws;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use herald_store::{PurgeStats, Retention, Store};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{Config, Database, Flags, Registration};
pub use error::{Error, Result};

use fanout::{Hub, Presence};
use limits::Limits;
use metrics::Metrics;
use state::AppState;

/// How often old notifications and events are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// How often the limits forget quiet clients.
const SWEEP_LIMITS_EVERY: Duration = Duration::from_secs(60);

/// A server with its storage open and background tasks running, ready to serve.
pub struct Server {
    state: AppState,
    /// The first admin's password when the server generated it on this start.
    pub generated_admin_password: Option<String>,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Opens storage, creates the first admin on an empty database and starts the
    /// fan-out and retention tasks.
    pub async fn open(config: Config) -> Result<Self> {
        let (feed, commits) = tokio::sync::mpsc::unbounded_channel();
        let store = open_store(config.database()?, feed).await?;
        let metrics = Arc::new(Metrics::default());
        let head = store.stream_bounds().await?.head;
        let (transitions, presence_changes) = tokio::sync::mpsc::unbounded_channel();
        let hub = Arc::new(
            Hub::new(head, config.send_queue, metrics.clone())
                .with_presence(transitions)
                .with_connections_per_user(config.ws_per_user as usize),
        );
        let limits = Arc::new(Limits::new(&config, metrics.clone())?);
        let presence = Arc::new(Presence::default());
        let presence_setup = fanout::presence::Setup {
            transitions: presence_changes,
            debounce: Duration::from_millis(config.presence_debounce_ms),
            presence: presence.clone(),
        };
        let started = fanout::start(
            store.clone(),
            hub.clone(),
            head,
            commits,
            presence_setup,
            config
                .fanout_url()
                .map(|url| (url, config.fanout_channel.as_str())),
        )
        .await?;
        let state = AppState {
            config: Arc::new(config),
            store,
            hub,
            fanout: started.fanout,
            presence,
            metrics,
            limits,
            shutdown: CancellationToken::new(),
        };
        let generated_admin_password = service::accounts::bootstrap_admin(&state).await?;
        if let Some(password) = &generated_admin_password {
            files::write_admin_password(&state.config, password)?;
        }
        let mut tasks = started.tasks;
        tasks.push(spawn_purge(state.clone()));
        tasks.push(spawn_limits_sweep(state.limits.clone()));
        Ok(Self {
            state,
            generated_admin_password,
            tasks,
        })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops accepting, closes idle
    /// connections and WebSockets (1001) and waits for requests in flight (and
    /// their writes) to finish, for at most `shutdown_timeout_s`.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let router = api::router(self.state.clone());
        listener::run(
            listener,
            router,
            listener::Settings::from_config(&self.state.config),
            shutdown,
            self.state.shutdown.clone(),
            self.state.metrics.clone(),
        )
        .await;
        for task in &self.tasks {
            task.abort();
        }
        Ok(())
    }
}

/// Runs a server with `config` on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    Server::open(config).await?.run(listener, shutdown).await
}

async fn open_store(database: Database, feed: herald_store::CommitFeed) -> Result<Arc<dyn Store>> {
    Ok(match database {
        #[cfg(feature = "sqlite")]
        Database::Sqlite(path) => {
            let open = move || herald_store::sqlite::SqliteStore::open(&path, feed);
            let store = tokio::task::spawn_blocking(open)
                .await
                .map_err(|e| Error::Internal(e.to_string()))??;
            Arc::new(store)
        }
        #[cfg(feature = "postgres")]
        Database::Postgres(url) => {
            Arc::new(herald_store::postgres::PostgresStore::open(&url, feed).await?)
        }
        #[allow(unreachable_patterns)]
        other => {
            let backend = match other {
                Database::Sqlite(_) => "sqlite",
                Database::Postgres(_) => "postgres",
            };
            return Err(Error::Config(format!(
                "this herald-server was built without the {backend} feature"
            )));
        }
    })
}

fn spawn_limits_sweep(limits: Arc<Limits>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_LIMITS_EVERY);
        loop {
            every.tick().await;
            limits.sweep();
        }
    })
}

fn spawn_purge(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        loop {
            every.tick().await;
            let retention = retention(&state.config, OffsetDateTime::now_utc());
            match state.store.purge(&retention).await {
                Ok(stats) if stats != PurgeStats::default() => tracing::info!(
                    events = stats.events,
                    notifications = stats.notifications,
                    messages = stats.messages,
                    "purged data past retention"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention purge failed"),
            }
        }
    })
}

/// What the configuration keeps, as of `now`.
fn retention(config: &Config, now: OffsetDateTime) -> Retention {
    let days = |days: u32| now - time::Duration::days(i64::from(days));
    Retention {
        chat_before: config.chat_retention_days.map(days),
        ..Retention::before(days(config.retention_days))
    }
}
