//! Results: what each scenario measured, as JSON and as the markdown table of
//! targets T1–T12 with Herald ÷ peer ratios.

use hdrhistogram::Histogram;
use serde::Serialize;

/// A latency histogram in microseconds, 1 µs to 1 hour, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant bounds are valid")
}

/// Percentiles of a histogram, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }

    fn brief(&self) -> String {
        format!("p50 {} / p99 {} ms", num(self.p50_ms), num(self.p99_ms))
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_gib: u64,
    pub kernel: String,
    pub open_files_limit: u64,
}

impl Machine {
    pub fn describe() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let memory_kib: u64 = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass.
        #[allow(unsafe_code)]
        unsafe {
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit)
        };
        Self {
            cpus: cpuinfo.matches("processor\t:").count(),
            cpu_model: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name\t: "))
                .unwrap_or("unknown")
                .to_owned(),
            memory_gib: memory_kib.div_ceil(1024 * 1024),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            open_files_limit: limit.rlim_cur,
        }
    }
}

/// T1–T3.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Idle {
    pub attempted: usize,
    pub connected: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    /// From the first connect to the last `hello`, s.
    pub establish_s: f64,
    /// Server CPU (user + system) from the first connect until the connections
    /// settled, µs per connection: steadier than `establish_s` on a shared machine.
    pub establish_cpu_us_per_connection: f64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub kib_per_connection: f64,
    pub hold_s: f64,
    pub dropped: usize,
    /// Connected and still open at the end of the hold.
    pub held: usize,
    /// Server CPU while idle (heartbeats), s.
    pub hold_cpu_s: f64,
    pub bench_rss_kib: u64,
}

/// T4 / T5 / T12 for one target.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Broadcast {
    pub users: usize,
    pub connected: usize,
    pub broadcasts: u64,
    /// Offered broadcasts per second.
    pub rate: f64,
    pub accepted: u64,
    pub expected_deliveries: u64,
    pub deliveries: u64,
    /// Broadcasts every connected user received.
    pub complete: u64,
    /// Scheduled send → the last receiver's receipt, per complete broadcast.
    pub last_receiver: Latency,
    /// Scheduled send → each receipt.
    pub each_delivery: Latency,
    pub deliveries_per_s: f64,
    pub server_cpu_s: f64,
    /// Kernel share of the server's CPU time.
    pub server_system_share: f64,
    pub cpu_s_per_million: f64,
    pub first_error: Option<String>,
}

/// T6 / T7 for one target at one rate.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Personal {
    pub rate: f64,
    pub users: usize,
    pub accepted: u64,
    pub refused: u64,
    /// Receipts: one per receiving connection per message.
    pub received: u64,
    /// Receipts a complete run has.
    pub expected: u64,
    /// Messages per second delivered to all their receivers.
    pub achieved_per_s: f64,
    /// Scheduled send → receipt: the figure the targets are about.
    pub latency: Latency,
    /// Actual send → receipt: the part that is not the generator's own lag.
    pub from_actual_send: Latency,
    /// Scheduled send → HTTP response (Herald: durable 201).
    pub ack: Latency,
    pub server_cpu_s: f64,
    /// Kernel share of the server's CPU time.
    pub server_system_share: f64,
    pub first_error: Option<String>,
}

impl Personal {
    /// T7's condition: p99 ≤ 10 ms, everything delivered, rate kept up.
    pub fn passes_t7(&self) -> bool {
        self.latency.count > 0
            && self.latency.p99_ms <= 10.0
            && self.refused == 0
            && self.received >= self.accepted
            && self.achieved_per_s >= 0.95 * self.rate
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Throughput {
    pub workers: usize,
    pub seconds: f64,
    pub accepted: u64,
    pub per_s: f64,
    pub latency: Latency,
}

/// T8: messages to rooms, send → receipt at every member's connection.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Chat {
    pub rooms: usize,
    pub members: usize,
    pub run: Personal,
}

/// T9.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Durable {
    pub synchronous: String,
    /// Through `POST /api/v1/notifications`, many keep-alive clients.
    pub http: Throughput,
    /// `Store::insert_notification` in this process, many tasks.
    pub store: Throughput,
}

/// T11: `Store::insert_notification` on PostgreSQL, in this process.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Postgres {
    /// One recipient per notification.
    pub single: Throughput,
    /// `recipients_per_batch` recipients per notification (one statement).
    pub batched: Throughput,
    pub recipients_per_batch: usize,
}

/// T10.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Crash {
    pub iterations: usize,
    pub acknowledged: u64,
    pub lost: u64,
    /// Restarts after kill -9 that came up and answered.
    pub restarts_ok: usize,
}

