//! A user's tokens: send-only tokens for CI and scripts, and device sessions.
//!
//! Ending one needs no more than deleting it: the store announces the deletion
//! on its commit feed, which closes the session's connections on every node and
//! drops it from every principal cache.

use herald_protocol::{text, CreatedToken, TokenInfo, TokenKind, UserId, MAX_TOKEN_NAME_CHARS};

use herald_store::Principal;

use super::secrets;
use crate::state::AppState;
use crate::{Error, Result};

/// A new send-only token named `name`; its secret is returned this once only.
pub async fn create_send_token(state: &AppState, user: UserId, name: &str) -> Result<CreatedToken> {
    let name = text::required_line("name", name, MAX_TOKEN_NAME_CHARS)?;
    let (token, hash) = secrets::new_token();
    let info = state
        .store
        .create_token(user, TokenKind::Send, name, hash)
        .await?;
    Ok(CreatedToken { info, token })
}

pub async fn list(state: &AppState, user: UserId) -> Result<Vec<TokenInfo>> {
    Ok(state.store.list_tokens(user).await?)
}

/// Ends one of `user`'s tokens; another user's token is [`Error::NotFound`], as
/// one that does not exist.
pub async fn revoke(state: &AppState, user: UserId, token: i64) -> Result<()> {
    if state.store.delete_token(user, token).await? {
        Ok(())
    } else {
        Err(Error::NotFound(format!("token {token}")))
    }
}

/// Ends the session the caller presented. One that ended meanwhile (revoked
/// from another device) is already what was asked for.
pub async fn log_out(state: &AppState, me: &Principal) -> Result<()> {
    state.store.delete_token(me.user.id, me.token.id).await?;
    Ok(())
}
