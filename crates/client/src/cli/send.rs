//! `herald send`: what a CI job runs when a test plan finishes.

use std::io::Read;

use clap::{ArgGroup, Args};
use herald_client::{Error, Result};
use herald_protocol::{
    text, validate_username, SendNotification, MAX_CATEGORY_CHARS, MAX_CONTENT_CHARS,
    MAX_LINK_CHARS, MAX_TITLE_CHARS,
};

use super::{output, Context};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("recipients").required(true).args(["to", "broadcast"])))]
pub struct SendArgs {
    /// Usernames to notify, comma-separated: --to alice,bob
    #[arg(long, value_delimiter = ',', value_name = "USERS")]
    pub to: Vec<String>,

    /// Notify every user
    #[arg(long)]
    pub broadcast: bool,

    /// One-line summary, e.g. "test plan #42 finished: 3 failed"
    #[arg(long, short)]
    pub title: String,

    /// Body text; `-` reads it from stdin (e.g. a test report)
    #[arg(long, short)]
    pub content: Option<String>,

    /// URL opened when the notification is clicked
    #[arg(long, short)]
    pub link: Option<String>,

    /// Free-text category to filter by, e.g. test-run or task
    #[arg(long)]
    pub category: Option<String>,

    /// 1 (lowest) to 5 (highest); the server's default is 3
    #[arg(long, short, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub priority: Option<u8>,

    /// Also raise a native popup on the recipients' desktops
    #[arg(long)]
    pub desktop: bool,

    /// With --desktop: push the popup to connected devices only, never store it
    #[arg(long, requires = "desktop")]
    pub ephemeral: bool,

    /// Print the server's answer as JSON
    #[arg(long)]
    pub json: bool,
}

pub async fn send(ctx: &Context, args: SendArgs) -> Result<()> {
    let request =
        build_request(args.to, args.broadcast, &args.title).map(|base| SendNotification {
            content: String::new(),
            link: args.link.filter(|l| !l.is_empty()),
            category: args.category.filter(|c| !c.is_empty()),
            priority: args.priority,
            desktop: args.desktop,
            persist: !args.ephemeral,
            ..base
        })?;
    let content = match args.content.as_deref() {
        Some("-") => read_stdin()?,
        Some(text) => text.to_string(),
        None => String::new(),
    };
    // The server takes `\n` line ends only (a lone `\r` rewrites a terminal
    // line); a report written on Windows is still a report.
    let content = content.replace("\r\n", "\n");
    let request = SendNotification { content, ..request };
    check_text(&request)?;

    let api = ctx.api()?;
    let result = api.send(&request).await?;
    if args.json {
        return output::json_line(&result);
    }
    let recipients = output::plural(result.recipients, "recipient");
    match result.id {
        Some(id) => output::line(format!("Sent notification #{id} to {recipients}")),
        None => output::line(format!(
            "Pushed an ephemeral desktop notification to {recipients}"
        )),
    }
}

/// Checks recipients before anything is sent, so a typo in `--to` fails fast with
/// the offending name instead of a round trip.
fn build_request(to: Vec<String>, broadcast: bool, title: &str) -> Result<SendNotification> {
    if title.trim().is_empty() {
        return Err(Error::Usage("--title must not be empty".into()));
    }
    let to = if broadcast {
        None
    } else {
        let names: Vec<String> = to
            .into_iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return Err(Error::Usage("--to needs at least one username".into()));
        }
        for name in &names {
            validate_username(name).map_err(Error::Usage)?;
        }
        Some(names)
    };
    Ok(SendNotification {
        to,
        broadcast,
        title: title.to_string(),
        ..SendNotification::default()
    })
}

/// The server's text rules, checked here so a stray escape in a title or a
/// report fails as a usage error (exit 2) before anything is sent.
fn check_text(request: &SendNotification) -> Result<()> {
    text::required_line("--title", &request.title, MAX_TITLE_CHARS)?;
    text::multi_line("--content", &request.content, MAX_CONTENT_CHARS)?;
    if let Some(category) = &request.category {
        text::single_line("--category", category, MAX_CATEGORY_CHARS)?;
    }
    if let Some(link) = &request.link {
        text::link("--link", link, MAX_LINK_CHARS)?;
    }
    Ok(())
}

fn read_stdin() -> Result<String> {
    let mut content = String::new();
    std::io::stdin()
        .read_to_string(&mut content)
        .map_err(Error::Terminal)?;
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_trimmed_and_checked_before_sending() {
        let req = build_request(
            vec!["alice".into(), " bob ".into(), String::new()],
            false,
            "t",
        )
        .unwrap();
        assert_eq!(req.to, Some(vec!["alice".to_string(), "bob".to_string()]));

        let err = build_request(vec!["Bob Smith".into()], false, "t").unwrap_err();
        assert!(err.to_string().contains("Bob Smith"), "{err}");

        let req = build_request(vec![], true, "t").unwrap();
        assert_eq!(req.to, None);
        assert!(req.broadcast);
    }

    #[test]
    fn text_the_server_would_refuse_is_a_usage_error() {
        let base = build_request(vec!["bob".into()], false, "plan #42").unwrap();
        assert!(check_text(&base).is_ok());
        let report = SendNotification {
            content: "line 1\n\tline 2".into(),
            ..base.clone()
        };
        assert!(check_text(&report).is_ok());
        let escape = SendNotification {
            title: "plan \u{1b}[2J".into(),
            ..base.clone()
        };
        let err = check_text(&escape).unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err:?}");
        assert!(err.to_string().contains("--title"), "{err}");
        let link = SendNotification {
            link: Some("javascript:alert(1)".into()),
            ..base
        };
        assert!(matches!(check_text(&link), Err(Error::Usage(_))));
    }
}
