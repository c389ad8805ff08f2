//! Herald's load generator: measures the targets T1–T12 and T16 of PERFORMANCE.md
//! against a `herald-server` process and, side by side, against peer servers
//! shaped like the seed design (Node.js `ws`, Python FastAPI/uvicorn).
//!
//! The server runs as its own process (so its RSS and CPU time can be read from
//! `/proc/<pid>/`), the generator is this process, everything on 127.0.0.1, and
//! every scenario has bounded counts and duration.

mod error;
pub mod http;
pub mod load;
pub mod procstat;
pub mod receivers;
pub mod report;
pub mod scenarios;
pub mod seed;
pub mod stamp;
pub mod target;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use error::{Error, Result};

use report::{Durable, Results, TargetResults};
use scenarios::broadcast::Phase;
use target::{Kind, Launch, Target};

/// Which scenarios to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    Idle,
    Broadcast,
    Personal,
    Chat,
    Durable,
    Postgres,
    Crash,
    /// T16: a wrong-password login flood.
    Login,
}

/// Sizes, rates and durations of one suite run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub mode: &'static str,
    pub idle_connections: usize,
    pub hold: Duration,
    pub broadcast_users: usize,
    /// T4: broadcasts at a modest rate, for the last receiver's latency.
    pub latency_phase: Phase,
    /// T5/T12: broadcasts offered above the target, for sustained throughput.
    pub throughput_phase: Phase,
    pub personal_users: usize,
    pub t6_rate: f64,
    pub t6_seconds: f64,
    pub t7_rates: Vec<f64>,
    pub t7_seconds: f64,
    /// T8: rooms × members (distinct users), messages per second, seconds.
    pub chat_rooms: usize,
    pub chat_members: usize,
    pub chat_rate: f64,
    pub chat_seconds: f64,
    pub durable_workers: usize,
    pub durable_seconds: f64,
    /// T11: where a throwaway database is created.
    pub postgres_admin_url: String,
    /// T11's batched run: recipients per notification.
    pub postgres_batch: usize,
    pub crash_iterations: usize,
    /// T16: one run per flood, each on a fresh server.
    pub login_floods: Vec<scenarios::login::Flood>,
    /// How long to wait for stragglers after the last scheduled send.
    pub drain: Duration,
    pub peers: Vec<Kind>,
    pub scenarios: Vec<Scenario>,
}

impl Plan {
    /// The full suite (about 15 minutes with a 10-minute hold).
    pub fn full() -> Self {
        Self {
            mode: "full",
            idle_connections: 19_000,
            hold: Duration::from_secs(600),
            broadcast_users: 10_000,
            latency_phase: Phase {
                rate: 4.0,
                count: 40,
            },
            throughput_phase: Phase {
                rate: 15.0,
                count: 150,
            },
            personal_users: 1_000,
            t6_rate: 10_000.0,
            t6_seconds: 10.0,
            t7_rates: vec![2_000.0, 5_000.0, 10_000.0, 15_000.0, 25_000.0, 35_000.0],
            t7_seconds: 5.0,
            chat_rooms: 1_000,
            chat_members: 10,
            chat_rate: 1_000.0,
            chat_seconds: 10.0,
            durable_workers: 64,
            durable_seconds: 10.0,
            postgres_admin_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            postgres_batch: 100,
            crash_iterations: 20,
            login_floods: scenarios::login::Flood::from_one_and_from_each(500, 10.0, 50.0),
            drain: Duration::from_secs(20),
            peers: vec![Kind::Node, Kind::Python],
            scenarios: vec![
                Scenario::Idle,
                Scenario::Broadcast,
                Scenario::Personal,
                Scenario::Chat,
                Scenario::Durable,
                Scenario::Postgres,
                Scenario::Crash,
                Scenario::Login,
            ],
        }
    }

    /// Tiny counts, a few seconds in all, Herald only: proves the harness works.
    pub fn smoke() -> Self {
        Self {
            mode: "smoke",
            idle_connections: 50,
            hold: Duration::from_secs(1),
            broadcast_users: 20,
            latency_phase: Phase {
                rate: 10.0,
                count: 5,
            },
            throughput_phase: Phase {
                rate: 20.0,
                count: 10,
            },
            personal_users: 10,
            t6_rate: 200.0,
            t6_seconds: 0.5,
            t7_rates: vec![100.0, 200.0],
            t7_seconds: 0.5,
            chat_rooms: 5,
            chat_members: 3,
            chat_rate: 20.0,
            chat_seconds: 0.5,
            durable_workers: 4,
            durable_seconds: 0.5,
            postgres_batch: 5,
            crash_iterations: 2,
            login_floods: scenarios::login::Flood::from_one_and_from_each(20, 1.0, 20.0),
            drain: Duration::from_secs(5),
            peers: Vec::new(),
            ..Self::full()
        }
    }
}

