//! T10: kill -9 the server in the middle of write load, again and again, and
//! check that every notification it acknowledged with 201 is in the database.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

use crate::load::closed_loop;
use crate::report::Crash;
use crate::seed::Seeded;
use crate::target::{Launch, Target};
use crate::{Error, Result};

/// Concurrent writers, as in T9.
const WRITERS: usize = 32;
/// The kill lands somewhere in this window after the load starts.
const KILL_AFTER_MS: std::ops::Range<u64> = 300..1200;

/// Runs `iterations` start → load → kill -9 cycles on one database.
pub async fn run(launch: &Launch, dir: &Path, iterations: usize) -> Result<Crash> {
    let seeded = Arc::new(crate::seed::herald(dir, 10).await?);
    let mut acknowledged: Vec<i64> = Vec::new();
    let mut lost: HashSet<i64> = HashSet::new();
    let mut restarts_ok = 0;
    for i in 0..iterations {
        let target = Target::herald(launch, dir, seeded.clone()).await?;
        if i > 0 {
            restarts_ok += 1;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let load = tokio::spawn(load(&target, stop.clone(), &seeded)?);
        let wait = rand::rng().random_range(KILL_AFTER_MS);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        target.kill9().await?;
        stop.store(true, Ordering::Relaxed);
        let ids = load.await.map_err(|e| Error::Setup(e.to_string()))??;
        acknowledged.extend(ids);
        let stored = stored_ids(&dir.join("herald.db"))?;
        lost.extend(acknowledged.iter().filter(|id| !stored.contains(id)));
        eprintln!(
            "    kill -9 #{}: {} acknowledged so far, {} lost",
            i + 1,
            acknowledged.len(),
            lost.len()
        );
    }
    Ok(Crash {
        iterations,
        acknowledged: acknowledged.len() as u64,
        lost: lost.len() as u64,
        restarts_ok,
    })
}

fn load(
    target: &Target,
    stop: Arc<AtomicBool>,
    seeded: &Seeded,
) -> Result<impl std::future::Future<Output = Result<Vec<i64>>> + Send + 'static> {
    let sender = target.sender();
    let users = seeded.users.len();
    let addr = target.addr;
    Ok(async move {
        let done = closed_loop(
            addr,
            WRITERS,
            Duration::from_secs(60),
            stop,
            Arc::new(move |seq| sender.personal(seq as usize % users, "crash")),
            true,
        )
        .await?;
        Ok(done.ids)
    })
}

/// Every notification id in the database, read the way a restarted server
/// would see it (opening the file recovers the WAL).
fn stored_ids(path: &Path) -> Result<HashSet<i64>> {
    let conn = rusqlite::Connection::open(path)?;
    let mut stmt = conn.prepare("SELECT id FROM notifications")?;
    let ids = stmt
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<HashSet<i64>>>()?;
    Ok(ids)
}
