import type { Contact } from "../../bindings/protocol";
import type { ConversationSummary } from "../../ipc";
import { lastMessagePreview } from "../../lib/chat";
import { countLabel, fullTime, relativeTime } from "../../lib/format";
import { Avatar } from "./Avatar";

/** The conversations, most recent first, then contacts without one yet. */
export function ConversationList(props: {
  list: ConversationSummary[];
  /** Contacts without a direct conversation. */
  contactsOnly: Contact[];
  online: Record<string, boolean>;
  me: string | null;
  openedId: number | null;
  onOpen: (conversation: number) => void;
  onStart: (username: string) => void;
}) {
  const { list, contactsOnly, online } = props;
  return (
    <>
      <ul class="list" id="conversation-list">
        {list.map((c) => {
          const peer = c.peer?.username ?? null;
          const name = c.kind === "direct" ? c.peer?.display_name || c.title : c.title;
          return (
            <li
              key={c.id}
              class={`row conv ${props.openedId === c.id ? "opened" : ""} ${c.unread_count > 0 ? "unread" : ""}`}
              data-conversation={c.id}
              onClick={() => props.onOpen(c.id)}
            >
              <Avatar name={name} online={peer !== null && peer in online ? online[peer]! : null} />
              <div class="row-main">
                <div class="line1">
                  <span class="title">{name}</span>
                  <span class="time" title={fullTime(c.last_time)}>{relativeTime(c.last_time)}</span>
                </div>
                <div class="line2">
                  <span class="preview">{lastMessagePreview(c, props.me)}</span>
                  {c.unread_count > 0 && <span class="pill unread-badge">{countLabel(c.unread_count)}</span>}
                </div>
              </div>
            </li>
          );
        })}
      </ul>
      {contactsOnly.length > 0 && (
        <>
          <h4 class="chat-section muted">Contacts</h4>
          <ul class="list">
            {contactsOnly.map((c) => (
              <li key={c.username} class="row conv" data-contact={c.username} onClick={() => props.onStart(c.username)}>
                <Avatar name={c.display_name || c.username} online={online[c.username] ?? c.online} />
                <div class="row-main">
                  <span class="title">{c.display_name || c.username}</span>
                  <div class="preview muted">@{c.username} · start a conversation</div>
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
