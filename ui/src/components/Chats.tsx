import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";

import type { Contact, FoundUser } from "../bindings/protocol";
import { ipc } from "../ipc";
import type { ChatMessage, ClientEvent, ConversationSummary } from "../ipc";
import {
  belongsTo,
  bubbleTime,
  lastMessagePreview,
  mergeHistory,
  oldestId,
  readMarker,
  removeMessage,
  shouldSend,
  sortConversations,
  upsertConversation,
} from "../lib/chat";
import { countLabel, fullTime, initials, relativeTime } from "../lib/format";
import { createLookup, MAX_QUERY_CHARS } from "../lib/lookup";
import { CLOSED, onKey, showResults, type Suggestions } from "../lib/typeahead";
import { ChatIcon, TrashIcon, XIcon } from "./icons";
import { Empty } from "./Inbox";

const PAGE = 40;

type Props = {
  me: string | null;
  subscribe: (l: (e: ClientEvent) => void) => () => void;
  onError: (message: string) => void;
  /** A conversation to show (picked in the message center's search results). */
  focusConversation: number | null;
};

/** What the right-hand pane shows: a conversation, or a first message to a contact. */
type Open = { conversation: number } | { draftTo: string } | null;

export function Chats({ me, subscribe, onError, focusConversation }: Props) {
  const [list, setList] = useState<ConversationSummary[]>([]);
  const [contacts, setContacts] = useState<Contact[]>([]);
  const [online, setOnline] = useState<Record<string, boolean>>({});
  const [open, setOpen] = useState<Open>(null);
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    if (focusConversation !== null) setOpen({ conversation: focusConversation });
  }, [focusConversation]);

  const reload = useCallback(async () => {
    try {
      const [cs, ct] = await Promise.all([ipc.conversations(), ipc.contacts()]);
      setList(sortConversations(cs));
      setContacts(ct);
      setOnline(Object.fromEntries(ct.map((c) => [c.username, c.online])));
    } catch (e) {
      onError(String((e as Error).message ?? e));
    } finally {
      setLoaded(true);
    }
  }, [onError]);

  useEffect(() => {
    void reload();
    return subscribe((e) => {
      if (e.type === "conversation_changed") {
        setList((l) => upsertConversation(l, e.conversation));
        setOpen((o) => (o && "draftTo" in o && e.conversation.peer?.username === o.draftTo ? { conversation: e.conversation.id } : o));
      } else if (e.type === "conversation_removed") {
        setList((l) => l.filter((c) => c.id !== e.id));
        setOpen((o) => (o && "conversation" in o && o.conversation === e.id ? null : o));
      } else if (e.type === "chat_reloaded") void reload();
      else if (e.type === "contacts_changed") {
        setContacts(e.contacts);
        setOnline((p) => ({ ...p, ...Object.fromEntries(e.contacts.map((c) => [c.username, c.online])) }));
      } else if (e.type === "presence") setOnline((p) => ({ ...p, [e.user]: e.online }));
    });
  }, [reload, subscribe]);

  /** Adds `username` as a contact unless it already is one, then opens the chat with them. */
  const addContact = async (username: string, isContact: boolean) => {
    if (!isContact) {
      const c = await ipc.addContact(username);
      setContacts((cs) => [...cs.filter((x) => x.username !== c.username), c]);
      setOnline((p) => ({ ...p, [c.username]: c.online }));
    }
    startWith(username);
  };

  const startWith = (username: string) => {
    const existing = list.find((c) => c.kind === "direct" && c.peer?.username === username);
    setOpen(existing ? { conversation: existing.id } : { draftTo: username });
  };

  const current = open && "conversation" in open ? list.find((c) => c.id === open.conversation) ?? null : null;
  const withoutChat = contacts.filter((c) => !list.some((x) => x.kind === "direct" && x.peer?.username === c.username));

  return (
    <div class="chats split">
      <aside class="list-pane chat-list" aria-label="Conversations">
        <ContactTypeahead onPick={addContact} onError={onError} />
        {loaded && list.length === 0 && withoutChat.length === 0 && (
          <p class="muted chat-hint">No conversations yet. Add a contact above to start one.</p>
        )}
        <ul class="list" id="conversation-list">
          {list.map((c) => {
            const peer = c.peer?.username ?? null;
            const name = c.kind === "direct" ? c.peer?.display_name || c.title : c.title;
            return (
              <li
                key={c.id}
                class={`row conv ${current?.id === c.id ? "opened" : ""} ${c.unread_count > 0 ? "unread" : ""}`}
                data-conversation={c.id}
                onClick={() => setOpen({ conversation: c.id })}
              >
                <Avatar name={name} online={peer !== null && peer in online ? online[peer]! : null} />
                <div class="row-main">
                  <div class="line1">
                    <span class="title">{name}</span>
                    <span class="time" title={fullTime(c.last_time)}>{relativeTime(c.last_time)}</span>
                  </div>
                  <div class="line2">
                    <span class="preview">{lastMessagePreview(c, me)}</span>
                    {c.unread_count > 0 && <span class="pill unread-badge">{countLabel(c.unread_count)}</span>}
                  </div>
                </div>
              </li>
            );
          })}
        </ul>
        {withoutChat.length > 0 && (
          <>
            <h4 class="chat-section muted">Contacts</h4>
            <ul class="list">
              {withoutChat.map((c) => (
                <li key={c.username} class="row conv" data-contact={c.username} onClick={() => startWith(c.username)}>
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
      </aside>
      <section class="detail-pane chat-pane">
        {current ? (
          <History key={current.id} conv={current} me={me} onError={onError} subscribe={subscribe} />
        ) : open && "draftTo" in open ? (
          <Draft to={open.draftTo} onError={onError} />
        ) : (
          <Empty icon={<ChatIcon size={28} />} title={list.length ? "Pick a conversation" : "No conversations yet"}>
            {list.length ? "Choose a conversation on the left to read and reply." : "Direct messages and rooms appear here."}
          </Empty>
        )}
      </section>
    </div>
  );
}

/** How long typing must pause before the directory is asked. */
const TYPEAHEAD_DELAY_MS = 150;
const TYPEAHEAD_LIMIT = 8;

/** "Add a contact": finds people on the server as you type; Enter or a click adds (or opens) one. */
function ContactTypeahead(props: {
  onPick: (username: string, isContact: boolean) => Promise<void>;
  onError: (m: string) => void;
}) {
  const { onPick, onError } = props;
  const [text, setText] = useState("");
  const [found, setFound] = useState<Suggestions<FoundUser>>(CLOSED);
  const lookup = useMemo(
    () =>
      createLookup(
        (q) => ipc.searchUsers(q, TYPEAHEAD_LIMIT),
        (_, users) => setFound(users === null ? CLOSED : showResults(users)),
        onError,
        TYPEAHEAD_DELAY_MS,
      ),
    [onError],
  );
  useEffect(() => () => lookup.cancel(), [lookup]);

  const reset = () => {
    lookup.cancel();
    setText("");
    setFound(CLOSED);
  };
  const pick = (username: string, isContact: boolean) => {
    if (!username.trim()) return;
    onPick(username.trim(), isContact).then(reset, (e: Error) => onError(e.message));
  };
  const known = (username: string) => found.items.find((u) => u.username === username)?.is_contact ?? false;

  const onKeyDown = (e: KeyboardEvent) => {
    const out = onKey(found, e.key);
    if (out.kind === "none") return;
    e.preventDefault();
    if (out.kind === "move" || out.kind === "close") setFound(out.next);
    else if (out.kind === "pick") pick(out.item.username, out.item.is_contact);
    else if (out.kind === "submit") pick(text, known(text.trim()));
    else reset();
  };

  const listId = "chat-add-suggestions";
  const active = found.open ? found.items[found.active] : undefined;
  return (
    <div class="chat-add">
      <input
        class="chat-add-input"
        type="text"
        placeholder="Add a contact…"
        value={text}
        maxLength={MAX_QUERY_CHARS}
        onInput={(e) => {
          setText(e.currentTarget.value);
          lookup.update(e.currentTarget.value);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setFound((f) => ({ ...f, open: false }))}
        role="combobox"
        aria-expanded={found.open}
        aria-controls={listId}
        aria-activedescendant={active ? `suggest-${active.username}` : undefined}
        aria-autocomplete="list"
        aria-label="Add a contact: type a name or username"
        id="chat-add-contact"
        autoComplete="off"
      />
      {found.open && (
        <ul class="suggestions card" role="listbox" id={listId}>
          {found.items.length === 0 ? (
            <li class="suggestion empty-suggestion muted">No one named “{text.trim()}”</li>
          ) : (
            found.items.map((u, i) => (
              <li
                key={u.username}
                id={`suggest-${u.username}`}
                role="option"
                aria-selected={i === found.active}
                class={`suggestion ${i === found.active ? "active" : ""}`}
                data-username={u.username}
                // Before the input's blur closes the list.
                onMouseDown={(e) => {
                  e.preventDefault();
                  pick(u.username, u.is_contact);
                }}
                onMouseEnter={() => setFound((f) => ({ ...f, active: i }))}
              >
                <Avatar name={u.display_name || u.username} online={null} />
                <span class="suggestion-names">
                  <span class="suggestion-name">{u.display_name || u.username}</span>
                  <span class="muted">@{u.username}</span>
                </span>
                {u.is_contact ? <span class="suggestion-tag">Contact</span> : <span class="suggestion-tag add">Add</span>}
              </li>
            ))
          )}
        </ul>
      )}
    </div>
  );
}

function Avatar({ name, online }: { name: string; online: boolean | null }) {
  return (
    <span class="chat-avatar" aria-hidden="true">
      {initials(name)}
      {online !== null && <span class={`presence ${online ? "on" : "off"}`} title={online ? "online" : "offline"} />}
    </span>
  );
}

function History(props: {
  conv: ConversationSummary;
  me: string | null;
  onError: (m: string) => void;
  subscribe: (l: (e: ClientEvent) => void) => () => void;
}) {
  const { conv, me, onError, subscribe } = props;
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [hasMore, setHasMore] = useState(true);
  const [menu, setMenu] = useState<{ m: ChatMessage; x: number; y: number } | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const prevHeight = useRef<number | null>(null);
  const loadingOlder = useRef(false);

  useEffect(() => {
    stick.current = true;
    ipc.history(conv.id, null, PAGE).then(
      (page) => {
        setMessages(mergeHistory([], page));
        setHasMore(page.length >= PAGE);
      },
      (e: Error) => onError(e.message),
    );
    return subscribe((e) => {
      if ((e.type === "message_added" || e.type === "message_changed") && belongsTo(e.message, conv)) {
        setMessages((l) => mergeHistory(l, [e.message]));
      } else if (e.type === "message_removed") {
        setMessages((l) => removeMessage(l, e.local_id, e.id));
      }
    });
    // conv changes identity on every update; the key remounts per conversation.
  }, [conv.id, subscribe, onError]);

  // Read when opened and visible, and again as messages arrive.
  useEffect(() => {
    const markIfVisible = () => {
      if (conv.unread_count > 0 && document.visibilityState === "visible") {
        ipc.markConversationRead(conv.id).catch((e: Error) => onError(e.message));
      }
    };
    markIfVisible();
    document.addEventListener("visibilitychange", markIfVisible);
    return () => document.removeEventListener("visibilitychange", markIfVisible);
  }, [conv.id, conv.unread_count, onError]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (prevHeight.current !== null) {
      el.scrollTop += el.scrollHeight - prevHeight.current;
      prevHeight.current = null;
    } else if (stick.current) el.scrollTop = el.scrollHeight;
  }, [messages]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 60 && hasMore && !loadingOlder.current) {
      const before = oldestId(messages);
      if (before === null) return;
      loadingOlder.current = true;
      ipc.history(conv.id, before, PAGE).then(
        (page) => {
          prevHeight.current = el.scrollHeight;
          setMessages((l) => mergeHistory(l, page));
          setHasMore(page.length >= PAGE);
          loadingOlder.current = false;
        },
        (e: Error) => {
          loadingOlder.current = false;
          onError(e.message);
        },
      );
    }
  };

  const del = (m: ChatMessage, forEveryone: boolean) => {
    setMenu(null);
    if (m.id === null) return;
    ipc.deleteMessages([m.id], forEveryone).catch((e: Error) => onError(e.message));
  };

  const read = readMarker(messages, conv, me);
  const name = conv.kind === "direct" ? conv.peer?.display_name || conv.title : conv.title;
  const sub = conv.kind === "direct" ? `@${conv.peer?.username ?? conv.title}` : `${conv.room?.members.length ?? 0} members`;

  return (
    <div class="chat" onClick={() => setMenu(null)}>
      <header class="chat-head">
        <Avatar name={name} online={null} />
        <div>
          <div class="chat-title">{name}</div>
          <div class="muted chat-sub">{sub}</div>
        </div>
      </header>
      <div class="messages" ref={scroller} onScroll={onScroll} id="chat-history">
        {!hasMore && messages.length > 0 && <p class="muted chat-start">Start of the conversation</p>}
        {messages.length === 0 && <p class="muted chat-start">No messages yet. Say hello!</p>}
        {messages.map((m) => {
          const own = m.sender !== null && m.sender === me;
          return (
            <div key={m.local_id} class={`bubble-row ${own ? "own" : "theirs"}`}>
              <div
                class={`bubble ${m.state}`}
                data-message={m.id ?? ""}
                title={fullTime(m.created_at)}
                onContextMenu={(e) => {
                  e.preventDefault();
                  e.stopPropagation();
                  setMenu({ m, x: e.clientX, y: e.clientY });
                }}
              >
                {!own && conv.kind === "room" && <div class="bubble-sender">{m.sender ?? "deleted user"}</div>}
                <div class="bubble-text">{m.content}</div>
                <div class="bubble-meta">
                  {m.state === "pending" ? "sending…" : m.state === "failed" ? "not sent" : bubbleTime(m.created_at)}
                  {read === m.local_id && <span class="read-mark"> · Read</span>}
                </div>
              </div>
            </div>
          );
        })}
      </div>
      {menu && (
        <div class="menu card" style={{ left: `${menu.x}px`, top: `${menu.y}px` }} role="menu">
          <button class="menu-item" role="menuitem" onClick={() => del(menu.m, false)}>
            <TrashIcon size={14} /> Delete for me
          </button>
          {menu.m.sender === me && (
            <button class="menu-item danger" role="menuitem" onClick={() => del(menu.m, true)}>
              <TrashIcon size={14} /> Delete for everyone
            </button>
          )}
          <button class="menu-item" role="menuitem" onClick={() => setMenu(null)}>
            <XIcon size={14} /> Cancel
          </button>
        </div>
      )}
      <Composer onSend={(text) => ipc.sendToConversation(conv.id, text)} onError={onError} placeholder={`Message ${name}`} />
    </div>
  );
}

function Draft({ to, onError }: { to: string; onError: (m: string) => void }) {
  return (
    <div class="chat">
      <header class="chat-head">
        <Avatar name={to} online={null} />
        <div>
          <div class="chat-title">{to}</div>
          <div class="muted chat-sub">New conversation</div>
        </div>
      </header>
      <div class="messages">
        <p class="muted chat-start">Write the first message to @{to}.</p>
      </div>
      <Composer onSend={(text) => ipc.sendToUser(to, text)} onError={onError} placeholder={`Message ${to}`} />
    </div>
  );
}

function Composer(props: { onSend: (text: string) => Promise<unknown>; onError: (m: string) => void; placeholder: string }) {
  const [text, setText] = useState("");
  const send = () => {
    const t = text.trim();
    if (!t) return;
    setText("");
    props.onSend(t).catch((e: Error) => {
      setText(t);
      props.onError(e.message);
    });
  };
  return (
    <div class="composer">
      <textarea
        id="chat-composer"
        rows={1}
        value={text}
        placeholder={props.placeholder}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (shouldSend(e)) {
            e.preventDefault();
            send();
          }
        }}
      />
      <button class="btn primary" onClick={send} disabled={!text.trim()} id="chat-send">
        Send
      </button>
    </div>
  );
}
