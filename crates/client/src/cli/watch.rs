//! `herald watch`: the live event feed, one line per event, for people or scripts.
//!
//! It runs the same sync engine as the desktop app: a local cache
//! (`<config dir>/cache.db`) that reconnects, resumes and reloads by itself. The
//! lines come from the cache's event log, read after this command's own
//! position, which is saved to `<config dir>/watch-cursor` after the lines are
//! printed. So the next `herald watch` (after Ctrl-C, a reboot or a crash)
//! prints exactly what it has not printed yet, even events the engine applied
//! just before the previous one stopped — at least once, never skipped.

use std::path::PathBuf;

use clap::Args;
use herald_client::credentials::{remove_file_if_exists, write_private};
use herald_client::{
    Cache, Client, ClientEvent, ClientOptions, ConnectionState, Credentials, Error, Result,
};
use herald_protocol::{Cursor, Event, KindFilter, Notification, NotificationId, NotificationKind};
use serde::Serialize;

use super::{output, Context};

const CURSOR_FILE: &str = "watch-cursor";
const CACHE_FILE: &str = "cache.db";
/// Events read from the log per query.
const PAGE: u32 = 500;

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Print each event as one line of JSON: {"cursor":N,"event":{"type":…}}
    #[arg(long)]
    pub json: bool,

    /// Start from now instead of replaying what happened since the last watch
    #[arg(long)]
    pub from_now: bool,
}

/// One `--json` line: the event and its place in the stream.
#[derive(Serialize)]
struct JsonEvent<'a> {
    cursor: Cursor,
    event: &'a Event,
}

pub async fn watch(ctx: &Context, args: WatchArgs) -> Result<()> {
    let api = ctx.api()?;
    let token = api.token().ok_or(Error::NotLoggedIn)?.to_string();
    // The saved login names the user; a token from the environment does not
    // (the server's hello will).
    let username = Credentials::load(ctx.config_dir())
        .ok()
        .flatten()
        .filter(|saved| saved.server == api.server() && saved.token == token)
        .map(|saved| saved.username)
        .unwrap_or_default();
    let client = Client::open(ClientOptions::new(cache_path(ctx))).await?;
    // Subscribed before connecting, so not even the first event slips past.
    let mut events = client.events();
    client
        .connect(Credentials {
            server: api.server().to_string(),
            username,
            token,
        })
        .await?;

    let mut feed = Feed {
        ctx,
        client: &client,
        json: args.json,
        position: if args.from_now {
            None
        } else {
            load_cursor(ctx)
        },
    };
    let mut connected_before = false;
    let stop = shutdown_signal();
    tokio::pin!(stop);
    let result = loop {
        let event = tokio::select! {
            () = &mut stop => break Ok(()),
            event = events.recv() => event,
        };
        let Some(event) = event else {
            break Err(Error::Closed);
        };
        let step = match event {
            ClientEvent::ConnectionChanged { state } => match state {
                ConnectionState::Online => {
                    let how = match feed.position {
                        Some(cursor) => format!("resuming after event {cursor}"),
                        None => "from now".to_string(),
                    };
                    let verb = if connected_before {
                        "Reconnected"
                    } else {
                        "Connected"
                    };
                    let user = client.user().map(|u| u.username).unwrap_or_default();
                    output::note(format!(
                        "{verb} to {} as {user}, {how} (Ctrl-C to stop)",
                        api.server()
                    ));
                    connected_before = true;
                    Ok(())
                }
                ConnectionState::Offline {
                    reason,
                    retry_in_ms: Some(ms),
                } => {
                    output::note(format!(
                        "herald: disconnected ({reason}); reconnecting in {}s",
                        ms as f32 / 1000.0
                    ));
                    Ok(())
                }
                ConnectionState::AuthFailed { message } => Err(Error::Unauthorized { message }),
                ConnectionState::Connecting | ConnectionState::Offline { .. } => Ok(()),
            },
            ClientEvent::CaughtUp { cursor } => {
                // Without a saved position, "now" is where the first catch-up ended.
                feed.position.get_or_insert(cursor);
                feed.drain().await
            }
            ClientEvent::EventsApplied { .. } | ClientEvent::Lagged { .. } => feed.drain().await,
            ClientEvent::DesktopPopup {
                title, id: None, ..
            } if !args.json => {
                // Ephemeral pushes have no event, so this is the only place they show.
                output::line(format!("{}  push: {title}", output::clock_now()))
            }
            _ => Ok(()),
        };
        if let Err(e) = step {
            break Err(e);
        }
    };
    client.disconnect().await;
    result
}

/// Prints the event log after this command's position.
struct Feed<'a> {
    ctx: &'a Context,
    client: &'a Client,
    json: bool,
    /// The last event printed (or the start); `None` until the first catch-up
    /// when starting from now.
    position: Option<Cursor>,
}

