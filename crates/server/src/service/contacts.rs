//! Contacts: each user's own list of people, shown with their presence.

use herald_protocol::{validate_username, Contact, User};
use herald_store::ContactEntry;

use crate::state::AppState;
use crate::{Error, Result};

fn with_presence(state: &AppState, entry: ContactEntry) -> Contact {
    Contact {
        online: state.presence.is_online(entry.user.id),
        user: entry.user,
        added_at: entry.added_at,
    }
}

pub async fn list(state: &AppState, me: &User) -> Result<Vec<Contact>> {
    let entries = state.store.list_contacts(me.id).await?;
    Ok(entries
        .into_iter()
        .map(|entry| with_presence(state, entry))
        .collect())
}

/// The contact, and whether they were new (adding one twice is not an error).
pub async fn add(state: &AppState, me: &User, username: &str) -> Result<(Contact, bool)> {
    validate_username(username).map_err(Error::BadRequest)?;
    if username == me.username {
        return Err(Error::Forbidden(
            "you cannot add yourself as a contact".into(),
        ));
    }
    let (entry, added) = state.store.add_contact(me.id, username).await?;
    Ok((with_presence(state, entry), added))
}

pub async fn remove(state: &AppState, me: &User, username: &str) -> Result<()> {
    validate_username(username).map_err(Error::BadRequest)?;
    if !state.store.remove_contact(me.id, username).await? {
        return Err(Error::NotFound(format!("contact {username:?}")));
    }
    Ok(())
}
