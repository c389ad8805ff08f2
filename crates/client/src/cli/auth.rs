//! `herald login`, `logout` and `whoami`.

use clap::Args;
use herald_client::{Api, Credentials, Error, Result};
use herald_protocol::LoginRequest;

use super::{output, prompt, watch, Context, JsonArg};

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Username to log in as
    #[arg(long, short)]
    pub user: String,

    /// Read the password from the first line of stdin instead of prompting
    #[arg(long)]
    pub password_stdin: bool,

    /// Name for this session in `herald token list` (default: herald-cli@HOSTNAME)
    #[arg(long, value_name = "NAME")]
    pub device: Option<String>,
}

pub async fn login(ctx: &Context, args: LoginArgs) -> Result<()> {
    let server = ctx.server_arg().ok_or_else(|| {
        Error::Usage("login needs the server: pass --server URL or set HERALD_SERVER".into())
    })?;
    let api = Api::new(server, None)?;
    let password = if args.password_stdin {
        prompt::password_from_stdin()?
    } else {
        prompt::password_prompt(&format!("Password for {} at {}: ", args.user, api.server()))?
    };
    let response = api
        .login(&LoginRequest {
            username: args.user,
            password,
            device: Some(args.device.unwrap_or_else(default_device_name)),
        })
        .await?;

    let previous = Credentials::load(ctx.config_dir()).ok().flatten();
    let credentials = Credentials {
        server: api.server().to_string(),
        username: response.user.username.clone(),
        token: response.token,
    };
    credentials.save(ctx.config_dir())?;

    if let Some(previous) = previous {
        if previous.server != credentials.server || previous.username != credentials.username {
            // The watch position and the cache belong to the other account.
            watch::forget_local_state(ctx)?;
        }
        if previous.server == credentials.server && previous.token != credentials.token {
            // Best effort: the old session would otherwise stay valid forever.
            let _ = api.with_token(previous.token).logout().await;
        }
    }
    output::line(format!(
        "Logged in to {} as {}",
        credentials.server, credentials.username
    ))
}

pub async fn logout(ctx: &Context) -> Result<()> {
    let Some(saved) = Credentials::load(ctx.config_dir())? else {
        return output::line("Not logged in.");
    };
    let api = Api::new(&saved.server, Some(saved.token))?;
    match api.logout().await {
        // Already revoked or expired: forgetting it locally is all that is left.
        Ok(()) | Err(Error::Unauthorized { .. }) => {}
        Err(e @ Error::Unreachable { .. }) => output::note(format!(
            "herald: warning: {e}; the session was not revoked on the server, forgetting it here anyway"
        )),
        Err(e) => return Err(e),
    }
    Credentials::remove(ctx.config_dir())?;
    watch::forget_local_state(ctx)?;
    output::line(format!("Logged out of {}", saved.server))
}

pub async fn whoami(ctx: &Context, args: JsonArg) -> Result<()> {
    let api = ctx.api()?;
    let me = api.me().await?;
    if args.json {
        return output::json_line(&me);
    }
    output::line(format!(
        "{} ({}, {}) on {}",
        me.username,
        me.display_name,
        me.role.as_str(),
        api.server()
    ))
}

/// Names the session after this machine, so `herald token list` tells devices apart.
fn default_device_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    match host {
        Some(host) => format!("herald-cli@{host}"),
        None => "herald-cli".to_string(),
    }
}
