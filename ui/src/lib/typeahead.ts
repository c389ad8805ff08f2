// The contact type-ahead's keyboard and selection state: pure functions over
// plain data, so the component only wires them to keys and clicks.

/** The suggestions on screen and which one is highlighted (-1: none). */
export interface Suggestions<T> {
  items: T[];
  active: number;
  open: boolean;
}

export const CLOSED: Suggestions<never> = { items: [], active: -1, open: false };

/** New results: the list opens with the first one highlighted, so Enter takes it. */
export function showResults<T>(items: T[]): Suggestions<T> {
  return { items, active: items.length ? 0 : -1, open: true };
}

/** What a key press in the type-ahead's input means. */
export type KeyOutcome<T> =
  | { kind: "move"; next: Suggestions<T> }
  | { kind: "pick"; item: T }
  | { kind: "submit" }
  | { kind: "close"; next: Suggestions<T> }
  | { kind: "clear" }
  | { kind: "none" };

/**
 * Arrow keys move the highlight (wrapping, and reopening a closed list), Enter
 * picks the highlighted suggestion or else submits what was typed, Escape
 * closes the list and, when it is already closed, clears the input.
 */
export function onKey<T>(s: Suggestions<T>, key: string): KeyOutcome<T> {
  const n = s.items.length;
  switch (key) {
    case "ArrowDown":
    case "ArrowUp": {
      if (n === 0) return { kind: "none" };
      if (!s.open) return { kind: "move", next: { ...s, open: true, active: s.active < 0 ? 0 : s.active } };
      const step = key === "ArrowDown" ? 1 : -1;
      const from = s.active < 0 ? (step > 0 ? -1 : 0) : s.active;
      return { kind: "move", next: { ...s, active: (from + step + n) % n } };
    }
    case "Enter": {
      const item = s.open ? s.items[s.active] : undefined;
      return item === undefined ? { kind: "submit" } : { kind: "pick", item };
    }
    case "Escape":
      return s.open ? { kind: "close", next: { ...s, open: false } } : { kind: "clear" };
    default:
      return { kind: "none" };
  }
}
