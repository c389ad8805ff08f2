//! Forward-only migrations, tracked in `schema_migrations`.
//!
//! Several nodes may start at once against one database: a session advisory
//! lock lets one migrate while the others wait, then find nothing left to do.
//! Each migration commits in its own transaction together with its version row.

use tokio_postgres::Client;

use crate::Result;

/// The session lock held while migrating ("herald m" in ASCII); distinct from
/// the writer's lock, which migrations never need.
const MIGRATION_LOCK_KEY: i64 = 0x6865_7261_6c64_206d;

/// Index `i` holds the migration that takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_events_name_their_rows.sql"),
];

pub(super) async fn migrate(client: &mut Client) -> Result<()> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let migrated = apply(client).await;
    // Unlock even after a failure; the session ends soon anyway.
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await;
    migrated?;
    unlocked?;
    Ok(())
}

async fn apply(client: &mut Client) -> Result<()> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version bigint PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await?;
    let done: i64 = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
        let version = i as i64 + 1;
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version, "migrated the PostgreSQL schema");
    }
    Ok(())
}
