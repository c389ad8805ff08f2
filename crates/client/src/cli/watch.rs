//! `herald watch`: the live event feed, one line per event, for people or scripts.
//!
//! The position in the stream is saved to `<config dir>/watch-cursor` after every
//! event, so the next `herald watch` (after Ctrl-C, a reboot or a crash) replays
//! exactly what it missed.

use std::path::PathBuf;

use clap::Args;
use herald_client::credentials::{remove_file_if_exists, write_private};
use herald_client::{Result, Update, Watcher};
use herald_protocol::{Cursor, Event, KindFilter, Notification, NotificationId, NotificationKind};
use serde::Serialize;

use super::{output, Context};

const CURSOR_FILE: &str = "watch-cursor";

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
    let since = if args.from_now {
        None
    } else {
        load_cursor(ctx)
    };
    let mut watcher = Watcher::new(&api, since)?;
    let mut saved = since;
    let mut connected_before = false;

    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let update = tokio::select! {
            () = &mut stop => return Ok(()),
            update = watcher.next() => update?,
        };
        match update {
            Update::Connected {
                user, resumed_from, ..
            } => {
                let how = match resumed_from {
                    Some(cursor) => format!("resuming after event {cursor}"),
                    None => "from now".to_string(),
                };
                let verb = if connected_before {
                    "Reconnected"
                } else {
                    "Connected"
                };
                output::note(format!(
                    "{verb} to {} as {}, {how} (Ctrl-C to stop)",
                    api.server(),
                    user.username
                ));
                connected_before = true;
            }
            Update::Event { cursor, event } => {
                if args.json {
                    output::json_line(&JsonEvent {
                        cursor,
                        event: &event,
                    })?;
                } else {
                    output::line(format!("{}  {}", output::clock_now(), describe(&event)))?;
                }
            }
            Update::Desktop {
                title, id: None, ..
            } if !args.json => {
                // Ephemeral pushes have no event, so this is the only place they show.
                output::line(format!("{}  push: {title}", output::clock_now()))?;
            }
            Update::ResyncRequired { cursor } => output::note(format!(
                "herald: the saved watch position is older than the server keeps; \
                 some events were missed (see `herald list`). Continuing from event {cursor}."
            )),
            Update::ServerError(detail) => {
                output::note(format!("herald: server error: {}", detail.message))
            }
            Update::Disconnected { reason, retry_in } => output::note(format!(
                "herald: disconnected ({reason}); reconnecting in {}s",
                retry_in.as_secs_f32()
            )),
            Update::Counts(_) | Update::Desktop { .. } | Update::Presence { .. } => {}
        }
        if watcher.cursor() != saved {
            saved = watcher.cursor();
            if let Some(cursor) = saved {
                save_cursor(ctx, cursor)?;
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

/// Drops the saved position (on logout, or when another account logs in).
pub fn forget_cursor(ctx: &Context) -> Result<()> {
    remove_file_if_exists(&cursor_path(ctx)).map(drop)
}