impl Feed<'_> {
    async fn drain(&mut self) -> Result<()> {
        let Some(mut at) = self.position else {
            return Ok(());
        };
        loop {
            let page = self.client.events_after(at, PAGE).await?;
            if page.missed {
                output::note(format!(
                    "herald: the saved watch position is older than the server keeps; \
                     some events were missed (see `herald list`). Continuing from event {}.",
                    page.from
                ));
            }
            at = page.from;
            let full = page.events.len() as u32 == PAGE;
            for logged in &page.events {
                if self.json {
                    output::json_line(&JsonEvent {
                        cursor: logged.cursor,
                        event: &logged.event,
                    })?;
                } else {
                    output::line(format!(
                        "{}  {}",
                        output::clock_now(),
                        describe(&logged.event)
                    ))?;
                }
                at = logged.cursor;
            }
            if self.position != Some(at) {
                // Saved after printing: a crash in between repeats lines, never loses one.
                save_cursor(self.ctx, at)?;
                self.position = Some(at);
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// One readable line per event.
fn describe(event: &Event) -> String {
    match event {
        Event::NotificationCreated { notification } => describe_new(notification),
        Event::NotificationsRead { ids } => format!("read {}", id_list(ids)),
        Event::NotificationsUnread { ids } => format!("unread {}", id_list(ids)),
        Event::AllRead { kind, up_to } => format!("{} read (up to #{up_to})", everything(*kind)),
        Event::AllUnread { kind, up_to } => {
            format!("{} unread (up to #{up_to})", everything(*kind))
        }
        Event::NotificationsDeleted { ids } => format!("deleted {}", id_list(ids)),
        Event::MessageCreated { message } => format!(
            "message #{} from {} in conversation {}: {}",
            message.id,
            message.sender.as_deref().unwrap_or("a deleted user"),
            message.conversation_id,
            output::truncate(&message.content, 200)
        ),
        Event::MessagesDeleted {
            conversation_id,
            ids,
        } => format!(
            "messages deleted in conversation {conversation_id}: {}",
            id_list(ids)
        ),
        Event::ConversationRead {
            conversation_id,
            user,
            up_to,
        } => format!("{user} read conversation {conversation_id} up to #{up_to}"),
        Event::RoomUpdated { room } => format!(
            "room #{} \"{}\" ({} members)",
            room.id,
            output::truncate(&room.name, 64),
            room.members.len()
        ),
        Event::RoomMemberAdded { room_id, user } => format!("{user} joined room #{room_id}"),
        Event::RoomMemberRemoved {
            room_id,
            user,
            owner,
        } => match owner {
            Some(owner) => format!("{user} left room #{room_id} (owner: {owner})"),
            None => format!("{user} left room #{room_id}"),
        },
        Event::RoomLeft { room_id } => format!("left room #{room_id}"),
    }
}

fn describe_new(n: &Notification) -> String {
    let mut line = format!("new #{}", n.id);
    if n.kind == NotificationKind::Broadcast {
        line.push_str(" [all]");
    }
    if let Some(category) = &n.category {
        line.push_str(&format!(" [{category}]"));
    }
    line.push_str(&format!(" {}", output::truncate(&n.title, 200)));
    line.push_str(&format!(
        " — from {}",
        n.sender.as_deref().unwrap_or("system")
    ));
    if n.priority != herald_protocol::DEFAULT_PRIORITY {
        line.push_str(&format!(", priority {}", n.priority));
    }
    if let Some(link) = &n.link {
        line.push_str(&format!(" <{link}>"));
    }
    line
}

fn everything(kind: KindFilter) -> &'static str {
    match kind {
        KindFilter::Personal => "all personal notifications",
        KindFilter::Broadcast => "all broadcasts",
        KindFilter::All => "all notifications",
    }
}

fn id_list(ids: &[NotificationId]) -> String {
    let shown: Vec<String> = ids.iter().take(20).map(|id| format!("#{id}")).collect();
    let more = ids.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Resolves on Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn cursor_path(ctx: &Context) -> PathBuf {
    ctx.config_dir().join(CURSOR_FILE)
}

fn cache_path(ctx: &Context) -> PathBuf {
    ctx.config_dir().join(CACHE_FILE)
}

/// The saved position; a missing or unreadable file just means "from now".
fn load_cursor(ctx: &Context) -> Option<Cursor> {
    let path = cursor_path(ctx);
    let text = std::fs::read_to_string(&path).ok()?;
    match text.trim().parse() {
        Ok(cursor) => Some(cursor),
        Err(_) => {
            output::note(format!(
                "herald: ignoring {}: not a cursor; watching from now",
                path.display()
            ));
            None
        }
    }
}

fn save_cursor(ctx: &Context, cursor: Cursor) -> Result<()> {
    write_private(&cursor_path(ctx), format!("{cursor}\n").as_bytes())
}

/// Drops the saved position and the local cache (on logout, or when another
/// account logs in): both belong to the old account's stream.
pub fn forget_local_state(ctx: &Context) -> Result<()> {
    remove_file_if_exists(&cursor_path(ctx))?;
    Cache::remove_files(&cache_path(ctx))
}
