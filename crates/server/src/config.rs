//! Layered configuration: defaults → TOML file → `HERALD_*` environment → flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::limits::TrustedProxy;
use crate::Error;

/// Who may create an account with `POST /auth/register`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// Anyone who can reach the server.
    Open,
    /// Only admins create accounts (`POST /users`).
    Closed,
}

/// Every setting of `herald-server`. `docs/self-hosting.md` shows a full file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the SQLite database and the generated admin password live.
    pub data_dir: PathBuf,
    /// Storage: `sqlite:///path/herald.db` or `postgres://…`; empty means
    /// `sqlite://<data_dir>/herald.db`.
    pub database_url: Option<String>,
    /// `redis://…` links this node to the others of a cluster (which must share
    /// a PostgreSQL `database_url`); empty means a single node.
    pub fanout_url: Option<String>,
    /// The Redis pub/sub channel of this cluster, so several clusters (or test
    /// runs) can share one Redis.
    pub fanout_channel: String,
    pub registration: Registration,
    /// Notifications and events older than this are purged; clients with an older
    /// cursor are told to resync.
    pub retention_days: u32,
    /// Chat messages older than this are purged; empty keeps them for good.
    pub chat_retention_days: Option<u32>,
    /// Password for the `admin` user created on first start; generated when absent.
    pub admin_password: Option<String>,
    /// Seconds between server pings on WebSocket connections.
    pub heartbeat_s: u32,
    /// A connection silent for this long is dead.
    pub idle_timeout_s: u32,
    /// Frames queued per connection before the connection counts as a slow consumer
    /// and is closed (it resumes from its cursor on reconnect).
    pub send_queue: usize,
    /// Milliseconds a user stays "online" to their contacts after their last
    /// device disconnects, so a reconnect blip does not flap their presence.
    pub presence_debounce_ms: u64,

    /// Open TCP connections (WebSockets included) at most; past it a new socket
    /// gets a `503` at once. Unset: the open-file limit minus a reserve, so the
    /// process never runs out of descriptors for its database and health checks.
    pub max_connections: Option<u32>,
    /// Seconds a client has to send a complete request head: counted from the
    /// connection's start for its first request, from the first byte for later ones.
    pub header_read_timeout_s: u32,
    /// Seconds a client has to send a whole request body; then `408`.
    pub request_body_timeout_s: u32,
    /// Seconds an idle keep-alive connection is kept between requests.
    pub keep_alive_timeout_s: u32,
    /// Seconds a shutdown waits for requests in flight and WebSockets to finish
    /// before closing what is left and exiting.
    pub shutdown_timeout_s: u32,
    /// Reverse proxies (addresses or CIDR ranges) whose `Forwarded` or
    /// `X-Forwarded-For` header names the client; nobody else's is believed.
    pub trusted_proxies: Vec<TrustedProxy>,

    /// Threads that hash passwords (argon2id); a login that finds them all busy
    /// is answered `429` at once. Unset: one per CPU core, at least 2.
    pub hash_threads: Option<usize>,
    /// Failed logins per client address, and per username, before each further
    /// one must wait.
    pub login_free_failures: u32,
    /// The first wait after the free failures, in milliseconds; it doubles with
    /// every further failure.
    pub login_backoff_ms: u64,
    /// The longest wait, in seconds; a record quiet for this long is forgotten.
    pub login_lockout_max_s: u32,

    /// Notifications one token may publish per second, sustained.
    pub publish_per_s: u32,
    /// Notifications one token may publish at once after a quiet spell.
    pub publish_burst: u32,
    /// Chat messages one user may send per second, sustained (REST and WebSocket).
    pub chat_per_s: u32,
    /// Chat messages one user may send at once after a quiet spell.
    pub chat_burst: u32,
    /// WebSocket connections one user may hold at once (all devices).
    pub ws_per_user: u32,
    /// WebSocket connections from one client address that have not sent their
    /// `auth` frame yet.
    pub ws_unauthenticated_per_ip: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            data_dir: default_data_dir(),
            database_url: None,
            fanout_url: None,
            fanout_channel: "herald:fanout".into(),
            registration: Registration::Closed,
            retention_days: 90,
            chat_retention_days: None,
            admin_password: None,
            heartbeat_s: 25,
            idle_timeout_s: 60,
            send_queue: 1024,
            presence_debounce_ms: 3000,
            max_connections: None,
            header_read_timeout_s: 10,
            request_body_timeout_s: 30,
            keep_alive_timeout_s: 60,
            shutdown_timeout_s: 10,
            trusted_proxies: Vec::new(),
            hash_threads: None,
            login_free_failures: 5,
            login_backoff_ms: 1000,
            login_lockout_max_s: 900,
            publish_per_s: 10,
            publish_burst: 60,
            chat_per_s: 5,
            chat_burst: 30,
            ws_per_user: 32,
            ws_unauthenticated_per_ip: 16,
        }
    }
}

fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("dev", "herald", "herald-server")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("herald-data"))
}

/// Each hashing thread may hold argon2id's 19 MiB at once: this bounds the
/// memory a flood of logins can take, whatever the configuration.
const MAX_HASH_THREADS: usize = 64;

/// Keys read from `HERALD_<KEY>`: every field of [`Config`], taken from the
/// struct itself so a new setting cannot be forgotten here. Other `HERALD_*`
/// variables belong to the CLI.
fn env_keys() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
        other => unreachable!("Config serializes to an object, not {other:?}"),
    }
}

/// Command-line flags of `herald-server`; each overrides the file and environment.
#[derive(Debug, Default, Parser, Serialize)]
#[command(
    name = "herald-server",
    version,
    about = "Herald's self-hosted notification server"
)]
pub struct Flags {
    /// TOML configuration file.
    #[arg(long, env = "HERALD_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8787].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// Directory for the database [default: the per-user data directory].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `sqlite:///path/to/herald.db` or `postgres://user@host/db`
    /// [default: herald.db in the data directory].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `redis://host:6379` to run as one node of a cluster [default: none].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fanout_url: Option<String>,
    /// Whether anyone may register [default: closed].
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
    /// Days to keep notifications and events [default: 90].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// Days to keep chat messages [default: keep them for good].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_retention_days: Option<u32>,
    /// The Redis channel the nodes of this cluster share [default: herald:fanout].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fanout_channel: Option<String>,
    /// Seconds between WebSocket pings [default: 25].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat_s: Option<u32>,
    /// Seconds a silent WebSocket lives [default: 60].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout_s: Option<u32>,
    /// Frames queued per WebSocket before it is closed as a slow consumer [default: 1024].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_queue: Option<usize>,
    /// Milliseconds a user stays online to contacts after leaving [default: 3000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_debounce_ms: Option<u64>,
    /// Open TCP connections at most [default: the open-file limit minus 256].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Seconds to send a complete request head [default: 10].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_read_timeout_s: Option<u32>,
    /// Seconds to send a whole request body [default: 30].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body_timeout_s: Option<u32>,
    /// Seconds an idle keep-alive connection is kept [default: 60].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_alive_timeout_s: Option<u32>,
    /// Seconds a shutdown drains before closing what is left [default: 10].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown_timeout_s: Option<u32>,
    /// Password-hashing threads [default: one per core, at least 2].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_threads: Option<usize>,
    /// Failed logins per address and per username before backoff [default: 5].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_free_failures: Option<u32>,
    /// First login backoff in milliseconds, doubling after [default: 1000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_backoff_ms: Option<u64>,
    /// Longest login backoff in seconds [default: 900].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_lockout_max_s: Option<u32>,
    /// Notifications per second per token, sustained [default: 10].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish_per_s: Option<u32>,
    /// Notifications one token may send at once [default: 60].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish_burst: Option<u32>,
    /// Chat messages per second per user, sustained [default: 5].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_per_s: Option<u32>,
    /// Chat messages one user may send at once [default: 30].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_burst: Option<u32>,
    /// WebSocket connections per user [default: 32].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ws_per_user: Option<u32>,
    /// Unauthenticated WebSockets per client address [default: 16].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ws_unauthenticated_per_ip: Option<u32>,
    /// Reverse proxies trusted to name the client, comma-separated addresses or
    /// CIDR ranges [default: none].
    #[arg(long, value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_proxies: Option<Vec<TrustedProxy>>,
}

