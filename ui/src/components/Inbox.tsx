import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";

import type { Counts, Notification, StatusFilter } from "../bindings/protocol";
import { ipc } from "../ipc";
import type { ClientEvent, FocusRequest, MessageHit, SnippetPart } from "../ipc";
import { categoryHue, countLabel, fullTime, isWebLink, linkHost, preview, relativeTime } from "../lib/format";
import {
  applyEvent,
  focusAfterRemoval,
  moveFocus,
  selectRange,
  setRead,
  tabCount,
  tabKind,
  TAB_LABELS,
  TABS,
  toggleSelected,
  type Tab,
} from "../lib/inbox";
import { createLookup, MAX_QUERY_CHARS } from "../lib/lookup";
import {
  escapeAction,
  noResultsTitle,
  resultCount,
  SEARCH_LIMIT,
  snippetField,
  visibleHits,
  type SearchResults,
} from "../lib/search";
import {
  ChatIcon,
  CheckAllIcon,
  CheckIcon,
  EnvelopeIcon,
  InboxIcon,
  LinkIcon,
  MegaphoneIcon,
  SearchIcon,
  TrashIcon,
  XIcon,
} from "./icons";

interface Props {
  counts: Counts | null;
  subscribe: (handler: (e: ClientEvent) => void) => () => void;
  focusRequest: FocusRequest | null;
  onError: (message: string) => void;
  /** Shows a conversation in the chat view (a chat message found by search). */
  onOpenConversation: (id: number) => void;
}

const PAGE = 100;
/** How long typing must pause before the local index is asked. */
const SEARCH_DELAY_MS = 120;

const STATUS_OPTIONS: { value: StatusFilter; label: string }[] = [
  { value: "unread", label: "Unread" },
  { value: "all", label: "All" },
  { value: "read", label: "Read" },
];

