//! What the store's rules need from a backend: run a statement, read its rows.
//!
//! Every rule of the store (who may see what, unread counts, membership) is
//! written once, in the modules beside this one, as an `async fn` over a [`Db`].
//! A backend implements `Db` for its connection, and [`Dialect`] for what its
//! SQL spells differently (list parameters, the stream's head); nothing else.
//!
//! Statements are written once, in the subset both dialects read alike, with
//! `$1`, `$2`… as placeholders (SQLite binds them by name, PostgreSQL by
//! position). Each parameter carries its PostgreSQL type ([`Param`]), so a
//! parameter PostgreSQL cannot infer (one compared with `NULL`, or unused by a
//! variant of a query) needs no cast.
//!
//! SQLite never waits: its `Db` futures finish at their first poll, so its
//! writer thread and read pool run them to the end at once (`sqlite::db::now`)
//! instead of on a runtime.

use std::sync::OnceLock;

use herald_protocol::stored::StoredRow;

use crate::{rules, Error, Result};

/// A connection (or transaction) the store's rules run their statements on.
pub(crate) trait Db: Dialect {
    /// Runs `sql` and maps each row it returns, in order.
    async fn query<T: Send>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnMut(&Row<'_>) -> Result<T> + Send,
    ) -> Result<Vec<T>>;

    /// Runs `sql` and returns how many rows it changed.
    async fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64>;

    /// Runs an `INSERT` (written without `RETURNING`) and returns the `key`
    /// (the integer primary key) of each row it inserted, in the order it
    /// inserted them. SQLite knows them without `RETURNING`, which costs it
    /// several times the insert itself; PostgreSQL is asked with it.
    async fn insert(&self, sql: &str, key: &str, params: &[&dyn Param]) -> Result<Vec<i64>>;

    /// [`Db::insert`] of one row.
    async fn insert_one(&self, sql: &str, key: &str, params: &[&dyn Param]) -> Result<i64> {
        let keys = self.insert(sql, key, params).await?;
        rules::exactly_one_row(keys)
    }

    /// The first row `sql` returns, if any.
    async fn query_opt<T: Send>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnMut(&Row<'_>) -> Result<T> + Send,
    ) -> Result<Option<T>> {
        Ok(self.query(sql, params, map).await?.into_iter().next())
    }

    /// The row `sql` always returns (an aggregate, an `INSERT … RETURNING`).
    async fn query_one<T: Send>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnMut(&Row<'_>) -> Result<T> + Send,
    ) -> Result<T> {
        self.query_opt(sql, params, map)
            .await?
            .ok_or_else(|| Error::Corrupt(format!("no row from: {sql}")))
    }
}

/// What differs between the dialects: how a list parameter ([`Ids`], [`Names`])
/// becomes a table, and how the stream's head is found.
pub(crate) trait Dialect {
    /// Which slot of a [`ListSql`] keeps this dialect's spelling.
    const SLOT: usize;
    /// The table of list parameter `param` (`$2`) under `alias`, with columns
    /// `value` (an element) and `key` (its position, ascending in list order).
    fn list_table(param: &str, alias: &str) -> String;
    /// The newest cursor handed out (see each backend for why it is exact).
    const HEAD: &'static str;
}

/// A statement with list parameters, written once: each `{list $N AS x}` in its
/// text becomes the dialect's table of parameter `$N` ([`Dialect::list_table`]),
/// spelled once per process and dialect.
pub(crate) struct ListSql {
    text: &'static str,
    spelled: [OnceLock<String>; 2],
}

impl ListSql {
    pub(crate) const fn new(text: &'static str) -> Self {
        Self {
            text,
            spelled: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// The text in `D`'s dialect.
    pub(crate) fn text<D: Dialect>(&self) -> &str {
        self.spelled[D::SLOT].get_or_init(|| {
            let mut text = String::with_capacity(self.text.len() + 64);
            let mut rest = self.text;
            while let Some(start) = rest.find("{list ") {
                let Some(len) = rest[start..].find('}') else {
                    break;
                };
                let spec = &rest[start + "{list ".len()..start + len];
                let (param, alias) = spec.split_once(" AS ").unwrap_or((spec, "list"));
                text.push_str(&rest[..start]);
                text.push_str(&D::list_table(param, alias));
                rest = &rest[start + len + 1..];
            }
            text.push_str(rest);
            text
        })
    }
}

/// A row of a result, whichever backend produced it.
pub(crate) enum Row<'a> {
    #[cfg(feature = "sqlite")]
    Sqlite(&'a rusqlite::Row<'a>),
    #[cfg(feature = "postgres")]
    Postgres(&'a tokio_postgres::Row),
}

impl Row<'_> {
    /// The value of column `i` (0-based).
    pub(crate) fn get<T: Column>(&self, i: usize) -> Result<T> {
        match *self {
            #[cfg(feature = "sqlite")]
            Row::Sqlite(row) => Ok(row.get(i)?),
            #[cfg(feature = "postgres")]
            Row::Postgres(row) => Ok(row.try_get(i)?),
        }
    }
}

impl StoredRow for Row<'_> {
    type Error = Error;
    /// Any integer column: PostgreSQL's are of several widths (a priority is a
    /// `smallint`), SQLite's all one.
    fn int(&self, column: usize) -> Result<i64> {
        match *self {
            #[cfg(feature = "postgres")]
            Row::Postgres(row) => {
                use tokio_postgres::types::Type;
                Ok(match *row.columns()[column].type_() {
                    Type::INT2 => i64::from(row.try_get::<_, i16>(column)?),
                    Type::INT4 => i64::from(row.try_get::<_, i32>(column)?),
                    _ => row.try_get(column)?,
                })
            }
            #[allow(unreachable_patterns)]
            _ => self.get(column),
        }
    }
    fn text(&self, column: usize) -> Result<String> {
        self.get(column)
    }
    fn opt_text(&self, column: usize) -> Result<Option<String>> {
        self.get(column)
    }
    fn flag(&self, column: usize) -> Result<bool> {
        self.get(column)
    }
    fn corrupt(&self, column: usize, problem: String) -> Error {
        Error::Corrupt(format!("column {column}: {problem}"))
    }
}