/// T16: one run of a wrong-password login flood, with a healthy user's reads
/// beside it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoginFlood {
    /// Distinct client addresses the flood came from (through a trusted proxy).
    pub addresses: usize,
    /// Concurrent login loops.
    pub attackers: usize,
    pub seconds: f64,
    pub attempts: u64,
    /// Answers by status: 401 (a password was checked), 429 (refused first).
    pub answers: std::collections::BTreeMap<u16, u64>,
    pub rss_before_kib: u64,
    pub rss_peak_kib: u64,
    /// The server was killed because its RSS passed the bench's guard.
    pub killed_at_guard: bool,
    /// The healthy user's `GET /notifications/counts`, from its scheduled time.
    pub healthy: Latency,
    pub healthy_failed: u64,
}

/// Everything one target did in the shared scenarios.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TargetResults {
    pub target: String,
    pub broadcast_latency: Option<Broadcast>,
    pub broadcast_throughput: Option<Broadcast>,
    pub personal: Option<Personal>,
    pub steps: Vec<Personal>,
    /// Highest step rate that met T7's condition.
    pub highest_rate_p99_10ms: Option<f64>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Results {
    pub date: String,
    pub mode: String,
    pub command: String,
    pub machine: Machine,
    pub load_average_before: String,
    pub load_average_after: String,
    pub wall_s: f64,
    pub idle: Option<Idle>,
    pub targets: Vec<TargetResults>,
    pub chat: Option<Chat>,
    pub durable: Option<Durable>,
    pub postgres: Option<Postgres>,
    pub crash: Option<Crash>,
    pub login: Vec<LoginFlood>,
}