/// Runs the plan and returns what it measured. `work_dir` holds databases and
/// server logs.
pub async fn run(plan: &Plan, launch: &Launch, work_dir: &std::path::Path) -> Result<Results> {
    let started = Instant::now();
    let mut results = Results {
        mode: plan.mode.into(),
        machine: report::Machine::describe(),
        load_average_before: procstat::load_average(),
        ..Results::default()
    };
    let wants = |s| plan.scenarios.contains(&s);
    let herald_dir = work_dir.join("herald");
    let needs_seed = wants(Scenario::Idle)
        || wants(Scenario::Broadcast)
        || wants(Scenario::Personal)
        || wants(Scenario::Chat)
        || wants(Scenario::Durable)
        || wants(Scenario::Login);
    let seeded = if needs_seed {
        let users = plan
            .idle_connections
            .max(plan.broadcast_users)
            .max(plan.personal_users)
            .max(plan.chat_rooms * plan.chat_members);
        eprintln!("==> seeding {users} users with session tokens");
        let t = Instant::now();
        let seeded = Arc::new(seed::herald(&herald_dir, users).await?);
        eprintln!("    done in {:.1} s", t.elapsed().as_secs_f64());
        Some(seeded)
    } else {
        None
    };

    if let (true, Some(seeded)) = (wants(Scenario::Idle), &seeded) {
        eprintln!("==> T1–T3 idle: {} connections", plan.idle_connections);
        let target = Target::herald(launch, &herald_dir, seeded.clone()).await?;
        results.idle = Some(scenarios::idle::run(&target, plan.idle_connections, plan.hold).await?);
        target.stop().await?;
    }

    let mut kinds = vec![Kind::Herald];
    kinds.extend(plan.peers.iter().copied());
    for kind in kinds {
        let mut outcome = TargetResults {
            target: kind.name().into(),
            ..TargetResults::default()
        };
        let users = plan.broadcast_users.max(plan.personal_users);
        if wants(Scenario::Broadcast) {
            eprintln!(
                "==> T4/T5/T12 broadcast: {} ({} users)",
                kind.name(),
                plan.broadcast_users
            );
            match start(kind, launch, &herald_dir, seeded.as_ref(), users).await {
                Ok(target) => {
                    let phases = [plan.latency_phase, plan.throughput_phase];
                    match scenarios::broadcast::run(
                        &target,
                        plan.broadcast_users,
                        &phases,
                        plan.drain,
                    )
                    .await
                    {
                        Ok(mut r) => {
                            outcome.broadcast_throughput = r.pop();
                            outcome.broadcast_latency = r.pop();
                        }
                        Err(e) => outcome.errors.push(format!("broadcast: {e}")),
                    }
                    target.stop().await?;
                }
                Err(e) => outcome.errors.push(format!("broadcast: {e}")),
            }
        }
        if wants(Scenario::Personal) {
            eprintln!(
                "==> T6/T7 personal: {} ({} users)",
                kind.name(),
                plan.personal_users
            );
            match start(kind, launch, &herald_dir, seeded.as_ref(), users).await {
                Ok(target) => {
                    if let Err(e) = personal(&target, plan, &mut outcome).await {
                        outcome.errors.push(format!("personal: {e}"));
                    }
                    target.stop().await?;
                }
                Err(e) => outcome.errors.push(format!("personal: {e}")),
            }
        }
        for e in &outcome.errors {
            eprintln!("    error: {e}");
        }
        results.targets.push(outcome);
    }

    if let (true, Some(seeded)) = (wants(Scenario::Chat), &seeded) {
        eprintln!(
            "==> T8 chat: {} rooms × {} members",
            plan.chat_rooms, plan.chat_members
        );
        let rooms =
            scenarios::chat::seed(&herald_dir, seeded, plan.chat_rooms, plan.chat_members).await?;
        let target = Target::herald(launch, &herald_dir, seeded.clone()).await?;
        let chat = scenarios::chat::run(
            &target,
            seeded,
            &rooms,
            plan.chat_members,
            plan.chat_rate,
            plan.chat_seconds,
            plan.drain.min(Duration::from_secs(10)),
        )
        .await;
        target.stop().await?;
        results.chat = Some(chat?);
    }
    if let (true, Some(seeded)) = (wants(Scenario::Durable), &seeded) {
        eprintln!("==> T9 durable writes");
        let target = Target::herald(launch, &herald_dir, seeded.clone()).await?;
        let http =
            scenarios::durable::http(&target, plan.durable_workers, plan.durable_seconds).await?;
        target.stop().await?;
        eprintln!(
            "    HTTP: {:.0}/s with {} clients",
            http.per_s, http.workers
        );
        let store_dir = work_dir.join("store");
        let store = scenarios::durable::sqlite_store(&store_dir, 512, plan.durable_seconds).await?;
        eprintln!(
            "    store: {:.0}/s with {} tasks",
            store.per_s, store.workers
        );
        results.durable = Some(Durable {
            synchronous: "FULL (WAL)".into(),
            http,
            store,
        });
    }
    if wants(Scenario::Postgres) {
        eprintln!("==> T11 PostgreSQL writes");
        let postgres = scenarios::durable::postgres_store(
            &plan.postgres_admin_url,
            plan.postgres_batch,
            512,
            plan.durable_seconds,
        )
        .await?;
        eprintln!(
            "    single: {:.0}/s; {} recipients: {:.0}/s",
            postgres.single.per_s, postgres.recipients_per_batch, postgres.batched.per_s
        );
        results.postgres = Some(postgres);
    }
    if wants(Scenario::Crash) {
        eprintln!("==> T10 kill -9 × {}", plan.crash_iterations);
        results.crash = Some(
            scenarios::crash::run(launch, &work_dir.join("crash"), plan.crash_iterations).await?,
        );
    }
    if let (true, Some(seeded)) = (wants(Scenario::Login), &seeded) {
        for flood in &plan.login_floods {
            eprintln!(
                "==> T16 login flood: {} loops from {} address(es), {} s",
                flood.attackers, flood.addresses, flood.seconds
            );
            let run = scenarios::login::run(launch, &herald_dir, seeded.clone(), *flood).await?;
            eprintln!(
                "    RSS {} → {} KiB{}; answers {:?}; healthy p99 {:.1} ms ({} failed)",
                run.rss_before_kib,
                run.rss_peak_kib,
                if run.killed_at_guard {
                    " (killed at the guard)"
                } else {
                    ""
                },
                run.answers,
                run.healthy.p99_ms,
                run.healthy_failed
            );
            results.login.push(run);
        }
    }
    results.load_average_after = procstat::load_average();
    results.wall_s = started.elapsed().as_secs_f64();
    Ok(results)
}