export function Inbox({ counts, subscribe, focusRequest, onError, onOpenConversation }: Props) {
  const [tab, setTab] = useState<Tab>("all");
  const [status, setStatus] = useState<StatusFilter>("all");
  const [query, setQuery] = useState("");
  const [items, setItems] = useState<Notification[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [results, setResults] = useState<SearchResults | null>(null);
  const [loading, setLoading] = useState(true);
  const [focused, setFocused] = useState<number | null>(null);
  const [opened, setOpened] = useState<number | null>(null);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [anchor, setAnchor] = useState<number | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const kind = tabKind(tab);

  const load = useCallback(async () => {
    if (tab === "chats") {
      setItems([]);
      setLoading(false);
      return;
    }
    try {
      const page = await ipc.listNotifications(status, kind, null, PAGE);
      setItems(page);
      setHasMore(page.length === PAGE);
    } catch (e) {
      onError(String(e instanceof Error ? e.message : e));
    } finally {
      setLoading(false);
    }
  }, [tab, status, kind, onError]);

  useEffect(() => {
    setLoading(true);
    setSelected(new Set());
    void load();
  }, [load]);

  // Live updates: apply what can be applied, re-query when too much changed.
  useEffect(
    () =>
      subscribe((e) => {
        let reload = false;
        setItems((cur) => {
          const change = applyEvent(cur, e, kind, status);
          if (change === "reload") {
            reload = true;
            return cur;
          }
          return change.items;
        });
        if (reload) void load();
        if (e.type === "action_refused") onError(e.message);
      }),
    [subscribe, kind, status, load, onError],
  );

  // Search runs on the local full-text index (works offline) as the user types,
  // and again when the list changes, so results stay current.
  const lookup = useMemo(
    () =>
      createLookup(
        async (q): Promise<SearchResults> => {
          const [notifications, messages] = await Promise.all([
            ipc.search(q, SEARCH_LIMIT),
            ipc.searchMessages(q, SEARCH_LIMIT),
          ]);
          return { query: q, notifications, messages };
        },
        (_, r) => setResults(r),
        onError,
        SEARCH_DELAY_MS,
      ),
    [onError],
  );
  useEffect(() => lookup.update(query), [lookup, query, items]);
  useEffect(() => () => lookup.cancel(), [lookup]);

  useEffect(() => {
    const id = focusRequest?.notification ?? null;
    if (id !== null) {
      setTab("all");
      setStatus("all");
      setFocused(id);
      setOpened(id);
    }
  }, [focusRequest]);

  // While searching, the hits (in the current tab and read filter) replace the list.
  const visible = useMemo(
    () => (results === null ? items : visibleHits(results, kind, status)),
    [items, results, kind, status],
  );
  const snippets = useMemo(
    () => new Map((results?.notifications ?? []).map((h) => [h.notification.id, h.snippet])),
    [results],
  );
  const searching = results !== null && query.trim() !== "";
  const current = visible.find((n) => n.id === opened) ?? null;

  const markRead = useCallback(
    async (ids: number[], read: boolean) => {
      if (ids.length === 0) return;
      setItems((cur) => setRead(cur, ids, read));
      try {
        await (read ? ipc.markRead(ids) : ipc.markUnread(ids));
      } catch (e) {
        onError(String(e instanceof Error ? e.message : e));
        void load();
      }
    },
    [load, onError],
  );

  const open = useCallback(
    (n: Notification) => {
      setFocused(n.id);
      setOpened(n.id);
      if (!n.read) void markRead([n.id], true);
    },
    [markRead],
  );

  const remove = useCallback(
    async (ids: number[]) => {
      if (ids.length === 0) return;
      setFocused((f) => focusAfterRemoval(visible, f, ids));
      setOpened((o) => (o !== null && ids.includes(o) ? null : o));
      setItems((cur) => cur.filter((n) => !ids.includes(n.id)));
      setSelected(new Set());
      try {
        await ipc.deleteNotifications(ids);
      } catch (e) {
        onError(String(e instanceof Error ? e.message : e));
        void load();
      }
    },
    [visible, load, onError],
  );

  const markAllRead = useCallback(async () => {
    setItems((cur) => cur.map((n) => (kind === "all" || n.kind === kind ? { ...n, read: true } : n)));
    try {
      await ipc.markAllRead(kind);
    } catch (e) {
      onError(String(e instanceof Error ? e.message : e));
      void load();
    }
  }, [kind, load, onError]);

  const loadMore = useCallback(async () => {
    const last = items[items.length - 1];
    if (!last) return;
    try {
      const page = await ipc.listNotifications(status, kind, last.id, PAGE);
      setItems((cur) => [...cur, ...page.filter((n) => !cur.some((c) => c.id === n.id))]);
      setHasMore(page.length === PAGE);
    } catch (e) {
      onError(String(e instanceof Error ? e.message : e));
    }
  }, [items, status, kind, onError]);

  // Keyboard navigation (ignored while typing in a field).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
      if (e.key === "/" && !typing) {
        e.preventDefault();
        searchRef.current?.focus();
        return;
      }
      if (e.key === "Escape") {
        const action = escapeAction({ inSearchBox: e.target === searchRef.current, query, selected: selected.size });
        if (action === "clear-query") setQuery("");
        else if (action === "clear-selection") setSelected(new Set());
        else if (action === "leave-search" || typing) (e.target as HTMLElement).blur();
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      const focusedItem = visible.find((n) => n.id === focused);
      switch (e.key) {
        case "ArrowDown":
        case "j":
          e.preventDefault();
          setFocused(moveFocus(visible, focused, 1));
          break;
        case "ArrowUp":
        case "k":
          e.preventDefault();
          setFocused(moveFocus(visible, focused, -1));
          break;
        case "Enter":
          if (focusedItem) open(focusedItem);
          break;
        case "o":
          if (focusedItem) {
            open(focusedItem);
            if (isWebLink(focusedItem.link)) void ipc.openLink(focusedItem.link);
          }
          break;
        case "x":
        case " ":
          e.preventDefault();
          if (focused !== null) {
            setSelected((s) => toggleSelected(s, focused));
            setAnchor(focused);
          }
          break;
        case "u":
          if (focusedItem) void markRead([focusedItem.id], !focusedItem.read);
          break;
        case "Delete":
        case "#":
          if (selected.size) void remove([...selected]);
          else if (focusedItem) void remove([focusedItem.id]);
          break;
        case "A":
          void markAllRead();
          break;
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [visible, focused, selected, query, open, remove, markRead, markAllRead]);

  useEffect(() => {
    if (focused === null) return;
    listRef.current?.querySelector(`[data-id="${focused}"]`)?.scrollIntoView({ block: "nearest" });
  }, [focused]);

  const unreadInView = tabCount(counts, tab);

  return (
    <div class="inbox">
      <header class="toolbar">
        <nav class="tabs" role="tablist" aria-label="Notification kinds">
          {TABS.map((t) => {
            const c = countLabel(tabCount(counts, t));
            return (
              <button
                key={t}
                role="tab"
                aria-selected={tab === t}
                class={`tab ${tab === t ? "active" : ""}`}
                onClick={() => setTab(t)}
                data-tab={t}
              >
                {TAB_LABELS[t]}
                {c && <span class="pill">{c}</span>}
              </button>
            );
          })}
        </nav>
        <div class="spacer" />
        <label class="search">
          <SearchIcon size={16} />
          <input
            ref={searchRef}
            type="search"
            placeholder="Search all messages"
            value={query}
            maxLength={MAX_QUERY_CHARS}
            id="search"
            onInput={(e) => setQuery(e.currentTarget.value)}
            aria-label="Search"
          />
          <kbd>/</kbd>
        </label>
      </header>

      <div class="subbar">
        {selected.size > 0 ? (
          <div class="selection">
            <span class="muted">{selected.size} selected</span>
            <button class="btn ghost" onClick={() => void markRead([...selected], true)}>
              <CheckIcon size={16} /> Mark read
            </button>
            <button class="btn ghost danger" onClick={() => void remove([...selected])} data-action="delete-selected">
              <TrashIcon size={16} /> Delete
            </button>
            <button class="btn ghost" onClick={() => setSelected(new Set())} aria-label="Clear selection">
              <XIcon size={16} />
            </button>
          </div>
        ) : tab === "chats" ? (
          <span class="muted">{searching ? resultCount(results.messages.length) : "Messages in your conversations"}</span>
        ) : (
          <div class="segmented" role="radiogroup" aria-label="Read state">
            {STATUS_OPTIONS.map((o) => (
              <button
                key={o.value}
                role="radio"
                aria-checked={status === o.value}
                class={status === o.value ? "on" : ""}
                onClick={() => setStatus(o.value)}
              >
                {o.label}
              </button>
            ))}
          </div>
        )}
        <div class="spacer" />
        <button
          class="btn"
          onClick={() => void markAllRead()}
          disabled={tab === "chats" || unreadInView === 0}
          id="mark-all-read"
          title="Mark all read (Shift+A)"
        >
          <CheckAllIcon size={16} /> Mark all read
        </button>
      </div>

      <div class="split">
        <section class="list-pane">
          {tab === "chats" ? (
            searching && results.messages.length > 0 ? (
              <MessageHits hits={results.messages} onOpen={onOpenConversation} />
            ) : searching ? (
              <Empty icon={<SearchIcon size={28} />} title={noResultsTitle(query)}>
                No cached chat message matches. Search covers what this computer has synced.
              </Empty>
            ) : (
              <Empty icon={<ChatIcon size={28} />} title="Search your conversations">
                Type in the search box to find chat messages, or open <strong>Chats</strong> in the sidebar to read and
                reply.
              </Empty>
            )
          ) : loading && items.length === 0 ? (
            <ul class="list skeleton" aria-busy="true">
              {[0, 1, 2, 3, 4].map((i) => (
                <li key={i} class="row">
                  <div class="bar w60" />
                  <div class="bar w90" />
                </li>
              ))}
            </ul>
          ) : visible.length === 0 ? (
            searching ? (
              <Empty icon={<SearchIcon size={28} />} title={noResultsTitle(query)}>
                {results.messages.length > 0 ? (
                  <>
                    No notification here matches, but{" "}
                    <button class="link-btn" onClick={() => setTab("chats")}>
                      {resultCount(results.messages.length)} in chats
                    </button>{" "}
                    do.
                  </>
                ) : (
                  "Nothing in this view matches. Try fewer words, or another tab."
                )}
              </Empty>
            ) : status === "unread" ? (
              <Empty icon={<CheckAllIcon size={28} />} title="You're all caught up">
                No unread notifications. New ones show up here and in the tray.
              </Empty>
            ) : (
              <Empty icon={<InboxIcon size={28} />} title="No notifications yet">
                When a test run finishes or someone assigns you a task, it lands here.
              </Empty>
            )
          ) : (
            <ul class="list" role="listbox" aria-label="Notifications" ref={listRef} aria-multiselectable="true">
              {visible.map((n) => (
                <Row
                  key={n.id}
                  n={n}
                  snippet={snippets.get(n.id)}
                  focused={n.id === focused}
                  opened={n.id === opened}
                  selected={selected.has(n.id)}
                  onOpen={() => open(n)}
                  onSelect={(shift) => {
                    setSelected((s) => (shift ? selectRange(visible, s, anchor, n.id) : toggleSelected(s, n.id)));
                    setAnchor(n.id);
                  }}
                  onToggleRead={() => void markRead([n.id], !n.read)}
                  onDelete={() => void remove([n.id])}
                />
              ))}
              {searching && results.messages.length > 0 && (
                <li class="more">
                  <button class="btn ghost" onClick={() => setTab("chats")} id="show-message-hits">
                    <ChatIcon size={16} /> {resultCount(results.messages.length)} in chats
                  </button>
                </li>
              )}
              {hasMore && results === null && (
                <li class="more">
                  <button class="btn ghost" onClick={() => void loadMore()}>
                    Load older
                  </button>
                </li>
              )}
            </ul>
          )}
        </section>
        <section class="detail-pane">
          {current ? (
            <Detail
              n={current}
              onToggleRead={() => void markRead([current.id], !current.read)}
              onDelete={() => void remove([current.id])}
            />
          ) : (
            <Empty icon={<EnvelopeIcon size={28} />} title="Nothing selected">
              Pick a notification to read it. <kbd>j</kbd> <kbd>k</kbd> move, <kbd>Enter</kbd> opens,{" "}
              <kbd>x</kbd> selects, <kbd>#</kbd> deletes.
            </Empty>
          )}
        </section>
      </div>
    </div>
  );
}

function Row(props: {
  n: Notification;
  snippet: SnippetPart[] | undefined;
  focused: boolean;
  opened: boolean;
  selected: boolean;
  onOpen: () => void;
  onSelect: (shift: boolean) => void;
  onToggleRead: () => void;
  onDelete: () => void;
}) {
  const { n } = props;
  const inTitle = props.snippet !== undefined && snippetField(n, props.snippet) === "title";
  const cls = ["row", n.read ? "read" : "unread", props.focused && "focused", props.opened && "opened", props.selected && "selected"]
    .filter(Boolean)
    .join(" ");
  return (
    <li class={cls} data-id={n.id} role="option" aria-selected={props.opened} onClick={props.onOpen}>
      <label class="check" onClick={(e) => e.stopPropagation()}>
        <input
          type="checkbox"
          checked={props.selected}
          onClick={(e) => props.onSelect(e.shiftKey)}
          aria-label={`Select ${n.title}`}
        />
      </label>
      <span class="dot" aria-label={n.read ? "read" : "unread"} />
      <div class="row-main">
        <div class="line1">
          <span class="title">{inTitle && props.snippet ? <Snippet parts={props.snippet} /> : n.title}</span>
          {n.priority >= 4 && <span class={`prio p${n.priority}`}>{n.priority === 5 ? "Urgent" : "High"}</span>}
          <span class="time" title={fullTime(n.created_at)}>
            {relativeTime(n.created_at)}
          </span>
        </div>
        <div class="line2">
          {n.kind === "broadcast" && (
            <span class="kind" title="Broadcast to everyone">
              <MegaphoneIcon size={14} />
            </span>
          )}
          {n.category && <Chip category={n.category} />}
          <span class="preview">
            {props.snippet && !inTitle ? (
              <Snippet parts={props.snippet} />
            ) : (
              preview(n.content) || <em class="muted">No details</em>
            )}
          </span>
          {isWebLink(n.link) && (
            <span class="has-link" title={n.link}>
              <LinkIcon size={14} />
            </span>
          )}
        </div>
      </div>
      <div class="row-actions" onClick={(e) => e.stopPropagation()}>
        <button class="icon-btn" onClick={props.onToggleRead} title={n.read ? "Mark unread" : "Mark read"}>
          {n.read ? <EnvelopeIcon size={16} /> : <CheckIcon size={16} />}
        </button>
        <button class="icon-btn danger" onClick={props.onDelete} title="Delete">
          <TrashIcon size={16} />
        </button>
      </div>
    </li>
  );
}

/** Chat messages found by search; a click opens the conversation. */
function MessageHits({ hits, onOpen }: { hits: MessageHit[]; onOpen: (conversation: number) => void }) {
  return (
    <ul class="list" aria-label="Matching chat messages" id="message-hits">
      {hits.map((h) => {
        const conversation = h.message.conversation_id;
        return (
          <li
            key={h.message.local_id}
            class="row message-hit"
            data-conversation={conversation ?? ""}
            onClick={() => conversation !== null && onOpen(conversation)}
          >
            <span class="kind" aria-hidden="true">
              <ChatIcon size={16} />
            </span>
            <div class="row-main">
              <div class="line1">
                <span class="title">{h.message.sender ?? "deleted user"}</span>
                <span class="time" title={fullTime(h.message.created_at)}>
                  {relativeTime(h.message.created_at)}
                </span>
              </div>
              <div class="line2">
                <span class="preview">
                  <Snippet parts={h.snippet} />
                </span>
              </div>
            </div>
          </li>
        );
      })}
    </ul>
  );
}

/** Search snippet with the matched words highlighted. */
function Snippet({ parts }: { parts: SnippetPart[] }) {
  return <>{parts.map((part, i) => (part.matched ? <mark key={i}>{part.text}</mark> : part.text))}</>;
}

function Chip({ category }: { category: string }) {
  return (
    <span class="chip" style={{ "--hue": String(categoryHue(category)) }}>
      {category}
    </span>
  );
}

function Detail({ n, onToggleRead, onDelete }: { n: Notification; onToggleRead: () => void; onDelete: () => void }) {
  return (
    <article class="detail" data-id={n.id}>
      <div class="detail-meta">
        {n.kind === "broadcast" ? (
          <span class="kind-label">
            <MegaphoneIcon size={14} /> Broadcast
          </span>
        ) : (
          <span class="kind-label">
            <EnvelopeIcon size={14} /> Personal
          </span>
        )}
        {n.category && <Chip category={n.category} />}
        {n.priority >= 4 && <span class={`prio p${n.priority}`}>{n.priority === 5 ? "Urgent" : "High"} priority</span>}
      </div>
      <h2>{n.title}</h2>
      <div class="byline">
        <span>{n.sender ? `From ${n.sender}` : "From Herald"}</span>
        <span class="muted">·</span>
        <time class="muted" dateTime={n.created_at}>
          {fullTime(n.created_at)}
        </time>
      </div>
      {n.content ? <div class="content">{n.content}</div> : <p class="muted">No details.</p>}
      <div class="detail-actions">
        {isWebLink(n.link) && (
          <button class="btn primary" onClick={() => void ipc.openLink(n.link as string)}>
            <LinkIcon size={16} /> Open {linkHost(n.link)}
          </button>
        )}
        <button class="btn" onClick={onToggleRead}>
          {n.read ? <EnvelopeIcon size={16} /> : <CheckIcon size={16} />} {n.read ? "Mark unread" : "Mark read"}
        </button>
        <button class="btn danger" onClick={onDelete}>
          <TrashIcon size={16} /> Delete
        </button>
      </div>
    </article>
  );
}

export function Empty(props: { icon: preact.ComponentChildren; title: string; children: preact.ComponentChildren }) {
  return (
    <div class="empty">
      <div class="empty-icon">{props.icon}</div>
      <h3>{props.title}</h3>
      <p>{props.children}</p>
    </div>
  );
}
