// The message center's search: what is on screen while a query is typed, and
// what Escape does. Pure functions; the component wires them to the local
// full-text index (ipc.search / ipc.searchMessages) through createLookup.
import type { KindFilter, Notification, StatusFilter } from "../bindings/protocol";
import type { MessageHit, NotificationHit, SnippetPart } from "../bindings/ipc";
import { matchesView } from "./inbox";

/** Most hits asked of the local index per query. */
export const SEARCH_LIMIT = 200;

/** Both answers of the local index for one query. */
export interface SearchResults {
  query: string;
  notifications: NotificationHit[];
  messages: MessageHit[];
}

/** The notification hits that belong in the current tab and read filter, best first. */
export function visibleHits(results: SearchResults, kind: KindFilter, status: StatusFilter): Notification[] {
  return results.notifications.map((h) => h.notification).filter((n) => matchesView(n, kind, status));
}

/** The empty state's title when a search finds nothing. */
export function noResultsTitle(query: string): string {
  return `No results for “${query.trim()}”`;
}

/** "1 result", "12 results". */
export function resultCount(n: number): string {
  return `${n} ${n === 1 ? "result" : "results"}`;
}

/** What Escape does: the innermost thing first. */
export type EscapeAction = "clear-selection" | "clear-query" | "leave-search" | "none";

export function escapeAction(s: { inSearchBox: boolean; query: string; selected: number }): EscapeAction {
  if (s.inSearchBox) return s.query ? "clear-query" : "leave-search";
  if (s.selected > 0) return "clear-selection";
  return s.query ? "clear-query" : "none";
}

/**
 * Which field a snippet was cut from. The index picks the best-matching column,
 * so a match in the title comes back as (part of) the title: the row then marks
 * the title itself rather than repeating it in the preview line.
 */
export function snippetField(n: Notification, parts: SnippetPart[]): "title" | "content" {
  const text = parts
    .map((p) => p.text)
    .join("")
    .replace(/^…|…$/g, "");
  return text !== "" && n.title.includes(text) && !n.content.includes(text) ? "title" : "content";
}
