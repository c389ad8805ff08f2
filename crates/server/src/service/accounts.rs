//! Accounts: the first admin, registration, login, and admin user management.

use std::net::IpAddr;
use std::time::Instant;

use herald_protocol::{
    text, validate_username, CreateUserRequest, LoginRequest, LoginResponse, RegisterRequest, Role,
    TokenKind, UpdateUserRequest, User, MAX_DEVICE_CHARS, MAX_DISPLAY_NAME_CHARS,
};
use herald_store::{NewUser, Principal, UserChanges};

use super::principals::Epoch;
use super::secrets;
use crate::config::Registration;
use crate::limits::login::ThrottledBy;
use crate::limits::whole_seconds;
use crate::state::AppState;
use crate::{Error, Result};

/// On an empty database, creates `admin` so someone can log in at all. A generated
/// password is returned so the caller can show it once and keep it in a 0600 file.
pub async fn bootstrap_admin(state: &AppState) -> Result<Option<String>> {
    if state.store.user_count().await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match &state.config.admin_password {
        Some(password) => (password.clone(), false),
        None => (secrets::generate_password(), true),
    };
    secrets::check_password_policy(&password)
        .map_err(|e| Error::Config(format!("admin_password: {e}")))?;
    let created = state
        .store
        .create_user(NewUser {
            username: "admin".into(),
            display_name: "Administrator".into(),
            password_hash: secrets::hash_password(
                state.limits.hashes.claim(None)?,
                password.clone(),
            )
            .await?,
            role: Role::Admin,
        })
        .await;
    match created {
        Ok(_) => Ok(generated.then_some(password)),
        // Another node of a cluster starting at the same moment made it first.
        Err(herald_store::Error::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Self-service sign-up from `client`, whose share of the password pool it uses.
pub async fn register(state: &AppState, client: IpAddr, request: RegisterRequest) -> Result<User> {
    if state.config.registration == Registration::Closed {
        return Err(Error::Forbidden(
            "registration is closed on this server; ask an admin for an account".into(),
        ));
    }
    create_user(
        state,
        CreateUserRequest {
            username: request.username,
            password: request.password,
            display_name: request.display_name,
            role: Some(Role::User),
        },
        Some(client),
    )
    .await
}

/// Creates an account; `client` is the anonymous address asking (sign-up), or
/// `None` for an admin.
pub async fn create_user(
    state: &AppState,
    request: CreateUserRequest,
    client: Option<IpAddr>,
) -> Result<User> {
    validate_username(&request.username).map_err(Error::BadRequest)?;
    secrets::check_password_policy(&request.password)?;
    let display_name = match request.display_name {
        Some(name) => checked_display_name(name)?,
        None => request.username.clone(),
    };
    Ok(state
        .store
        .create_user(NewUser {
            username: request.username,
            display_name,
            password_hash: secrets::hash_password(
                state.limits.hashes.claim(client)?,
                request.password,
            )
            .await?,
            role: request.role.unwrap_or(Role::User),
        })
        .await?)
}

fn checked_display_name(name: String) -> Result<String> {
    Ok(text::required_line("display_name", &name, MAX_DISPLAY_NAME_CHARS)?.to_owned())
}

/// Exchanges a password from `client` for a session token. Failed attempts
/// back off per address and per username (`limits::login`); a throttled attempt
/// is refused before its password is hashed.
pub async fn login(
    state: &AppState,
    client: IpAddr,
    request: LoginRequest,
) -> Result<LoginResponse> {
    let device = request.device.unwrap_or_else(|| "unnamed device".into());
    let device = text::required_line("device", &device, MAX_DEVICE_CHARS)?;
    let attempt = state
        .limits
        .logins
        .begin(client, &request.username, Instant::now())
        .map_err(|(by, until)| {
            state.metrics.login_throttled(match by {
                ThrottledBy::Address => "address",
                ThrottledBy::Username => "username",
            });
            let wait = until.saturating_duration_since(Instant::now());
            Error::RateLimited {
                message: format!(
                    "too many failed logins; try again in {} s",
                    whole_seconds(wait)
                ),
                retry_after: wait,
            }
        })?;
    // The thread first: with none free the attempt costs not even a store read.
    let thread = state.limits.hashes.claim(Some(client))?;
    let record = state.store.user_by_name(&request.username).await?;
    let hash = record.as_ref().map(|r| r.password_hash.clone());
    let valid = secrets::verify_password(thread, request.password, hash).await?;
    let user = match record {
        Some(record) if valid => {
            attempt.succeeded();
            if record.user.disabled {
                return Err(Error::Forbidden("this account is disabled".into()));
            }
            record.user
        }
        _ => {
            attempt.failed(Instant::now());
            return Err(Error::Unauthorized("wrong username or password".into()));
        }
    };
    let (token, hash) = secrets::new_token();
    state
        .store
        .create_token(user.id, TokenKind::Session, device, hash)
        .await?;
    Ok(LoginResponse { token, user })
}

pub async fn update_user(
    state: &AppState,
    admin: &Principal,
    id: i64,
    request: UpdateUserRequest,
) -> Result<User> {
    let demotes_self = request.role.is_some_and(|r| r != Role::Admin);
    if id == admin.user.id && (request.disabled == Some(true) || demotes_self) {
        return Err(Error::Forbidden(
            "you cannot disable or demote your own account".into(),
        ));
    }
    let password_hash = match request.password {
        Some(password) => {
            secrets::check_password_policy(&password)?;
            Some(secrets::hash_password(state.limits.hashes.claim(None)?, password).await?)
        }
        None => None,
    };
    let changes = UserChanges {
        display_name: request.display_name.map(checked_display_name).transpose()?,
        role: request.role,
        disabled: request.disabled,
        password_hash,
    };
    // The store ends the user's sessions when the change calls for it, and
    // announces the change to the live connections and the principal cache.
    state
        .store
        .update_user(id, changes)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {id}")))
}

pub async fn delete_user(state: &AppState, admin: &Principal, id: i64) -> Result<()> {
    if id == admin.user.id {
        return Err(Error::Forbidden(
            "you cannot delete your own account".into(),
        ));
    }
    if !state.store.delete_user(id).await? {
        return Err(Error::NotFound(format!("user {id}")));
    }
    Ok(())
}

/// The caller behind a bearer token, if the token is valid and the user active.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal> {
    Ok(authenticate_at(state, token).await?.0)
}

/// [`authenticate`], also returning an epoch at which the principal was valid: a
/// connection that registers later compares it with the current epoch to learn
/// whether a revocation could have slipped in between.
pub async fn authenticate_at(state: &AppState, token: &str) -> Result<(Principal, Epoch)> {
    let hash = secrets::hash_token(token);
    let cache = state.hub.principals();
    let (principal, epoch) = match cache.get(&hash, state.store.access_changes()) {
        Ok(hit) => hit,
        Err(epoch) => {
            let principal = state
                .store
                .authenticate(hash.to_vec())
                .await?
                .ok_or_else(|| {
                    Error::Unauthorized("invalid or expired token; log in again".into())
                })?;
            cache.insert(hash, principal.clone(), epoch);
            (principal, epoch)
        }
    };
    if principal.user.disabled {
        return Err(Error::Unauthorized("this account is disabled".into()));
    }
    Ok((principal, epoch))
}

/// Whether a principal known valid at `epoch` still is. `Hub::revoke` moves the
/// epoch before it looks for connections to close, so a connection registered
/// before this call either was closed by the revocation or sees a new epoch here;
/// only then is the token looked up again.
pub async fn still_valid(state: &AppState, principal: &Principal, epoch: Epoch) -> Result<bool> {
    if state.hub.principals().epoch() == epoch {
        return Ok(true);
    }
    let tokens = state.store.list_tokens(principal.user.id).await?;
    Ok(tokens.iter().any(|t| t.id == principal.token.id))
}