fn num(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn thousands(x: f64) -> String {
    let n = x.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One row of the table: a measured figure per target and what it is compared by.
struct Row {
    id: &'static str,
    what: &'static str,
    target: &'static str,
    /// Per target (Herald first): shown text and the number ratios use.
    values: Vec<Option<(String, f64)>>,
}

impl Results {
    /// The T1–T12 table: Herald, then each peer with Herald ÷ peer.
    pub fn markdown(&self) -> String {
        let mut rows = Vec::new();
        let per_target = |f: &dyn Fn(&TargetResults) -> Option<(String, f64)>| {
            self.targets.iter().map(f).collect::<Vec<_>>()
        };
        let herald_only = |v: Option<(String, f64)>| {
            let mut values = vec![v];
            values.resize(self.targets.len().max(1), None);
            values
        };
        let idle = self.idle.as_ref();
        rows.push(Row {
            id: "T1",
            what: "idle WebSockets held, none dropped",
            target: "19,000 for 10 min",
            values: herald_only(idle.map(|i| {
                (
                    format!(
                        "{} of {} held {:.0} s, {} dropped, {} failed",
                        thousands(i.held as f64),
                        thousands(i.attempted as f64),
                        i.hold_s,
                        i.dropped,
                        i.failed
                    ),
                    i.held as f64,
                )
            })),
        });
        rows.push(Row {
            id: "T2",
            what: "server RSS per idle connection",
            target: "≤ 8 KiB (4 KiB)",
            values: herald_only(idle.map(|i| {
                (
                    format!("{} KiB", num(i.kib_per_connection)),
                    i.kib_per_connection,
                )
            })),
        });
        rows.push(Row {
            id: "T3",
            what: "connections established + authenticated",
            target: "19,000 in ≤ 3 s",
            values: herald_only(idle.map(|i| {
                (
                    format!(
                        "{} in {} s (server CPU {} µs each)",
                        thousands(i.connected as f64),
                        num(i.establish_s),
                        thousands(i.establish_cpu_us_per_connection)
                    ),
                    i.establish_s,
                )
            })),
        });
        rows.push(Row {
            id: "T4",
            what: "broadcast to 10k users, last receiver",
            target: "p50 ≤ 40, p99 ≤ 80 ms",
            values: per_target(&|t| {
                t.broadcast_latency.as_ref().map(|b| {
                    (
                        format!(
                            "{} ({}/{} complete, {} users)",
                            b.last_receiver.brief(),
                            b.complete,
                            b.broadcasts,
                            b.connected
                        ),
                        b.last_receiver.p99_ms,
                    )
                })
            }),
        });
        rows.push(Row {
            id: "T5",
            what: "broadcast deliveries/s, sustained",
            target: "≥ 100,000/s",
            values: per_target(&|t| {
                t.broadcast_throughput.as_ref().map(|b| {
                    (
                        format!(
                            "{}/s (offered {}/s)",
                            thousands(b.deliveries_per_s),
                            thousands(b.rate * b.connected as f64)
                        ),
                        b.deliveries_per_s,
                    )
                })
            }),
        });
        rows.push(Row {
            id: "T6",
            what: "personal at 10,000/s, POST → receipt",
            target: "p50 ≤ 1, p99 ≤ 5 ms",
            values: per_target(&|t| {
                t.personal.as_ref().map(|p| {
                    (
                        format!("{} at {}/s", p.latency.brief(), thousands(p.achieved_per_s)),
                        p.latency.p99_ms,
                    )
                })
            }),
        });
        rows.push(Row {
            id: "T7",
            what: "highest personal rate with p99 ≤ 10 ms",
            target: "≥ 25,000/s",
            values: per_target(&|t| {
                if t.steps.is_empty() {
                    return None;
                }
                let best = t.highest_rate_p99_10ms.unwrap_or(0.0);
                Some((format!("{}/s", thousands(best)), best))
            }),
        });
        rows.push(Row {
            id: "T8",
            what: "chat 1,000 rooms × 10",
            target: "p99 ≤ 10 ms",
            values: herald_only(self.chat.as_ref().map(|c| {
                (
                    format!(
                        "{} at {}/s ({} rooms × {}; {} of {} receipts)",
                        c.run.latency.brief(),
                        thousands(c.run.achieved_per_s),
                        c.rooms,
                        c.members,
                        c.run.received,
                        c.run.expected
                    ),
                    c.run.latency.p99_ms,
                )
            })),
        });
        let durable = self.durable.as_ref();
        rows.push(Row {
            id: "T9",
            what: "SQLite durable writes, synchronous=FULL",
            target: "≥ 50,000/s",
            values: herald_only(durable.map(|d| {
                (
                    format!(
                        "HTTP {}/s ({} clients); store {}/s",
                        thousands(d.http.per_s),
                        d.http.workers,
                        thousands(d.store.per_s)
                    ),
                    d.http.per_s,
                )
            })),
        });
        rows.push(Row {
            id: "T10",
            what: "kill -9 during T9 load",
            target: "20×, 0 acknowledged lost",
            values: herald_only(self.crash.as_ref().map(|c| {
                (
                    format!(
                        "{}×, {} acknowledged, {} lost",
                        c.iterations,
                        thousands(c.acknowledged as f64),
                        c.lost
                    ),
                    c.lost as f64,
                )
            })),
        });
        rows.push(Row {
            id: "T11",
            what: "PostgreSQL backend",
            target: "≥ 15k/s single, ≥ 50k/s batched",
            values: herald_only(self.postgres.as_ref().map(|p| {
                (
                    format!(
                        "single {}/s; {}-recipient {}/s = {} rows/s ({} tasks)",
                        thousands(p.single.per_s),
                        p.recipients_per_batch,
                        thousands(p.batched.per_s),
                        thousands(p.batched.per_s * p.recipients_per_batch as f64),
                        p.single.workers
                    ),
                    p.single.per_s,
                )
            })),
        });
        rows.push(Row {
            id: "T12",
            what: "server CPU per million broadcast deliveries",
            target: "≤ 5 CPU-s",
            values: per_target(&|t| {
                t.broadcast_throughput
                    .as_ref()
                    .filter(|b| b.deliveries > 0)
                    .map(|b| {
                        (
                            format!("{} CPU-s", num(b.cpu_s_per_million)),
                            b.cpu_s_per_million,
                        )
                    })
            }),
        });

        let floods = &self.login;
        rows.push(Row {
            id: "T16",
            what: "concurrent wrong-password logins: server RSS peak; healthy p99",
            target: "≤ 300 MB; ≤ 50 ms",
            values: herald_only((!floods.is_empty()).then(|| {
                let text = floods
                    .iter()
                    .map(|f| {
                        format!(
                            "{} loops from {} address(es): RSS {} → {} MB{}, healthy p99 {} ms",
                            f.attackers,
                            f.addresses,
                            f.rss_before_kib / 1024,
                            f.rss_peak_kib / 1024,
                            if f.killed_at_guard {
                                " (killed at the guard)"
                            } else {
                                ""
                            },
                            num(f.healthy.p99_ms)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let worst = floods.iter().map(|f| f.healthy.p99_ms).fold(0.0, f64::max);
                (text, worst)
            })),
        });

        let mut out = String::from("| id | what | target | Herald |");
        for peer in self.targets.iter().skip(1) {
            out += &format!(" {} | Herald ÷ {} |", peer.target, peer.target);
        }
        out += "\n|---|---|---|---|";
        for _ in self.targets.iter().skip(1) {
            out += "---|---|";
        }
        out += "\n";
        for row in rows {
            let cell = |v: &Option<(String, f64)>| {
                v.as_ref().map_or("—".to_owned(), |(text, _)| text.clone())
            };
            let herald = row.values.first().cloned().flatten();
            out += &format!(
                "| {} | {} | {} | {} |",
                row.id,
                row.what,
                row.target,
                cell(&herald)
            );
            for peer in row.values.iter().skip(1) {
                let ratio = match (&herald, peer) {
                    (Some((_, h)), Some((_, p))) if *p > 0.0 && h.is_finite() => num(h / p),
                    _ => "—".into(),
                };
                out += &format!(" {} | {} |", cell(peer), ratio);
            }
            out += "\n";
        }
        out
    }
}
