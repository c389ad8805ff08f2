//! `herald-server`: configuration, logging and signals around [`herald_server::serve`].

use std::process::ExitCode;

use clap::Parser;
use herald_server::{Config, Flags, Server};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        // A log line that cannot be written (a full disk under the log file) is
        // lost; reporting that with `eprintln!` would panic whatever thread was
        // logging, the store's writer included.
        .log_internal_errors(false)
        .init();
    let flags = Flags::parse();
    match run(flags).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say(format_args!("herald-server: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// A line on stderr that, unlike `eprintln!`, does not panic when stderr
/// cannot be written.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

async fn run(flags: Flags) -> herald_server::Result<()> {
    let config = Config::load(&flags)?;
    let listener = TcpListener::bind(config.listen).await.map_err(|e| {
        herald_server::Error::Config(format!("cannot listen on {}: {e}", config.listen))
    })?;
    let server = Server::open(config.clone()).await?;
    if let Some(password) = &server.generated_admin_password {
        say(format_args!(
            "Created the first user `admin` with password: {password}\n\
             (also saved to {}; change it after logging in)",
            config.data_dir.join("admin-password").display()
        ));
    }
    tracing::info!(
        "listening on http://{} (database: {})",
        listener.local_addr()?,
        config.database()?
    );
    server.run(listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (what systemd sends).
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutting down");
}
