//! `herald chat …` and `herald contacts …`: direct messages and the people you
//! talk to, from a terminal or a script.

use clap::{Args, Subcommand};
use herald_client::{Api, Result};
use herald_protocol::{
    Conversation, ConversationKind, HistoryQuery, ListConversationsQuery, Message, SendMessage,
    MAX_PAGE_LIMIT,
};

use super::{output, Context, JsonArg};

/// Longest message text shown in `chat ls`; `--json` has it all.
const PREVIEW_WIDTH: usize = 50;

#[derive(Debug, Subcommand)]
pub enum ChatCommand {
    /// Send a direct message
    Send(SendArgs),
    /// Show the messages you exchanged with someone, oldest first
    History(HistoryArgs),
    /// List your conversations, most recent first
    Ls(JsonArg),
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Username to send to
    pub to: String,
    /// The message
    pub text: String,
    /// Idempotency key: running the command again with the same key sends
    /// nothing new (default: a fresh key per run)
    #[arg(long, value_name = "KEY")]
    pub client_id: Option<String>,
    /// Print the sent message as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Username of the other person
    pub with: String,
    /// Show at most this many of the newest messages
    #[arg(long, short = 'n', default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// One JSON object per line instead of text
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, command: ChatCommand) -> Result<()> {
    let api = ctx.api()?;
    match command {
        ChatCommand::Send(args) => send(&api, args).await,
        ChatCommand::History(args) => history(&api, args).await,
        ChatCommand::Ls(args) => list(&api, args).await,
    }
}

async fn send(api: &Api, args: SendArgs) -> Result<()> {
    let request = SendMessage {
        to: Some(args.to.clone()),
        room: None,
        content: args.text,
        client_id: args.client_id.unwrap_or_else(fresh_client_id),
    };
    let message = api.send_message(&request).await?;
    if args.json {
        return output::json_line(&message);
    }
    output::line(format!("Sent message #{} to {}", message.id, args.to))
}

/// Unique per run: the clock in nanoseconds and the process id.
fn fresh_client_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("cli-{nanos}-{}", std::process::id())
}

async fn history(api: &Api, args: HistoryArgs) -> Result<()> {
    let query = ListConversationsQuery {
        peer: Some(args.with.clone()),
        ..ListConversationsQuery::default()
    };
    let Some(conversation) = api.conversations(&query).await?.items.pop() else {
        if args.json {
            return Ok(());
        }
        return output::line(format!("No messages with {}.", args.with));
    };
    let wanted = args.limit as usize;
    let mut messages: Vec<Message> = Vec::new();
    let mut query = HistoryQuery::default();
    while messages.len() < wanted {
        query.limit = Some((wanted - messages.len()).min(MAX_PAGE_LIMIT as usize) as u32);
        let page = api.history(conversation.id, &query).await?;
        let oldest = page.items.last().map(|m| m.id);
        messages.extend(page.items);
        match (page.next_cursor, oldest) {
            (Some(_), Some(oldest)) => query.before = Some(oldest),
            _ => break,
        }
    }
    // Pages come newest first; a conversation reads oldest first.
    messages.reverse();
    if args.json {
        return messages.iter().try_for_each(output::json_line);
    }
    if messages.is_empty() {
        return output::line(format!("No messages with {}.", args.with));
    }
    for message in &messages {
        output::line(format!(
            "{}  {}: {}",
            output::date_time(message.created_at),
            message.sender.as_deref().unwrap_or("(deleted user)"),
            message.content
        ))?;
    }
    Ok(())
}

async fn list(api: &Api, args: JsonArg) -> Result<()> {
    let mut conversations = Vec::new();
    let mut query = ListConversationsQuery {
        limit: Some(MAX_PAGE_LIMIT),
        ..ListConversationsQuery::default()
    };
    loop {
        let page = api.conversations(&query).await?;
        let got_any = !page.items.is_empty();
        conversations.extend(page.items);
        match page.next_cursor {
            Some(next) if got_any => query.cursor = Some(next),
            _ => break,
        }
    }
    if args.json {
        return conversations.iter().try_for_each(output::json_line);
    }
    if conversations.is_empty() {
        return output::line("No conversations.");
    }
    let rows: Vec<Vec<String>> = conversations.iter().map(row).collect();
    output::line(output::table(
        &["ID", "WITH", "UNREAD", "LAST", "MESSAGE"],
        &rows,
    ))
}

/// One `chat ls` row: rooms are marked with `#` so they stand out from people.
fn row(c: &Conversation) -> Vec<String> {
    let with = match c.kind {
        ConversationKind::Direct => c
            .peer
            .as_ref()
            .map_or_else(|| "(deleted user)".to_owned(), |p| p.username.clone()),
        ConversationKind::Room => format!("#{}", c.room.as_ref().map_or("", |r| &r.name)),
    };
    let preview = c.last_message.as_ref().map_or(String::new(), |m| {
        let sender = m.sender.as_deref().unwrap_or("(deleted user)");
        output::truncate(&format!("{sender}: {}", m.content), PREVIEW_WIDTH)
    });
    vec![
        c.id.to_string(),
        with,
        c.unread_count.to_string(),
        output::date_time(c.last_time),
        preview,
    ]
}

#[derive(Debug, Subcommand)]
pub enum ContactsCommand {
    /// Add someone to your contacts
    Add(UsernameArg),
    /// Remove someone from your contacts
    Rm(UsernameArg),
    /// List your contacts and whether they are online
    Ls(JsonArg),
}

#[derive(Debug, Args)]
pub struct UsernameArg {
    pub username: String,
}

pub async fn contacts(ctx: &Context, command: ContactsCommand) -> Result<()> {
    let api = ctx.api()?;
    match command {
        ContactsCommand::Add(args) => {
            let contact = api.add_contact(&args.username).await?;
            output::line(format!(
                "{} ({}) is in your contacts",
                contact.user.username, contact.user.display_name
            ))
        }
        ContactsCommand::Rm(args) => {
            api.remove_contact(&args.username).await?;
            output::line(format!("Removed {} from your contacts", args.username))
        }
        ContactsCommand::Ls(args) => {
            let contacts = api.contacts().await?;
            if args.json {
                return contacts.iter().try_for_each(output::json_line);
            }
            if contacts.is_empty() {
                return output::line("No contacts. Add one with `herald contacts add NAME`.");
            }
            let rows: Vec<Vec<String>> = contacts
                .iter()
                .map(|c| {
                    vec![
                        c.user.username.clone(),
                        if c.online { "online" } else { "offline" }.to_owned(),
                        c.user.display_name.clone(),
                    ]
                })
                .collect();
            output::line(output::table(&["USER", "STATUS", "NAME"], &rows))
        }
    }
}
