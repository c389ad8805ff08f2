import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";

import type { Counts, Notification, StatusFilter } from "../../bindings/protocol";
import type { ClientEvent, FocusRequest } from "../../ipc";
import { useBackend } from "../../ipc";
import { focusAfterRemoval, tabCount, tabKind, type Tab } from "../../lib/inbox";
import { resultCount, visibleHits } from "../../lib/search";
import { useNotificationList } from "../../state/notifications";
import { useSearch } from "../../state/search";
import { useSelection } from "../../state/selection";
import { Empty } from "../common/Empty";
import { EnvelopeIcon } from "../common/icons";
import { Detail } from "./Detail";
import { useInboxKeys } from "./keys";
import { ChatHitsPane, NotificationsPane } from "./ListPane";
import { SubBar } from "./SubBar";
import { Toolbar } from "./Toolbar";

interface Props {
  counts: Counts | null;
  subscribe: (handler: (e: ClientEvent) => void) => () => void;
  focusRequest: FocusRequest | null;
  onError: (message: string) => void;
  /** Shows a conversation in the chat view (a chat message found by search). */
  onOpenConversation: (id: number) => void;
}

/** The message center: tabs, read filter, search, the list and the opened notification. */
export function Inbox({ counts, subscribe, focusRequest, onError, onOpenConversation }: Props) {
  const backend = useBackend();
  const [tab, setTab] = useState<Tab>("all");
  const [status, setStatus] = useState<StatusFilter>("all");
  const [query, setQuery] = useState("");
  const [focused, setFocused] = useState<number | null>(null);
  const [opened, setOpened] = useState<number | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const kind = tabKind(tab);
  const list = useNotificationList(tab === "chats" ? null : kind, status, subscribe, onError);
  const selection = useSelection();
  const { clear: clearSelection } = selection;
  const found = useSearch(query, list.items, onError);
  // While searching, the hits (in the current tab and read filter) replace the list.
  const results = query.trim() !== "" ? found : null;

  useEffect(() => clearSelection(), [tab, status, clearSelection]);

  useEffect(() => {
    const id = focusRequest?.notification ?? null;
    if (id !== null) {
      setTab("all");
      setStatus("all");
      setFocused(id);
      setOpened(id);
    }
  }, [focusRequest]);

  const visible = useMemo(
    () => (results === null ? list.items : visibleHits(results, kind, status)),
    [list.items, results, kind, status],
  );
  const snippets = useMemo(() => new Map((results?.notifications ?? []).map((h) => [h.notification.id, h.snippet])), [results]);
  const current = visible.find((n) => n.id === opened) ?? null;
  const { markRead } = list;

  const open = useCallback(
    (n: Notification) => {
      setFocused(n.id);
      setOpened(n.id);
      if (!n.read) void markRead([n.id], true);
    },
    [markRead],
  );

  const remove = (ids: number[]) => {
    if (ids.length === 0) return;
    setFocused((f) => focusAfterRemoval(visible, f, ids));
    setOpened((o) => (o !== null && ids.includes(o) ? null : o));
    clearSelection();
    void list.remove(ids);
  };

  useInboxKeys({
    searchRef,
    visible,
    focused,
    setFocused,
    selected: selection.selected,
    query,
    clearQuery: () => setQuery(""),
    clearSelection,
    toggleSelected: (id) => selection.pick(visible, id, false),
    open,
    openLink: (url) => void backend.openLink(url),
    markRead: (ids, read) => void markRead(ids, read),
    remove,
    markAllRead: () => void list.markAllRead(),
  });

  useEffect(() => {
    if (focused === null) return;
    listRef.current?.querySelector(`[data-id="${focused}"]`)?.scrollIntoView({ block: "nearest" });
  }, [focused]);

  const selected = [...selection.selected];
  return (
    <div class="inbox">
      <Toolbar tab={tab} counts={counts} onTab={setTab} query={query} onQuery={setQuery} searchRef={searchRef} />
      <SubBar
        selected={selected.length}
        onMarkSelectedRead={() => void markRead(selected, true)}
        onDeleteSelected={() => remove(selected)}
        onClearSelection={clearSelection}
        note={tab !== "chats" ? null : results !== null ? resultCount(results.messages.length) : "Messages in your conversations"}
        status={status}
        onStatus={setStatus}
        canMarkAllRead={tab !== "chats" && tabCount(counts, tab) > 0}
        onMarkAllRead={() => void list.markAllRead()}
      />
      <div class="split">
        <section class="list-pane">
          {tab === "chats" ? (
            <ChatHitsPane query={query} results={results} onOpenConversation={onOpenConversation} />
          ) : (
            <NotificationsPane
              visible={visible}
              loading={list.loading}
              status={status}
              query={query}
              results={results}
              snippets={snippets}
              focused={focused}
              opened={opened}
              selected={selection.selected}
              hasMore={list.hasMore}
              listRef={listRef}
              onOpen={open}
              onSelect={(id, shift) => selection.pick(visible, id, shift)}
              onToggleRead={(n) => void markRead([n.id], !n.read)}
              onDelete={(n) => remove([n.id])}
              onShowChatHits={() => setTab("chats")}
              onLoadMore={() => void list.loadMore()}
            />
          )}
        </section>
        <section class="detail-pane">
          {current ? (
            <Detail n={current} onToggleRead={() => void markRead([current.id], !current.read)} onDelete={() => remove([current.id])} />
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
