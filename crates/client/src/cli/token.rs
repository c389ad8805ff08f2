//! `herald token …`: send-only tokens, so CI can notify people without a password.

use clap::{Args, Subcommand};
use herald_client::Result;
use herald_protocol::CreateTokenRequest;

use super::{output, Context, JsonArg, TOKEN_ENV};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a send-only token; its secret is printed once, on stdout
    Create(CreateArgs),
    /// List your tokens (sessions and send-only), without secrets
    List(JsonArg),
    /// Revoke a token
    Rm(RmArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// What the token is for, e.g. jenkins
    pub name: String,

    /// Print the token and its details as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Token id, as `herald token list` shows it
    pub id: i64,
}

pub async fn run(ctx: &Context, command: TokenCommand) -> Result<()> {
    let api = ctx.api()?;
    match command {
        TokenCommand::Create(args) => {
            let created = api
                .create_token(&CreateTokenRequest { name: args.name })
                .await?;
            if args.json {
                return output::json_line(&created);
            }
            // Only the secret goes to stdout, so `$(herald token create ci)` captures
            // exactly the token; the explanation goes to the person on stderr.
            output::note(format!(
                "Created send-only token {:?} (id {}). Store it now, it cannot be shown again:",
                created.info.name, created.info.id
            ));
            output::line(&created.token)?;
            output::note(format!(
                "Use it from CI or scripts with:\n  export HERALD_SERVER={} {TOKEN_ENV}=<the token above>",
                api.server()
            ));
            Ok(())
        }
        TokenCommand::List(args) => {
            let tokens = api.list_tokens().await?;
            if args.json {
                return tokens.iter().try_for_each(output::json_line);
            }
            if tokens.is_empty() {
                return output::line("No tokens.");
            }
            let rows: Vec<Vec<String>> = tokens
                .iter()
                .map(|t| {
                    vec![
                        t.id.to_string(),
                        t.kind.as_str().to_string(),
                        output::date_time(t.created_at),
                        t.name.clone(),
                    ]
                })
                .collect();
            output::line(output::table(&["ID", "KIND", "CREATED", "NAME"], &rows))
        }
        TokenCommand::Rm(args) => {
            api.delete_token(args.id).await?;
            output::line(format!("Revoked token {}", args.id))
        }
    }
}
