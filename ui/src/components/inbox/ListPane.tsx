import type { Ref } from "preact";

import type { Notification, StatusFilter } from "../../bindings/protocol";
import type { SnippetPart } from "../../ipc";
import { noResultsTitle, resultCount, type SearchResults } from "../../lib/search";
import { Empty } from "../common/Empty";
import { ChatIcon, CheckAllIcon, InboxIcon, SearchIcon } from "../common/icons";
import { MessageHits } from "./MessageHits";
import { Row } from "./Row";

/** The Chats tab of the message center: chat messages the search found. */
export function ChatHitsPane(props: {
  query: string;
  /** null while nothing is searched. */
  results: SearchResults | null;
  onOpenConversation: (id: number) => void;
}) {
  const { query, results } = props;
  if (results !== null && results.messages.length > 0) {
    return <MessageHits hits={results.messages} onOpen={props.onOpenConversation} />;
  }
  if (results !== null) {
    return (
      <Empty icon={<SearchIcon size={28} />} title={noResultsTitle(query)}>
        No cached chat message matches. Search covers what this computer has synced.
      </Empty>
    );
  }
  return (
    <Empty icon={<ChatIcon size={28} />} title="Search your conversations">
      Type in the search box to find chat messages, or open <strong>Chats</strong> in the sidebar to read and reply.
    </Empty>
  );
}

/** The notifications on screen: rows, or a skeleton while loading, or why there are none. */
export function NotificationsPane(props: {
  visible: Notification[];
  loading: boolean;
  status: StatusFilter;
  query: string;
  /** null while nothing is searched. */
  results: SearchResults | null;
  snippets: Map<number, SnippetPart[]>;
  focused: number | null;
  opened: number | null;
  selected: ReadonlySet<number>;
  hasMore: boolean;
  listRef: Ref<HTMLUListElement>;
  onOpen: (n: Notification) => void;
  onSelect: (id: number, shift: boolean) => void;
  onToggleRead: (n: Notification) => void;
  onDelete: (n: Notification) => void;
  onShowChatHits: () => void;
  onLoadMore: () => void;
}) {
  const { visible, results, query } = props;
  const chatHits = results?.messages.length ?? 0;
  if (props.loading && visible.length === 0) return <Skeleton />;
  if (visible.length === 0) {
    if (results !== null) {
      return (
        <Empty icon={<SearchIcon size={28} />} title={noResultsTitle(query)}>
          {chatHits > 0 ? (
            <>
              No notification here matches, but{" "}
              <button class="link-btn" onClick={props.onShowChatHits}>
                {resultCount(chatHits)} in chats
              </button>{" "}
              do.
            </>
          ) : (
            "Nothing in this view matches. Try fewer words, or another tab."
          )}
        </Empty>
      );
    }
    return props.status === "unread" ? (
      <Empty icon={<CheckAllIcon size={28} />} title="You're all caught up">
        No unread notifications. New ones show up here and in the tray.
      </Empty>
    ) : (
      <Empty icon={<InboxIcon size={28} />} title="No notifications yet">
        When a test run finishes or someone assigns you a task, it lands here.
      </Empty>
    );
  }
  return (
    <ul class="list" role="listbox" aria-label="Notifications" ref={props.listRef} aria-multiselectable="true">
      {visible.map((n) => (
        <Row
          key={n.id}
          n={n}
          snippet={props.snippets.get(n.id)}
          focused={n.id === props.focused}
          opened={n.id === props.opened}
          selected={props.selected.has(n.id)}
          onOpen={() => props.onOpen(n)}
          onSelect={(shift) => props.onSelect(n.id, shift)}
          onToggleRead={() => props.onToggleRead(n)}
          onDelete={() => props.onDelete(n)}
        />
      ))}
      {results !== null && chatHits > 0 && (
        <li class="more">
          <button class="btn ghost" onClick={props.onShowChatHits} id="show-message-hits">
            <ChatIcon size={16} /> {resultCount(chatHits)} in chats
          </button>
        </li>
      )}
      {props.hasMore && results === null && (
        <li class="more">
          <button class="btn ghost" onClick={props.onLoadMore}>
            Load older
          </button>
        </li>
      )}
    </ul>
  );
}

function Skeleton() {
  return (
    <ul class="list skeleton" aria-busy="true">
      {[0, 1, 2, 3, 4].map((i) => (
        <li key={i} class="row">
          <div class="bar w60" />
          <div class="bar w90" />
        </li>
      ))}
    </ul>
  );
}