impl Config {
    /// Merges the layers; a typo in the file or a bad value names the key.
    pub fn load(flags: &Flags) -> Result<Self, Error> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = &flags.config {
            if !path.exists() {
                return Err(Error::Config(format!(
                    "configuration file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        let env_keys = env_keys();
        let env_keys: Vec<&str> = env_keys.iter().map(String::as_str).collect();
        let config: Config = figment
            .merge(Env::prefixed("HERALD_").only(&env_keys))
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(|e| Error::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), Error> {
        if self.retention_days == 0 {
            return Err(Error::Config("retention_days must be at least 1".into()));
        }
        if self.chat_retention_days == Some(0) {
            return Err(Error::Config(
                "chat_retention_days must be at least 1; leave it out to keep chat for good".into(),
            ));
        }
        if self.heartbeat_s == 0 || self.idle_timeout_s <= self.heartbeat_s {
            return Err(Error::Config(
                "idle_timeout_s must be longer than heartbeat_s, and both above 0".into(),
            ));
        }
        if self.fanout_channel.is_empty() {
            return Err(Error::Config("fanout_channel must not be empty".into()));
        }
        if self.send_queue == 0 {
            return Err(Error::Config("send_queue must be at least 1".into()));
        }
        self.validate_limits()?;
        let database = self.database()?;
        match self.fanout_url.as_deref() {
            None | Some("") => Ok(()),
            Some(url) if !url.starts_with("redis://") => Err(
                Error::Config(format!("fanout_url {url:?} is not supported: use redis://host:6379")),
            ),
            Some(_) => match database {
                Database::Postgres(_) => Ok(()),
                Database::Sqlite(_) => Err(Error::Config(
                    "fanout_url links nodes that share one database: set database_url to postgres://…"
                        .into(),
                )),
            },
        }
    }

    /// The front door's limits: every one must let something through.
    fn validate_limits(&self) -> Result<(), Error> {
        let at_least_one = [
            ("max_connections", self.max_connections.unwrap_or(1)),
            ("header_read_timeout_s", self.header_read_timeout_s),
            ("request_body_timeout_s", self.request_body_timeout_s),
            ("keep_alive_timeout_s", self.keep_alive_timeout_s),
            ("shutdown_timeout_s", self.shutdown_timeout_s),
            ("login_lockout_max_s", self.login_lockout_max_s),
            ("publish_per_s", self.publish_per_s),
            ("publish_burst", self.publish_burst),
            ("chat_per_s", self.chat_per_s),
            ("chat_burst", self.chat_burst),
            ("ws_per_user", self.ws_per_user),
            ("ws_unauthenticated_per_ip", self.ws_unauthenticated_per_ip),
        ];
        if let Some((key, _)) = at_least_one.iter().find(|(_, value)| *value == 0) {
            return Err(Error::Config(format!("{key} must be at least 1")));
        }
        if self
            .hash_threads
            .is_some_and(|n| !(1..=MAX_HASH_THREADS).contains(&n))
        {
            return Err(Error::Config(format!(
                "hash_threads must be 1-{MAX_HASH_THREADS}"
            )));
        }
        let longest_ms = u64::from(self.login_lockout_max_s) * 1000;
        if self.login_backoff_ms == 0 || self.login_backoff_ms > longest_ms {
            return Err(Error::Config(
                "login_backoff_ms must be above 0 and at most login_lockout_max_s".into(),
            ));
        }
        Ok(())
    }

    /// Password-hashing threads: the configured number, or one per core (at
    /// least 2, so one client address can never hold them all).
    pub fn hash_threads(&self) -> usize {
        self.hash_threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2)
                .max(2)
        })
    }

    /// The database to open, from `database_url` or the data directory.
    pub fn database(&self) -> Result<Database, Error> {
        match self.database_url.as_deref() {
            None | Some("") => Ok(Database::Sqlite(self.data_dir.join("herald.db"))),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Database::Postgres(url.to_owned()))
            }
            Some(url) => match url.strip_prefix("sqlite://") {
                Some(path) if !path.is_empty() => Ok(Database::Sqlite(Path::new(path).to_path_buf())),
                _ => Err(Error::Config(format!(
                    "database_url {url:?} is not supported: use sqlite:///path/to/herald.db or postgres://user@host/db"
                ))),
            },
        }
    }

    /// The fan-out link, if this node is part of a cluster.
    pub fn fanout_url(&self) -> Option<&str> {
        self.fanout_url.as_deref().filter(|url| !url.is_empty())
    }
}

/// Where a server keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    /// A connection URL.
    Postgres(String),
}

