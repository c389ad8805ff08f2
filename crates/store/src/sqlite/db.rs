//! SQLite's side of [`Db`]: cached statements with parameters bound by name
//! (`$1` is a named parameter to SQLite), list parameters read with `json_each`.

use std::future::Future;

use futures_util::FutureExt;
use rusqlite::{CachedStatement, Connection};

use crate::db::{Db, Dialect, Param, Row};
use crate::{Error, Result};

/// Runs a store rule to its end on the calling thread: every SQLite statement
/// is synchronous, so its futures never wait.
pub(super) fn now<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    work.now_or_never().unwrap_or_else(|| {
        Err(Error::Unavailable(
            "a SQLite call waited, which it never should".into(),
        ))
    })
}

impl Db for Connection {
    async fn query<T: Send>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut map: impl FnMut(&Row<'_>) -> Result<T> + Send,
    ) -> Result<Vec<T>> {
        let mut stmt = prepare(self, sql, params)?;
        let mut rows = stmt.raw_query();
        let mut mapped = Vec::new();
        while let Some(row) = rows.next()? {
            mapped.push(map(&Row::Sqlite(row))?);
        }
        Ok(mapped)
    }

    async fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64> {
        Ok(prepare(self, sql, params)?.raw_execute()? as u64)
    }

    /// The keys of the rows are the ones just below the last rowid: with one
    /// writer, a statement's rows get consecutive rowids in insertion order.
    async fn insert(&self, sql: &str, _key: &str, params: &[&dyn Param]) -> Result<Vec<i64>> {
        let inserted = prepare(self, sql, params)?.raw_execute()? as i64;
        let last = self.last_insert_rowid();
        Ok((last - inserted + 1..=last).collect())
    }
}

/// Parameter names by position: `$1` is `params[0]`.
const NAMES: [&str; 12] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12",
];

/// The cached statement with every parameter it names bound; one it does not
/// name (a variant of a query that leaves it out) is skipped.
fn prepare<'c>(
    conn: &'c Connection,
    sql: &str,
    params: &[&dyn Param],
) -> Result<CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql)?;
    if params.len() > NAMES.len() {
        return Err(rusqlite::Error::InvalidParameterCount(params.len(), NAMES.len()).into());
    }
    for (name, param) in NAMES.iter().zip(params) {
        if let Some(index) = stmt.parameter_index(name)? {
            stmt.raw_bind_parameter(index, param.sqlite()?)?;
        }
    }
    Ok(stmt)
}

impl Dialect for Connection {
    const SLOT: usize = 0;

    /// A list parameter is a JSON array (see [`crate::db::Ids`]).
    fn list_table(param: &str, alias: &str) -> String {
        format!("json_each({param}) AS {alias}")
    }

    /// AUTOINCREMENT keeps the newest cursor in `sqlite_sequence`, even after a
    /// purge empties the table; the single writer makes it visible in order.
    const HEAD: &'static str = "SELECT seq FROM sqlite_sequence WHERE name = 'events'";
}