/// A type both backends read from a column.
pub(crate) trait Column: FromSqlite + FromPostgres {}
impl<T: FromSqlite + FromPostgres> Column for T {}

#[cfg(feature = "sqlite")]
pub(crate) trait FromSqlite: rusqlite::types::FromSql {}
#[cfg(feature = "sqlite")]
impl<T: rusqlite::types::FromSql> FromSqlite for T {}
#[cfg(not(feature = "sqlite"))]
pub(crate) trait FromSqlite {}
#[cfg(not(feature = "sqlite"))]
impl<T> FromSqlite for T {}

#[cfg(feature = "postgres")]
pub(crate) trait FromPostgres: for<'r> tokio_postgres::types::FromSql<'r> {}
#[cfg(feature = "postgres")]
impl<T: for<'r> tokio_postgres::types::FromSql<'r>> FromPostgres for T {}
#[cfg(not(feature = "postgres"))]
pub(crate) trait FromPostgres {}
#[cfg(not(feature = "postgres"))]
impl<T> FromPostgres for T {}

/// A statement parameter, as each backend binds it.
pub(crate) trait Param: Sync {
    #[cfg(feature = "sqlite")]
    fn sqlite(&self) -> SqliteValue<'_>;
    /// The value and the type PostgreSQL is told it has.
    #[cfg(feature = "postgres")]
    fn postgres(&self) -> PostgresValue<'_>;
}

#[cfg(feature = "sqlite")]
pub(crate) type SqliteValue<'a> = rusqlite::Result<rusqlite::types::ToSqlOutput<'a>>;
#[cfg(feature = "postgres")]
pub(crate) type PostgresValue<'a> = (
    &'a (dyn tokio_postgres::types::ToSql + Sync),
    tokio_postgres::types::Type,
);

/// Plain values: both drivers bind them as they are.
macro_rules! plain_params {
    ($($rust:ty => $postgres:ident),* $(,)?) => {$(
        impl Param for $rust {
            #[cfg(feature = "sqlite")]
            fn sqlite(&self) -> SqliteValue<'_> {
                rusqlite::ToSql::to_sql(self)
            }
            #[cfg(feature = "postgres")]
            fn postgres(&self) -> PostgresValue<'_> {
                (self, tokio_postgres::types::Type::$postgres)
            }
        }
    )*};
}

plain_params!(
    i64 => INT8,
    Option<i64> => INT8,
    i16 => INT2,
    bool => BOOL,
    Option<bool> => BOOL,
    String => TEXT,
    Option<String> => TEXT,
    &str => TEXT,
    Option<&str> => TEXT,
    &[u8] => BYTEA,
);

/// Ids as one parameter: an array for PostgreSQL, a JSON array for SQLite.
pub(crate) struct Ids<'a>(pub &'a [i64]);

/// Names as one parameter, like [`Ids`].
pub(crate) struct Names<'a>(pub &'a [String]);

/// List parameters: an array for PostgreSQL, JSON text for SQLite's `json_each`.
macro_rules! list_params {
    ($($list:ident => $postgres:ident),* $(,)?) => {$(
        impl Param for $list<'_> {
            #[cfg(feature = "sqlite")]
            fn sqlite(&self) -> SqliteValue<'_> {
                let json = serde_json::to_string(self.0)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
                Ok(rusqlite::types::ToSqlOutput::from(json))
            }
            #[cfg(feature = "postgres")]
            fn postgres(&self) -> PostgresValue<'_> {
                (&self.0, tokio_postgres::types::Type::$postgres)
            }
        }
    )*};
}

list_params!(Ids => INT8_ARRAY, Names => TEXT_ARRAY);

#[cfg(test)]
mod tests {
    use super::*;

    struct Spelled;

    impl Dialect for Spelled {
        const SLOT: usize = 0;
        fn list_table(param: &str, alias: &str) -> String {
            format!("table_of({param}) {alias}")
        }
        const HEAD: &'static str = "";
    }

    #[test]
    fn each_list_of_a_statement_is_spelled_by_the_dialect() {
        let sql = ListSql::new(
            "SELECT i.value FROM {list $2 AS i} WHERE i.value IN (SELECT j.value FROM {list $3 AS j})",
        );
        assert_eq!(
            sql.text::<Spelled>(),
            "SELECT i.value FROM table_of($2) i WHERE i.value IN (SELECT j.value FROM table_of($3) j)"
        );
    }
}
