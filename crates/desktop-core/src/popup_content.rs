//! What a client event pops up: its title, body and what a click does. Whether
//! it may pop up now is [`crate::popup_policy`]'s call, made later by the
//! [`crate::popups::Notifier`].

use std::borrow::Cow;

use herald_client::{Client, ClientEvent};
use herald_protocol::{ConversationId, NotificationKind, DEFAULT_PRIORITY};

use crate::popup_policy::Source;
use crate::popups::{ClickTarget, Popup};

/// A popup a client event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PopupRequest {
    /// Ready to show.
    Now(Source, Popup),
    /// A chat message: its title names the sender (and room), which may take
    /// a look into the cache or a question to the server ([`chat_popup`]).
    Chat {
        conversation: ConversationId,
        sender: String,
        body: String,
    },
}

/// The popup `event` asks for, if any. `me` is the signed-in username: one's
/// own chat messages (from another device) do not pop up.
pub fn popup_for(event: &ClientEvent, me: Option<&str>) -> Option<PopupRequest> {
    match event {
        ClientEvent::DesktopPopup {
            title,
            content,
            link,
            priority,
            id,
        } => Some(PopupRequest::Now(
            Source::Desktop {
                priority: *priority,
            },
            Popup {
                title: title.clone(),
                body: content.clone(),
                target: ClickTarget::new(*id, link.clone()),
                priority: *priority,
            },
        )),
        // `desktop` ones pop up through their DesktopPopup; the rest per settings.
        ClientEvent::NotificationAdded {
            notification: n,
            live: true,
        } if !n.desktop && !n.read => {
            let source = match n.kind {
                NotificationKind::Personal => Source::Personal {
                    priority: n.priority,
                },
                NotificationKind::Broadcast => Source::Broadcast {
                    priority: n.priority,
                },
            };
            Some(PopupRequest::Now(
                source,
                Popup {
                    title: n.title.clone(),
                    body: n.content.clone(),
                    target: ClickTarget::new(Some(n.id), n.link.clone()),
                    priority: n.priority,
                },
            ))
        }
        ClientEvent::MessageAdded {
            message,
            live: true,
        } => match (&message.sender, message.conversation_id) {
            (Some(sender), Some(conversation)) if me != Some(sender.as_str()) => {
                Some(PopupRequest::Chat {
                    conversation,
                    sender: sender.clone(),
                    body: message.content.clone(),
                })
            }
            _ => None,
        },
        _ => None,
    }
}

/// The popup for a chat message, titled with who wrote it (and where, in a room).
pub async fn chat_popup(
    client: &Client,
    conversation: ConversationId,
    sender: &str,
    body: String,
) -> Popup {
    let summary = client.conversation(conversation).await.ok().flatten();
    let title = match summary.map(|c| (c.peer, c.room)) {
        Some((_, Some(room))) => format!("{sender} in {}", room.name),
        Some((Some(peer), None)) => peer.display_name,
        _ => display_name(client, sender).await,
    };
    Popup {
        title,
        body,
        target: ClickTarget::Conversation(conversation),
        priority: DEFAULT_PRIORITY,
    }
}

/// How `username` is shown: their display name, asked of the server when the
/// cache does not know it yet (the first message of a new conversation arrives
/// before its peer is loaded).
async fn display_name(client: &Client, username: &str) -> String {
    match client.search_users(username, 5).await {
        Ok(found) => found
            .into_iter()
            .find(|f| f.user.username == username)
            .map_or_else(|| username.to_owned(), |f| f.user.display_name),
        Err(_) => username.to_owned(),
    }
}

/// A popup body as a notification server that renders markup must receive it.
///
/// The freedesktop notification spec lets the body carry a small subset of
/// HTML when the server advertises the `body-markup` capability; such a server
/// shows `<b>x</b>` in bold and swallows a lone `<`. Herald's bodies are plain
/// text, so `&`, `<` and `>` are escaped for those servers. Servers without
/// the capability show the body as is (the spec only asks them to strip
/// markup, not to decode entities), so they get it unchanged.
pub fn popup_body(body: &str, server_renders_markup: bool) -> Cow<'_, str> {
    if !server_renders_markup || !body.contains(['&', '<', '>']) {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len() + 16);
    for c in body.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use herald_client::{ChatMessage, MessageState};
    use herald_protocol::Notification;

    use super::*;

    #[test]
    fn bodies_are_escaped_only_for_servers_that_render_markup() {
        let body = "3 < 5 & <b>not bold</b> -> done";
        assert_eq!(
            popup_body(body, true),
            "3 &lt; 5 &amp; &lt;b&gt;not bold&lt;/b&gt; -&gt; done"
        );
        assert_eq!(popup_body(body, false), body);
        assert!(matches!(
            popup_body("plain text", true),
            Cow::Borrowed("plain text")
        ));
    }

    fn notification(desktop: bool, read: bool) -> Notification {
        Notification {
            id: 7,
            kind: NotificationKind::Broadcast,
            category: None,
            title: "Staging is down".into(),
            content: "18:00–18:30".into(),
            link: None,
            priority: 4,
            desktop,
            sender: None,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            read,
        }
    }

    #[test]
    fn a_live_unread_notification_pops_up_by_its_kind_unless_it_has_its_own_desktop_push() {
        let added = |n: Notification, live| ClientEvent::NotificationAdded {
            notification: n,
            live,
        };
        assert_eq!(
            popup_for(&added(notification(false, false), true), None),
            Some(PopupRequest::Now(
                Source::Broadcast { priority: 4 },
                Popup {
                    title: "Staging is down".into(),
                    body: "18:00–18:30".into(),
                    target: ClickTarget::Notification { id: 7, link: None },
                    priority: 4,
                }
            ))
        );
        for quiet in [
            added(notification(true, false), true),
            added(notification(false, true), true),
            added(notification(false, false), false),
        ] {
            assert_eq!(popup_for(&quiet, None), None, "{quiet:?}");
        }
    }

    #[test]
    fn chat_messages_pop_up_unless_they_are_ones_own() {
        let message = ChatMessage {
            local_id: 1,
            id: Some(10),
            conversation_id: Some(3),
            peer: Some("bob".into()),
            sender: Some("bob".into()),
            content: "hi".into(),
            client_id: "c1".into(),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            state: MessageState::Sent,
        };
        let event = ClientEvent::MessageAdded {
            message: message.clone(),
            live: true,
        };
        assert_eq!(
            popup_for(&event, Some("alice")),
            Some(PopupRequest::Chat {
                conversation: 3,
                sender: "bob".into(),
                body: "hi".into()
            })
        );
        assert_eq!(popup_for(&event, Some("bob")), None);
        let caught_up = ClientEvent::MessageAdded {
            message,
            live: false,
        };
        assert_eq!(popup_for(&caught_up, Some("alice")), None);
    }
}
