// The message center's list: one page of notifications for a tab and read
// filter, kept current from the shell's events, changed optimistically and
// re-queried when the shell says no.
import { useCallback, useEffect, useState } from "preact/hooks";

import type { KindFilter, Notification, StatusFilter } from "../bindings/protocol";
import type { ClientEvent } from "../ipc";
import { useBackend } from "../ipc";
import { applyEvent, setRead } from "../lib/inbox";

/** Notifications asked for per page. */
export const PAGE = 100;

export interface NotificationList {
  items: Notification[];
  /** A full page came back: there may be older ones. */
  hasMore: boolean;
  /** The first page is on its way. */
  loading: boolean;
  loadMore(): Promise<void>;
  markRead(ids: number[], read: boolean): Promise<void>;
  markAllRead(): Promise<void>;
  remove(ids: number[]): Promise<void>;
}

/** `kind` is null for a view without notifications (the Chats tab). */
export function useNotificationList(
  kind: KindFilter | null,
  status: StatusFilter,
  subscribe: (handler: (e: ClientEvent) => void) => () => void,
  onError: (message: string) => void,
): NotificationList {
  const backend = useBackend();
  const [items, setItems] = useState<Notification[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const fail = useCallback((e: unknown) => onError(String(e instanceof Error ? e.message : e)), [onError]);

  const load = useCallback(async () => {
    if (kind === null) {
      setItems([]);
      setLoading(false);
      return;
    }
    try {
      const page = await backend.listNotifications(status, kind, null, PAGE);
      setItems(page);
      setHasMore(page.length === PAGE);
    } catch (e) {
      fail(e);
    } finally {
      setLoading(false);
    }
  }, [backend, kind, status, fail]);

  useEffect(() => {
    setLoading(true);
    void load();
  }, [load]);

  // Live updates: apply what can be applied, re-query when too much changed.
  useEffect(
    () =>
      subscribe((e) => {
        let reload = false;
        setItems((cur) => {
          const change = applyEvent(cur, e, kind ?? "all", status);
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

  const markRead = useCallback(
    async (ids: number[], read: boolean) => {
      if (ids.length === 0) return;
      setItems((cur) => setRead(cur, ids, read));
      try {
        await (read ? backend.markRead(ids) : backend.markUnread(ids));
      } catch (e) {
        fail(e);
        void load();
      }
    },
    [backend, load, fail],
  );

  const remove = useCallback(
    async (ids: number[]) => {
      if (ids.length === 0) return;
      setItems((cur) => cur.filter((n) => !ids.includes(n.id)));
      try {
        await backend.deleteNotifications(ids);
      } catch (e) {
        fail(e);
        void load();
      }
    },
    [backend, load, fail],
  );

  const markAllRead = useCallback(async () => {
    const all = kind ?? "all";
    setItems((cur) => cur.map((n) => (all === "all" || n.kind === all ? { ...n, read: true } : n)));
    try {
      await backend.markAllRead(all);
    } catch (e) {
      fail(e);
      void load();
    }
  }, [backend, kind, load, fail]);

  const loadMore = useCallback(async () => {
    const last = items[items.length - 1];
    if (!last || kind === null) return;
    try {
      const page = await backend.listNotifications(status, kind, last.id, PAGE);
      setItems((cur) => [...cur, ...page.filter((n) => !cur.some((c) => c.id === n.id))]);
      setHasMore(page.length === PAGE);
    } catch (e) {
      fail(e);
    }
  }, [backend, items, status, kind, fail]);

  return { items, hasMore, loading, loadMore, markRead, markAllRead, remove };
}
