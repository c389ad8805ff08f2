//! T8: messages to rooms at a constant rate, send → receipt at each member.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::personal::Bench;
use crate::http::Request;
use crate::report::Chat;
use crate::seed::Seeded;
use crate::target::Target;
use crate::{Error, Result};

/// A seeded room: its id and the user who sends to it.
#[derive(Debug, Clone, Copy)]
pub struct Room {
    pub id: i64,
    pub sender: usize,
}

/// Creates `rooms` rooms of `members` distinct users each (users
/// `0..rooms × members`) in the database at `data_dir`, before the server starts.
pub async fn seed(
    data_dir: &Path,
    seeded: &Seeded,
    rooms: usize,
    members: usize,
) -> Result<Vec<Room>> {
    if seeded.users.len() < rooms * members {
        return Err(Error::Setup(format!(
            "{rooms} rooms × {members} need {} seeded users",
            rooms * members
        )));
    }
    let store = crate::seed::open_sqlite(data_dir).await?;
    let mut tasks = JoinSet::new();
    for r in 0..rooms {
        let sender = r * members;
        let names: Vec<String> = (sender..sender + members)
            .map(|i| seeded.users[i].name.clone())
            .collect();
        let store = store.clone();
        tasks.spawn(async move {
            let creator = store
                .user_by_name(&names[0])
                .await?
                .ok_or_else(|| Error::Setup(format!("no user {}", names[0])))?;
            let room = store
                .create_room(creator.user.id, format!("bench-{r}"), names[1..].to_vec())
                .await?;
            Ok::<_, Error>(Room {
                id: room.id,
                sender,
            })
        });
    }
    let mut seeded_rooms = Vec::with_capacity(rooms);
    while let Some(done) = tasks.join_next().await {
        seeded_rooms.push(done.map_err(|e| Error::Setup(e.to_string()))??);
    }
    seeded_rooms.sort_by_key(|room| room.sender);
    Ok(seeded_rooms)
}

/// Connects every member, then sends `rate` messages/s for `seconds`, message
/// `k` to room `k % rooms` from its first member.
pub async fn run(
    target: &Target,
    seeded: &Seeded,
    rooms: &[Room],
    members: usize,
    rate: f64,
    seconds: f64,
    drain: Duration,
) -> Result<Chat> {
    let mut bench = Bench::connect(target, rooms.len() * members).await?;
    let routes: Arc<Vec<(i64, String)>> = Arc::new(
        rooms
            .iter()
            .map(|room| (room.id, seeded.users[room.sender].token.clone()))
            .collect(),
    );
    let make = move |seq: u64, content: &str| {
        let (room, token) = &routes[seq as usize % routes.len()];
        Request::post(
            "/api/v1/messages",
            Some(token.clone()),
            format!(r#"{{"room":{room},"content":"{content}","client_id":"bench-{seq}"}}"#),
        )
    };
    // Every member's connection, the sender's own included, gets the message.
    let run = bench
        .run_with(rate, seconds, drain, Arc::new(make), members as u64)
        .await;
    bench.close().await;
    Ok(Chat {
        rooms: rooms.len(),
        members,
        run: run?,
    })
}
