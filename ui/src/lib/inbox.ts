// The message center's state transitions: pure functions over plain data, so the
// component only wires them to events and clicks.
import type { Counts, KindFilter, Notification, StatusFilter } from "../bindings/protocol";
import type { ClientEvent } from "../bindings/ipc";

export type Tab = "all" | "personal" | "broadcast" | "chats";
export const TABS: readonly Tab[] = ["all", "personal", "broadcast", "chats"];

export const TAB_LABELS: Record<Tab, string> = {
  all: "All",
  personal: "Personal",
  broadcast: "Broadcast",
  chats: "Chats",
};

/** The server-side kind filter behind a notification tab. */
export function tabKind(tab: Tab): KindFilter {
  return tab === "personal" || tab === "broadcast" ? tab : "all";
}

/** Unread count shown on a tab. */
export function tabCount(counts: Counts | null, tab: Tab): number {
  if (!counts) return 0;
  switch (tab) {
    case "all":
      return counts.personal + counts.broadcast;
    case "personal":
      return counts.personal;
    case "broadcast":
      return counts.broadcast;
    case "chats":
      return counts.chats;
  }
}

/** Whether `n` belongs in a list showing `kind` and `status`. */
export function matchesView(n: Notification, kind: KindFilter, status: StatusFilter): boolean {
  if (kind !== "all" && n.kind !== kind) return false;
  if (status === "unread" && n.read) return false;
  if (status === "read" && !n.read) return false;
  return true;
}

/** What a client event does to the list on screen. */
export type ListChange = { items: Notification[] } | "reload";

/**
 * Applies a client event to the list on screen. Items that stop matching the
 * view (read while showing "Unread") stay until the next reload, so the row a
 * person just opened does not jump away under the cursor.
 */
export function applyEvent(
  items: Notification[],
  event: ClientEvent,
  kind: KindFilter,
  status: StatusFilter,
): ListChange {
  switch (event.type) {
    case "notification_added": {
      const n = event.notification;
      if (items.some((i) => i.id === n.id) || !matchesView(n, kind, status)) return { items };
      return { items: [n, ...items].sort((a, b) => b.id - a.id) };
    }
    case "notification_changed": {
      const n = event.notification;
      return { items: items.map((i) => (i.id === n.id ? n : i)) };
    }
    case "notification_removed":
      return { items: items.filter((i) => i.id !== event.id) };
    case "notifications_reloaded":
    case "lagged":
    case "caught_up":
    case "action_refused":
      return "reload";
    default:
      return { items };
  }
}

/** Marks `ids` read (or unread) locally, before the server confirms. */
export function setRead(items: Notification[], ids: number[], read: boolean): Notification[] {
  const set = new Set(ids);
  return items.map((i) => (set.has(i.id) ? { ...i, read } : i));
}

/** The id `delta` rows away from `current` (clamped), or the first row. */
export function moveFocus(items: Notification[], current: number | null, delta: number): number | null {
  if (items.length === 0) return null;
  const at = current === null ? -1 : items.findIndex((i) => i.id === current);
  if (at === -1) return items[delta < 0 ? items.length - 1 : 0]?.id ?? null;
  const next = Math.min(items.length - 1, Math.max(0, at + delta));
  return items[next]?.id ?? null;
}

/** After deleting `removed`, the row to focus: the next one, else the previous. */
export function focusAfterRemoval(items: Notification[], focused: number | null, removed: number[]): number | null {
  if (focused === null || !removed.includes(focused)) return focused;
  const gone = new Set(removed);
  const at = items.findIndex((i) => i.id === focused);
  const after = items.slice(at + 1).find((i) => !gone.has(i.id));
  const before = items.slice(0, Math.max(0, at)).reverse().find((i) => !gone.has(i.id));
  return (after ?? before)?.id ?? null;
}

/** Toggles `id` in a multi-selection. */
export function toggleSelected(selected: ReadonlySet<number>, id: number): Set<number> {
  const next = new Set(selected);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

/** Shift-click: everything between the anchor and `id`, added to the selection. */
export function selectRange(
  items: Notification[],
  selected: ReadonlySet<number>,
  anchor: number | null,
  id: number,
): Set<number> {
  const next = new Set(selected);
  const a = anchor === null ? -1 : items.findIndex((i) => i.id === anchor);
  const b = items.findIndex((i) => i.id === id);
  if (a === -1 || b === -1) {
    next.add(id);
    return next;
  }
  for (const i of items.slice(Math.min(a, b), Math.max(a, b) + 1)) next.add(i.id);
  return next;
}
