//! `herald-bench`: runs the benchmark suite and writes JSON + a markdown table.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use herald_bench::target::Launch;
use herald_bench::{Plan, Scenario};

#[derive(Debug, Parser)]
#[command(
    name = "herald-bench",
    about = "Herald's load generator (targets T1–T12, T16)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Tiny counts, a few seconds, Herald only: checks the harness works.
    #[arg(long)]
    smoke: bool,
    /// Seconds to hold the idle connections (T1 asks for 600).
    #[arg(long)]
    hold: Option<u64>,
    #[arg(long)]
    idle_connections: Option<usize>,
    #[arg(long)]
    broadcast_users: Option<usize>,
    #[arg(long)]
    crash_iterations: Option<usize>,
    /// PostgreSQL for T11 (a throwaway database is created in it and dropped).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
    /// Run only these scenarios (repeatable); default all.
    #[arg(long = "scenario", value_enum)]
    scenarios: Vec<Scenario>,
    /// Skip the Node.js and Python peers.
    #[arg(long)]
    no_peers: bool,
    /// `herald-server` to measure; `self` runs this binary's built-in copy.
    /// Default: `herald-server` next to this binary, else `self`.
    #[arg(long)]
    server_bin: Option<String>,
    /// Directory with the peers' `node/` and `python/` (installed by scripts/bench.sh).
    #[arg(long, default_value = "bench/peers")]
    peers_dir: PathBuf,
    /// Where `<date>.json` and `<date>.md` are written.
    #[arg(long, default_value = "bench/results")]
    results_dir: PathBuf,
    /// Databases and server logs; default a temporary directory (removed after).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a Herald server from this binary (same flags as `herald-server`), so
    /// the smoke test measures the code it was built with.
    #[command(hide = true)]
    ServeHerald {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("herald-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command {
        Some(Command::ServeHerald { ref args }) => runtime.block_on(serve_herald(args)),
        None => runtime.block_on(bench(cli)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("herald-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let mut plan = if cli.smoke {
        Plan::smoke()
    } else {
        Plan::full()
    };
    if let Some(hold) = cli.hold {
        plan.hold = Duration::from_secs(hold);
    }
    if let Some(n) = cli.idle_connections {
        plan.idle_connections = n;
    }
    if let Some(n) = cli.broadcast_users {
        plan.broadcast_users = n;
    }
    if let Some(n) = cli.crash_iterations {
        plan.crash_iterations = n;
    }
    plan.postgres_admin_url = cli.postgres.clone();
    if !cli.scenarios.is_empty() {
        plan.scenarios = cli.scenarios.clone();
    }
    if cli.no_peers {
        plan.peers.clear();
    }
    let temp;
    let work_dir = match &cli.work_dir {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::Builder::new().prefix("herald-bench").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let herald_bin = match cli.server_bin.as_deref() {
        Some("self") => None,
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::current_exe()?
            .parent()
            .map(|dir| dir.join("herald-server"))
            .filter(|bin| bin.exists()),
    };
    eprintln!(
        "herald-bench ({} mode): server {}, work dir {}",
        plan.mode,
        herald_bin
            .as_ref()
            .map_or("built-in (serve-herald)".into(), |b| b
                .display()
                .to_string()),
        work_dir.display()
    );
    let launch = Launch {
        herald_bin,
        peers_dir: cli.peers_dir.clone(),
        log_dir: work_dir.join("logs"),
    };
    let mut results = herald_bench::run(&plan, &launch, &work_dir).await?;
    let now = time::OffsetDateTime::now_utc();
    results.date = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute()
    );
    results.command = std::env::args().collect::<Vec<_>>().join(" ");
    let (json, md) = herald_bench::write_results(&results, &cli.results_dir)?;
    println!("{}", results.markdown());
    eprintln!("wrote {} and {}", json.display(), md.display());
    Ok(())
}

/// `herald-server`'s `main`, minus logging set-up details.
async fn serve_herald(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    use herald_server::{Config, Flags, Server};
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        // As in herald-server: a log line that cannot be written must not panic.
        .log_internal_errors(false)
        .init();
    let flags =
        Flags::parse_from(std::iter::once("herald-server".to_owned()).chain(args.iter().cloned()));
    let config = Config::load(&flags)?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let server = Server::open(config).await?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    server
        .run(listener, async move {
            term.recv().await;
        })
        .await?;
    Ok(())
}
