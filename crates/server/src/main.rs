//! `herald-server`: configuration, logging and signals around [`herald_server::serve`].

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use herald_server::{Config, Flags, Server};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    return_large_blocks_to_the_system();
    // Diagnostics go to stderr, like the first-start notice below.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
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
    herald_server::files::create_private_dir(&config.data_dir)?;
    let server = Server::open(config.clone()).await?;
    if let Some(password) = &server.generated_admin_password {
        announce_admin_password(&config, password);
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

/// Shows a generated admin password to the person who started the server, and
/// only to them: on a terminal it is printed, but a log (a file, the journal, a
/// log collector) keeps it long after, readable by whoever reads logs, so
/// there only the `0600` file that holds it is named.
fn announce_admin_password(config: &Config, password: &str) {
    let path = herald_server::files::admin_password_path(config);
    if std::io::stderr().is_terminal() {
        say(format_args!(
            "Created the first user `admin` with password: {password}\n\
             (also saved to {}; change it after logging in)",
            path.display()
        ));
    } else {
        tracing::warn!(
            "created the first user `admin` with a generated password, saved in {} \
             (readable only by this user); log in and change it",
            path.display()
        );
    }
}

/// glibc raises its mmap threshold each time a large block is freed, after
/// which blocks up to 32 MiB (argon2id's 19 MiB among them) come from the
/// per-thread heaps and stay resident after they are freed. Under a login or
/// request flood that kept hundreds of megabytes (T16: 384 MB peak, 62 MB with
/// the threshold fixed). A fixed threshold hands every block of 128 KiB or more
/// back to the system when it is freed.
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning, under its own locks
    // (MT-Safe in glibc), before the server allocates anything large.
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
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
