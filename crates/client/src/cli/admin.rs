//! `herald admin user …`: managing accounts (the server refuses non-admins).

use clap::{Args, Subcommand};
use herald_client::{Api, Error, Result};
use herald_protocol::{
    validate_username, CreateUserRequest, Role, UpdateUserRequest, User, UserSearchQuery,
    MAX_PAGE_LIMIT,
};

use super::{output, prompt, Context};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create, list, disable and enable users
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user
    Add(AddArgs),
    /// List users
    List(ListArgs),
    /// Stop a user from logging in and revoke what they can do
    Disable(NameArg),
    /// Let a disabled user log in again
    Enable(NameArg),
    /// Delete a user
    Rm(NameArg),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Username: 1-32 characters of a-z, 0-9, '_', '.', '-'
    pub name: String,

    /// Read the new password from the first line of stdin instead of prompting
    #[arg(long)]
    pub password_stdin: bool,

    /// Make the user an administrator
    #[arg(long)]
    pub admin: bool,

    /// Name shown to other users (default: the username)
    #[arg(long, value_name = "NAME")]
    pub display_name: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only users whose username or display name starts with this
    pub query: Option<String>,

    /// One JSON object per line instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NameArg {
    /// Username
    pub name: String,
}

pub async fn run(ctx: &Context, command: AdminCommand) -> Result<()> {
    let AdminCommand::User(command) = command;
    match command {
        UserCommand::Add(args) => add(ctx, args).await,
        UserCommand::List(args) => list(ctx, args).await,
        UserCommand::Disable(args) => set_disabled(ctx, &args.name, true).await,
        UserCommand::Enable(args) => set_disabled(ctx, &args.name, false).await,
        UserCommand::Rm(args) => remove(ctx, &args.name).await,
    }
}

async fn add(ctx: &Context, args: AddArgs) -> Result<()> {
    validate_username(&args.name).map_err(Error::Usage)?;
    let api = ctx.api()?;
    let password = if args.password_stdin {
        prompt::password_from_stdin()?
    } else {
        prompt::new_password_prompt(&format!("Password for the new user {}: ", args.name))?
    };
    let user = api
        .create_user(&CreateUserRequest {
            username: args.name,
            password,
            display_name: args.display_name,
            role: args.admin.then_some(Role::Admin),
        })
        .await?;
    output::line(format!(
        "Created user {} (id {}, {})",
        user.username,
        user.id,
        user.role.as_str()
    ))
}

async fn list(ctx: &Context, args: ListArgs) -> Result<()> {
    let api = ctx.api()?;
    let users = api
        .search_users(&UserSearchQuery {
            q: args.query,
            limit: Some(MAX_PAGE_LIMIT),
        })
        .await?
        .into_iter()
        .map(|found| found.user)
        .collect::<Vec<_>>();
    if args.json {
        return users.iter().try_for_each(output::json_line);
    }
    if users.is_empty() {
        return output::line("No users.");
    }
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            vec![
                u.id.to_string(),
                u.username.clone(),
                u.role.as_str().to_string(),
                if u.disabled { "disabled" } else { "active" }.to_string(),
                output::date_time(u.created_at),
                u.display_name.clone(),
            ]
        })
        .collect();
    output::line(output::table(
        &[
            "ID",
            "USERNAME",
            "ROLE",
            "STATUS",
            "CREATED",
            "DISPLAY NAME",
        ],
        &rows,
    ))
}

async fn set_disabled(ctx: &Context, name: &str, disabled: bool) -> Result<()> {
    let api = ctx.api()?;
    let user = find_user(&api, name).await?;
    let update = UpdateUserRequest {
        disabled: Some(disabled),
        ..UpdateUserRequest::default()
    };
    let user = api.update_user(user.id, &update).await?;
    let verb = if disabled { "Disabled" } else { "Enabled" };
    output::line(format!("{verb} user {}", user.username))
}

async fn remove(ctx: &Context, name: &str) -> Result<()> {
    let api = ctx.api()?;
    let user = find_user(&api, name).await?;
    api.delete_user(user.id).await?;
    output::line(format!("Deleted user {}", user.username))
}

/// Admin routes take ids but people type names: search by prefix and keep the exact
/// match, so `disable al` never disables `alice`.
async fn find_user(api: &Api, name: &str) -> Result<User> {
    let query = UserSearchQuery {
        q: Some(name.to_string()),
        limit: Some(MAX_PAGE_LIMIT),
    };
    api.search_users(&query)
        .await?
        .into_iter()
        .map(|found| found.user)
        .find(|u| u.username == name)
        .ok_or_else(|| Error::NotFound {
            message: format!("no user named {name:?}"),
        })
}
