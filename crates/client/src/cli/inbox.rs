//! Your own notifications: `herald list`, `counts`, `read`, `unread`, `delete`.

use clap::{ArgGroup, Args};
use herald_client::Result;
use herald_protocol::{
    ListNotificationsQuery, MarkRequest, Notification, NotificationId, NotificationKind,
    StatusFilter, MAX_PAGE_LIMIT,
};

use super::{output, parse_id, Context, JsonArg, KindArg};

/// Longest title shown in the table; `--json` has the full text.
const TITLE_WIDTH: usize = 60;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only unread notifications
    #[arg(long, conflicts_with = "read")]
    pub unread: bool,

    /// Only read notifications
    #[arg(long)]
    pub read: bool,

    /// Only personal or only broadcast notifications
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,

    /// Only this category
    #[arg(long)]
    pub category: Option<String>,

    /// Show at most this many (pages are fetched until it is reached)
    #[arg(long, short = 'n', default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,

    /// One JSON object per line instead of a table
    #[arg(long)]
    pub json: bool,
}

pub async fn list(ctx: &Context, args: ListArgs) -> Result<()> {
    let api = ctx.api()?;
    let status = if args.unread {
        StatusFilter::Unread
    } else if args.read {
        StatusFilter::Read
    } else {
        StatusFilter::All
    };
    let mut query = ListNotificationsQuery {
        status,
        kind: args.kind.map(Into::into).unwrap_or_default(),
        category: args.category,
        ..ListNotificationsQuery::default()
    };
    let wanted = args.limit as usize;
    let mut items: Vec<Notification> = Vec::new();
    while items.len() < wanted {
        query.limit = Some((wanted - items.len()).min(MAX_PAGE_LIMIT as usize) as u32);
        let page = api.list_notifications(&query).await?;
        let got_any = !page.items.is_empty();
        items.extend(page.items);
        match page.next_cursor {
            Some(next) if got_any => query.cursor = Some(next),
            _ => break,
        }
    }
    items.truncate(wanted);

    if args.json {
        return items.iter().try_for_each(output::json_line);
    }
    if items.is_empty() {
        let what = match status {
            StatusFilter::Unread => "No unread notifications.",
            StatusFilter::Read => "No read notifications.",
            StatusFilter::All => "No notifications.",
        };
        return output::line(what);
    }
    let rows: Vec<Vec<String>> = items.iter().map(row).collect();
    output::line(output::table(
        &["", "ID", "TIME", "CATEGORY", "TITLE", "FROM"],
        &rows,
    ))
}

/// One table row: `*` marks unread; broadcasts are tagged so they stand out from
/// what was sent to you personally.
fn row(n: &Notification) -> Vec<String> {
    let title = match n.kind {
        NotificationKind::Broadcast => format!("[all] {}", n.title),
        NotificationKind::Personal => n.title.clone(),
    };
    vec![
        if n.read { "" } else { "*" }.to_string(),
        n.id.to_string(),
        output::date_time(n.created_at),
        n.category.clone().unwrap_or_else(|| "-".into()),
        output::truncate(&title, TITLE_WIDTH),
        n.sender.clone().unwrap_or_else(|| "system".into()),
    ]
}

pub async fn counts(ctx: &Context, args: JsonArg) -> Result<()> {
    let counts = ctx.api()?.counts().await?;
    if args.json {
        return output::json_line(&counts);
    }
    output::line(format!(
        "Unread: {} (personal {}, broadcast {}, chats {})",
        counts.unread_total, counts.personal, counts.broadcast, counts.chats
    ))
}

/// Which way `herald read` / `herald unread` flips notifications.
#[derive(Debug, Clone, Copy)]
pub enum Mark {
    Read,
    Unread,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["all", "ids"])))]
pub struct MarkArgs {
    /// Notification ids (as `herald list` shows them)
    #[arg(value_parser = parse_id, value_name = "ID")]
    pub ids: Vec<NotificationId>,

    /// Every notification instead of a list of ids
    #[arg(long)]
    pub all: bool,

    /// With --all: only personal or only broadcast notifications
    #[arg(long, value_enum, requires = "all")]
    pub kind: Option<KindArg>,

    /// Print the server's answer as JSON
    #[arg(long)]
    pub json: bool,
}

pub async fn mark(ctx: &Context, args: MarkArgs, mark: Mark) -> Result<()> {
    let api = ctx.api()?;
    let request = if args.all {
        MarkRequest {
            ids: None,
            all: true,
            kind: args.kind.map(Into::into),
        }
    } else {
        MarkRequest {
            ids: Some(args.ids),
            ..MarkRequest::default()
        }
    };
    let (result, word) = match mark {
        Mark::Read => (api.mark_read(&request).await?, "read"),
        Mark::Unread => (api.mark_unread(&request).await?, "unread"),
    };
    if args.json {
        return output::json_line(&result);
    }
    output::line(format!(
        "Marked {} {word}",
        output::plural(result.changed, "notification")
    ))
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Notification ids (as `herald list` shows them)
    #[arg(value_parser = parse_id, value_name = "ID", required = true)]
    pub ids: Vec<NotificationId>,
}

pub async fn delete(ctx: &Context, mut args: DeleteArgs) -> Result<()> {
    let api = ctx.api()?;
    args.ids.sort_unstable();
    args.ids.dedup();
    if let [id] = args.ids[..] {
        // One id: the single-item route answers 404 when it is not there, which
        // a script can tell apart (exit 4) from success.
        api.delete_notification(id).await?;
        return output::line(format!("Deleted notification #{id}"));
    }
    let result = api.delete_notifications(&args.ids).await?;
    let missing = args.ids.len() as i64 - result.changed;
    if missing > 0 {
        output::note(format!(
            "herald: {} not found or already deleted",
            output::plural(missing, "notification")
        ));
    }
    output::line(format!(
        "Deleted {}",
        output::plural(result.changed, "notification")
    ))
}