async fn start(
    kind: Kind,
    launch: &Launch,
    herald_dir: &std::path::Path,
    seeded: Option<&Arc<seed::Seeded>>,
    users: usize,
) -> Result<Target> {
    match (kind, seeded) {
        (Kind::Herald, Some(seeded)) => Target::herald(launch, herald_dir, seeded.clone()).await,
        (Kind::Herald, None) => Err(Error::Setup("Herald needs a seeded database".into())),
        (peer, _) => Target::peer(peer, launch, users).await,
    }
}

async fn personal(target: &Target, plan: &Plan, outcome: &mut TargetResults) -> Result<()> {
    let mut bench = scenarios::personal::Bench::connect(target, plan.personal_users).await?;
    let drain = plan.drain.min(Duration::from_secs(10));
    outcome.personal = Some(bench.run(plan.t6_rate, plan.t6_seconds, drain).await?);
    let (steps, best) = bench
        .step_search(&plan.t7_rates, plan.t7_seconds, drain)
        .await?;
    outcome.steps = steps;
    outcome.highest_rate_p99_10ms = best;
    bench.close().await;
    Ok(())
}

/// Where results go: `<dir>/<date>.json` and `<dir>/<date>.md`.
pub fn write_results(results: &Results, dir: &std::path::Path) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let stem = results.date.replace(':', "-");
    let json = dir.join(format!("{stem}.json"));
    let md = dir.join(format!("{stem}.md"));
    std::fs::write(&json, serde_json::to_string_pretty(results)?)?;
    let text = format!(
        "# Herald benchmark {} ({} mode)\n\nMachine: {} × {}, {} GiB, kernel {}; open files {}.\n\
         Load average before {}, after {}; wall time {:.0} s.\n\nCommand: `{}`\n\n{}",
        results.date,
        results.mode,
        results.machine.cpus,
        results.machine.cpu_model,
        results.machine.memory_gib,
        results.machine.kernel,
        results.machine.open_files_limit,
        results.load_average_before,
        results.load_average_after,
        results.wall_s,
        results.command,
        results.markdown()
    );
    std::fs::write(&md, text)?;
    Ok((json, md))
}
