//! The `herald` command line: argument definitions, where the server and token
//! come from, and how errors become exit codes. Each command group lives in its
//! own file. One-shot commands (`list`, `read`, `send`, …) talk REST through
//! [`herald_client::Api`]: a CLI run is online or fails, and a cache would only
//! add a sync before every answer. `watch`, which runs for hours, uses the sync
//! engine ([`herald_client::Client`]) like the desktop app.

mod admin;
mod auth;
mod chat;
mod inbox;
pub mod output;
mod prompt;
mod send;
mod token;
mod watch;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use herald_client::{credentials, normalize_server_url, Api, Credentials, Error, Result};
use herald_protocol::{KindFilter, NotificationId};

/// Environment variable holding a token that overrides the saved login.
pub const TOKEN_ENV: &str = "HERALD_TOKEN";

const AFTER_HELP: &str = "\
Environment:
  HERALD_SERVER      server URL, like --server
  HERALD_TOKEN       token to use instead of the saved login (e.g. a send-only CI token)
  HERALD_CONFIG_DIR  where the login, the watch position and the local cache are saved

Exit codes: 0 ok, 1 error, 2 usage, 3 authentication or permission, 4 not found,
5 server unreachable.";

/// Send, list and watch Herald notifications from a terminal, a script or CI.
#[derive(Debug, Parser)]
#[command(name = "herald", version, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Herald server URL, e.g. https://herald.example.com (defaults to the one you
    /// logged in to)
    #[arg(long, global = true, env = "HERALD_SERVER", value_name = "URL")]
    pub server: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in with a password and save the session for the next commands
    Login(auth::LoginArgs),
    /// Revoke the saved session on the server and forget it
    Logout,
    /// Show who the current token belongs to
    Whoami(JsonArg),
    /// Send a notification to some users or to everyone
    Send(send::SendArgs),
    /// List your notifications, newest first
    List(inbox::ListArgs),
    /// Show your unread counts
    Counts(JsonArg),
    /// Mark notifications read: some ids, or --all
    Read(inbox::MarkArgs),
    /// Mark notifications unread again: some ids, or --all
    Unread(inbox::MarkArgs),
    /// Delete notifications (for you only)
    Delete(inbox::DeleteArgs),
    /// Print your events live as they happen, resuming where the last watch stopped
    Watch(watch::WatchArgs),
    /// Administration (admins only)
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Send-only tokens for CI and scripts
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Direct messages: send, show history, list conversations
    #[command(subcommand)]
    Chat(chat::ChatCommand),
    /// Your contacts and whether they are online
    #[command(subcommand)]
    Contacts(chat::ContactsCommand),
}

/// `--json` for commands that print one result.
#[derive(Debug, clap::Args)]
pub struct JsonArg {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `--kind` values; mirrors [`KindFilter`], which has no clap support of its own.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Personal,
    Broadcast,
    All,
}

impl From<KindArg> for KindFilter {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Personal => KindFilter::Personal,
            KindArg::Broadcast => KindFilter::Broadcast,
            KindArg::All => KindFilter::All,
        }
    }
}

/// Accepts `12` and `#12` (how lists and `watch` show ids).
pub fn parse_id(text: &str) -> std::result::Result<NotificationId, String> {
    let digits = text.strip_prefix('#').unwrap_or(text);
    match digits.parse::<NotificationId>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(format!("{text:?} is not an id (a positive number)")),
    }
}

/// What every command needs: where the server is and where our files are.
pub struct Context {
    /// `--server` / `HERALD_SERVER`, as given.
    server: Option<String>,
    /// Holds `credentials.json` and `watch-cursor`.
    config_dir: PathBuf,
}

impl Context {
    /// The server named on the command line or in the environment, if any.
    pub fn server_arg(&self) -> Option<&str> {
        self.server.as_deref()
    }

    pub fn config_dir(&self) -> &std::path::Path {
        &self.config_dir
    }

    /// An authenticated client: the token from `HERALD_TOKEN` if set, else the saved
    /// login. The saved token is only ever sent to the server it came from.
    pub fn api(&self) -> Result<Api> {
        let saved = Credentials::load(&self.config_dir)?;
        let env_token = std::env::var(TOKEN_ENV)
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if let Some(token) = env_token {
            let server = self
                .server
                .clone()
                .or(saved.map(|c| c.server))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "{TOKEN_ENV} is set but no server is: pass --server URL or set HERALD_SERVER"
                    ))
                })?;
            return Api::new(&server, Some(token));
        }
        let saved = saved.ok_or(Error::NotLoggedIn)?;
        if let Some(given) = &self.server {
            let given = normalize_server_url(given)?;
            if given != saved.server {
                return Err(Error::Usage(format!(
                    "you are logged in to {}, not {given}: run `herald login --server {given} --user NAME` \
                     or set {TOKEN_ENV}",
                    saved.server
                )));
            }
        }
        Api::new(&saved.server, Some(saved.token))
    }
}

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let ctx = Context {
        server: cli.server.filter(|s| !s.trim().is_empty()),
        config_dir: credentials::config_dir()?,
    };
    match cli.command {
        Command::Login(args) => auth::login(&ctx, args).await,
        Command::Logout => auth::logout(&ctx).await,
        Command::Whoami(args) => auth::whoami(&ctx, args).await,
        Command::Send(args) => send::send(&ctx, args).await,
        Command::List(args) => inbox::list(&ctx, args).await,
        Command::Counts(args) => inbox::counts(&ctx, args).await,
        Command::Read(args) => inbox::mark(&ctx, args, inbox::Mark::Read).await,
        Command::Unread(args) => inbox::mark(&ctx, args, inbox::Mark::Unread).await,
        Command::Delete(args) => inbox::delete(&ctx, args).await,
        Command::Watch(args) => watch::watch(&ctx, args).await,
        Command::Admin(command) => admin::run(&ctx, command).await,
        Command::Token(command) => token::run(&ctx, command).await,
        Command::Chat(command) => chat::run(&ctx, command).await,
        Command::Contacts(command) => chat::contacts(&ctx, command).await,
    }
}

/// The exit code for an error: 1 general, 2 usage, 3 authentication or permission,
/// 4 not found, 5 server unreachable. Scripts branch on these, so they are stable.
pub fn exit_code(err: &Error) -> u8 {
    match err {
        Error::Usage(_) => 2,
        Error::Unauthorized { .. } | Error::Forbidden { .. } | Error::NotLoggedIn => 3,
        Error::NotFound { .. } => 4,
        Error::Unreachable { .. } => 5,
        _ => 1,
    }
}

/// The one line printed for an error, with a hint where one helps (a failed
/// `login` needs no "log in again").
pub fn error_message(err: &Error, logging_in: bool) -> String {
    match err {
        Error::Unauthorized { .. } if !logging_in => {
            let source = if std::env::var_os(TOKEN_ENV).is_some_and(|t| !t.is_empty()) {
                format!("check {TOKEN_ENV}")
            } else {
                "run `herald login` again".to_string()
            };
            format!("herald: {err} ({source})")
        }
        _ => format!("herald: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn ids_may_be_written_as_shown_in_lists() {
        assert_eq!(parse_id("12"), Ok(12));
        assert_eq!(parse_id("#12"), Ok(12));
        assert!(parse_id("0").is_err());
        assert!(parse_id("x").is_err());
    }
}
