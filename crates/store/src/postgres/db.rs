//! PostgreSQL's side of [`Db`]: cached statements prepared with the types the
//! parameters declare, list parameters read with `unnest`.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::{ToSql, Type};

use crate::db::{Db, Dialect, Param, Row};
use crate::Result;

/// A pooled connection or a transaction, as a [`Db`].
pub(super) struct Pg<'a, C>(pub &'a C);

impl<C: GenericClient> Db for Pg<'_, C> {
    async fn query<T: Send>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnMut(&Row<'_>) -> Result<T> + Send,
    ) -> Result<Vec<T>> {
        let (values, types) = bind(params);
        let stmt = self.0.prepare_typed_cached(sql, &types).await?;
        let rows = self.0.query(&stmt, &values).await?;
        let mut map = map;
        rows.iter().map(|row| map(&Row::Postgres(row))).collect()
    }

    async fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64> {
        let (values, types) = bind(params);
        let stmt = self.0.prepare_typed_cached(sql, &types).await?;
        Ok(self.0.execute(&stmt, &values).await?)
    }

    /// Keys come back in insertion order, which is the order of their values:
    /// sequences are drawn as rows are inserted, under the writer's lock.
    async fn insert(&self, sql: &str, key: &str, params: &[&dyn Param]) -> Result<Vec<i64>> {
        let mut keys = self
            .query(&format!("{sql} RETURNING {key}"), params, |row| row.get(0))
            .await?;
        keys.sort_unstable();
        Ok(keys)
    }
}

type Values<'p> = Vec<&'p (dyn ToSql + Sync)>;

fn bind<'p>(params: &[&'p dyn Param]) -> (Values<'p>, Vec<Type>) {
    params.iter().map(|param| param.postgres()).unzip()
}

impl<C> Dialect for Pg<'_, C> {
    const SLOT: usize = 1;

    /// A list parameter is an array, whose type [`Param`] declares.
    fn list_table(param: &str, alias: &str) -> String {
        format!("unnest({param}) WITH ORDINALITY AS {alias}(value, key)")
    }

    /// The newest visible cursor, kept by `purged_through` when a purge emptied
    /// the table. Never the sequence's last value: that may belong to a
    /// transaction still running (or rolled back), and a cursor handed out past
    /// it would skip it.
    const HEAD: &'static str = "SELECT greatest(
             (SELECT max(seq) FROM events),
             (SELECT value FROM meta WHERE key = 'purged_through'))";
}
