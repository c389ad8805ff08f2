//! From the usernames a request names to the ids rows hold.

use herald_protocol::UserId;

use crate::db::{Db, ListSql, Names};
use crate::{rules, Result};

/// Active users for the names (each once, in name order), or
/// [`crate::Error::UnknownUsers`] naming those that are not, so a request
/// naming a stranger changes nothing.
pub(crate) async fn active_ids<D: Db>(db: &D, names: &[String]) -> Result<Vec<UserId>> {
    let mut names = names.to_vec();
    names.sort();
    names.dedup();
    if let [name] = &names[..] {
        // The common case, without a list parameter to build and read.
        let id = db
            .query_opt(
                "SELECT id FROM users WHERE username = $1 AND NOT disabled",
                &[name],
                |row| row.get(0),
            )
            .await?;
        return rules::all_known(vec![(name.clone(), id)]);
    }
    static ACTIVE_IDS: ListSql = ListSql::new(
        "SELECT n.value, u.id FROM {list $1 AS n}
         LEFT JOIN users u ON u.username = n.value AND NOT u.disabled
         ORDER BY n.key",
    );
    let found = db
        .query(ACTIVE_IDS.text::<D>(), &[&Names(&names)], |row| {
            Ok((row.get::<String>(0)?, row.get::<Option<UserId>>(1)?))
        })
        .await?;
    rules::all_known(found)
}

/// The one active user `name` names.
pub(crate) async fn active_id<D: Db>(db: &D, name: &str) -> Result<UserId> {
    let ids = active_ids(db, &[name.to_owned()]).await?;
    rules::exactly_one(ids)
}

/// Any user of that name, disabled or not.
pub(crate) async fn user_id<D: Db>(db: &D, username: &str) -> Result<Option<UserId>> {
    db.query_opt(
        "SELECT id FROM users WHERE username = $1",
        &[&username],
        |row| row.get(0),
    )
    .await
}
