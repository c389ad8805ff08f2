//! Users and session tokens written straight into Herald's database before the
//! server starts: creating 19,000 accounts through the API would spend minutes
//! in argon2, which is not what any target measures.

use std::path::Path;
use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use herald_protocol::{Role, TokenKind};
use herald_store::sqlite::SqliteStore;
use herald_store::{NewUser, Store};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use crate::{Error, Result};

/// The seeded admin's password (the server never generates one on a seeded file).
pub const ADMIN_PASSWORD: &str = "bench-admin-password";
/// Writes in flight while seeding, so the store's group commit batches them.
const SEED_CONCURRENCY: usize = 512;

/// A user a receiver connects as.
#[derive(Debug, Clone)]
pub struct Credential {
    pub name: String,
    /// A session token (Herald); empty for peers, which trust the name.
    pub token: String,
}

/// Who exists on a target.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    /// The admin's session token: only admins may broadcast.
    pub admin_token: String,
    pub users: Vec<Credential>,
}

impl Seeded {
    /// Names only, for peers that keep no accounts.
    pub fn names(users: usize) -> Self {
        Self {
            admin_token: String::new(),
            users: (0..users)
                .map(|i| Credential {
                    name: user_name(i),
                    token: String::new(),
                })
                .collect(),
        }
    }
}

fn user_name(i: usize) -> String {
    format!("u{i:05}")
}

/// Opens (creating it if needed) Herald's database at `data_dir/herald.db` in
/// this process, while no server runs on it.
pub async fn open_sqlite(data_dir: &Path) -> Result<Arc<dyn Store>> {
    let path = data_dir.join("herald.db");
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path, drained_feed()))
        .await
        .map_err(|e| Error::Setup(e.to_string()))??;
    Ok(Arc::new(store))
}

/// A commit feed nobody reads, drained so it does not grow.
pub fn drained_feed() -> herald_store::CommitFeed {
    let (feed, mut commits) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move { while commits.recv().await.is_some() {} });
    feed
}

/// Creates `admin` and `users` users, each with one session token, in a new
/// database at `data_dir/herald.db`.
pub async fn herald(data_dir: &Path, users: usize) -> Result<Seeded> {
    let store = open_sqlite(data_dir).await?;
    // One real argon2id hash, shared: nobody logs in with a password here.
    let hash = tokio::task::spawn_blocking(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(ADMIN_PASSWORD.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Setup(format!("hashing: {e}")))
    })
    .await
    .map_err(|e| Error::Setup(e.to_string()))??;

    let admin_token = create(&store, "admin".into(), Role::Admin, hash.clone()).await?;
    let mut made = vec![None; users];
    let mut tasks = JoinSet::new();
    for i in 0..users {
        if tasks.len() >= SEED_CONCURRENCY {
            let (j, token) = joined(tasks.join_next().await)?;
            made[j] = Some(token);
        }
        let (store, hash) = (store.clone(), hash.clone());
        tasks.spawn(async move { (i, create(&store, user_name(i), Role::User, hash).await) });
    }
    while let Some(done) = tasks.join_next().await {
        let (j, token) = joined(Some(done))?;
        made[j] = Some(token);
    }
    let users = made
        .into_iter()
        .enumerate()
        .map(|(i, token)| Credential {
            name: user_name(i),
            token: token.unwrap_or_default(),
        })
        .collect();
    Ok(Seeded { admin_token, users })
}

type Joined = Option<std::result::Result<(usize, Result<String>), tokio::task::JoinError>>;

fn joined(done: Joined) -> Result<(usize, String)> {
    match done {
        Some(Ok((i, Ok(token)))) => Ok((i, token)),
        Some(Ok((_, Err(e)))) => Err(e),
        Some(Err(e)) => Err(Error::Setup(e.to_string())),
        None => Err(Error::Setup("seeding task vanished".into())),
    }
}

/// One user and a session token in Herald's format (`hrld_` + 32 random bytes,
/// stored as its SHA-256).
/// `n` users that never log in (`u0`, `u1`, …), for store-level runs.
pub async fn plain_users(store: &Arc<dyn Store>, n: usize) -> Result<Vec<String>> {
    let mut names = Vec::with_capacity(n);
    for i in 0..n {
        let user = store
            .create_user(NewUser {
                username: format!("u{i}"),
                display_name: format!("u{i}"),
                password_hash: "!".into(),
                role: Role::User,
            })
            .await?;
        names.push(user.username);
    }
    Ok(names)
}

async fn create(store: &Arc<dyn Store>, name: String, role: Role, hash: String) -> Result<String> {
    let user = store
        .create_user(NewUser {
            username: name.clone(),
            display_name: name,
            password_hash: hash,
            role,
        })
        .await?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("hrld_{}", URL_SAFE_NO_PAD.encode(bytes));
    let digest = Sha256::digest(token.as_bytes()).to_vec();
    store
        .create_token(user.id, TokenKind::Session, "bench", digest)
        .await?;
    Ok(token)
}
