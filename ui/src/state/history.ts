// One conversation's messages: the newest page, older pages as the person
// scrolls back, live changes from the shell, and the read mark while it is on
// screen.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

import type { ChatMessage, ClientEvent, ConversationSummary } from "../ipc";
import { useBackend } from "../ipc";
import { belongsTo, mergeHistory, oldestId, removeMessage } from "../lib/chat";

/** Messages asked for per page. */
export const HISTORY_PAGE = 40;

export interface History {
  /** Oldest first. */
  messages: ChatMessage[];
  /** The server may have older ones. */
  hasMore: boolean;
  /**
   * Loads the page before the oldest message shown, unless one is on its way
   * or there is none. `beforeShow` runs just before it is shown (to keep the
   * scroll position).
   */
  loadOlder(beforeShow: () => void): void;
  /** Sends a message the server refused again (the shell replaces it with a pending one). */
  retry(message: ChatMessage): void;
  /** Drops a message the server refused. */
  discard(message: ChatMessage): void;
}

export function useHistory(
  conv: ConversationSummary,
  subscribe: (handler: (e: ClientEvent) => void) => () => void,
  onError: (message: string) => void,
): History {
  const backend = useBackend();
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [hasMore, setHasMore] = useState(true);
  const loadingOlder = useRef(false);

  useEffect(() => {
    backend.history(conv.id, null, HISTORY_PAGE).then(
      (page) => {
        setMessages(mergeHistory([], page));
        setHasMore(page.length >= HISTORY_PAGE);
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
    // conv changes identity on every update; the caller keys this per conversation.
  }, [backend, conv.id, subscribe, onError]);

  // Read when opened and visible, and again as messages arrive.
  useEffect(() => {
    const markIfVisible = () => {
      if (conv.unread_count > 0 && document.visibilityState === "visible") {
        backend.markConversationRead(conv.id).catch((e: Error) => onError(e.message));
      }
    };
    markIfVisible();
    document.addEventListener("visibilitychange", markIfVisible);
    return () => document.removeEventListener("visibilitychange", markIfVisible);
  }, [backend, conv.id, conv.unread_count, onError]);

  const loadOlder = useCallback(
    (beforeShow: () => void) => {
      const before = oldestId(messages);
      if (!hasMore || loadingOlder.current || before === null) return;
      loadingOlder.current = true;
      backend.history(conv.id, before, HISTORY_PAGE).then(
        (page) => {
          beforeShow();
          setMessages((l) => mergeHistory(l, page));
          setHasMore(page.length >= HISTORY_PAGE);
          loadingOlder.current = false;
        },
        (e: Error) => {
          loadingOlder.current = false;
          onError(e.message);
        },
      );
    },
    [backend, conv.id, messages, hasMore, onError],
  );

  const retry = useCallback(
    (m: ChatMessage) => void backend.retryMessage(m.local_id).catch((e: Error) => onError(e.message)),
    [backend, onError],
  );
  const discard = useCallback(
    (m: ChatMessage) => void backend.discardMessage(m.local_id).catch((e: Error) => onError(e.message)),
    [backend, onError],
  );

  return { messages, hasMore, loadOlder, retry, discard };
}