/// For logs: the URL without its password.
impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
                match rest.rsplit_once('@') {
                    Some((userinfo, host)) if userinfo.contains(':') => {
                        let user = userinfo.split(':').next().unwrap_or_default();
                        write!(f, "{scheme}://{user}:***@{host}")
                    }
                    _ => f.write_str(url),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(database_url: Option<&str>, fanout_url: Option<&str>) -> Config {
        Config {
            database_url: database_url.map(str::to_owned),
            fanout_url: fanout_url.map(str::to_owned),
            ..Config::default()
        }
    }

    #[test]
    fn every_setting_is_read_from_the_environment_and_all_but_secrets_have_a_flag() {
        let mut keys = env_keys();
        keys.sort();
        let mut flags: Vec<String> = <Flags as clap::CommandFactory>::command()
            .get_arguments()
            .map(|arg| arg.get_id().to_string())
            .filter(|id| !["config", "help", "version"].contains(&id.as_str()))
            .collect();
        // A secret has no flag: the command line is visible to every user (`ps`).
        flags.push("admin_password".to_owned());
        flags.sort();
        assert_eq!(keys, flags);
        assert!(keys.contains(&"ws_unauthenticated_per_ip".to_owned()));
    }

    #[test]
    fn flags_override_the_file_and_environment() {
        let flags = Flags::try_parse_from([
            "herald-server",
            "--heartbeat-s",
            "5",
            "--idle-timeout-s",
            "12",
            "--send-queue",
            "64",
            "--fanout-channel",
            "team-a",
        ])
        .unwrap();
        let config = Config::load(&flags).unwrap();
        assert_eq!(
            (config.heartbeat_s, config.idle_timeout_s, config.send_queue),
            (5, 12, 64)
        );
        assert_eq!(config.fanout_channel, "team-a");
    }

    #[test]
    fn chat_is_kept_unless_chat_retention_is_set_and_it_is_never_zero() {
        assert_eq!(Config::default().chat_retention_days, None);
        let flags =
            Flags::try_parse_from(["herald-server", "--chat-retention-days", "30"]).unwrap();
        assert_eq!(Config::load(&flags).unwrap().chat_retention_days, Some(30));
        let zero = Config {
            chat_retention_days: Some(0),
            ..Config::default()
        };
        let error = zero.validate().unwrap_err();
        assert!(error.to_string().contains("chat_retention_days"), "{error}");
    }

    #[test]
    fn database_urls_select_the_backend() {
        let config = with(Some("sqlite:///var/lib/herald/h.db"), None);
        assert_eq!(
            config.database().unwrap(),
            Database::Sqlite("/var/lib/herald/h.db".into())
        );
        let config = with(Some("postgres://herald@db/herald"), None);
        assert!(matches!(config.database().unwrap(), Database::Postgres(_)));
        let error = with(Some("mysql://db/herald"), None)
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("not supported"), "{error}");
    }

    #[test]
    fn a_cluster_needs_redis_and_a_shared_database() {
        let error = with(None, Some("redis://127.0.0.1:6379"))
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("postgres://"), "{error}");
        let error = with(Some("postgres://db/h"), Some("nats://127.0.0.1"))
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("redis://"), "{error}");
        with(Some("postgres://db/h"), Some("redis://127.0.0.1:6379"))
            .validate()
            .unwrap();
    }

    #[test]
    fn limits_that_would_let_nothing_through_are_refused() {
        let nonsense = [
            Config {
                publish_per_s: 0,
                ..Config::default()
            },
            Config {
                header_read_timeout_s: 0,
                ..Config::default()
            },
            Config {
                max_connections: Some(0),
                ..Config::default()
            },
            Config {
                hash_threads: Some(0),
                ..Config::default()
            },
            Config {
                login_backoff_ms: 5_000,
                login_lockout_max_s: 1,
                ..Config::default()
            },
        ];
        for config in nonsense {
            let error = config.validate().unwrap_err().to_string();
            assert!(
                [
                    "publish_per_s",
                    "header_read_timeout_s",
                    "max_connections",
                    "hash_threads",
                    "login_backoff_ms"
                ]
                .iter()
                .any(|key| error.contains(key)),
                "{error}"
            );
        }
        Config::default().validate().unwrap();
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges_separated_by_commas() {
        let flags =
            Flags::try_parse_from(["herald-server", "--trusted-proxies", "127.0.0.1,10.0.0.0/8"])
                .unwrap();
        let config = Config::load(&flags).unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        assert!(
            Flags::try_parse_from(["herald-server", "--trusted-proxies", "proxy.lan"]).is_err()
        );
        assert!(
            Config::default().trusted_proxies.is_empty(),
            "no proxy is trusted by default"
        );
    }

    #[test]
    fn logged_database_urls_hide_the_password() {
        let shown = Database::Postgres("postgres://herald:s3cret@db:5432/herald".into());
        assert_eq!(shown.to_string(), "postgres://herald:***@db:5432/herald");
        let shown = Database::Postgres("postgres://herald@db/herald".into());
        assert_eq!(shown.to_string(), "postgres://herald@db/herald");
    }
}
