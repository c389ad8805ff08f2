import { describe, expect, it } from "vitest";

import { notification as n } from "./fixtures";
import {
  applyEvent,
  focusAfterRemoval,
  moveFocus,
  selectRange,
  setRead,
  tabCount,
  tabKind,
  toggleSelected,
} from "./inbox";

describe("tabs", () => {
  const counts = { unread_total: 9, personal: 2, broadcast: 3, chats: 4 };
  it("map to kinds and counts", () => {
    expect(tabKind("personal")).toBe("personal");
    expect(tabKind("chats")).toBe("all");
    expect(tabCount(counts, "all")).toBe(5);
    expect(tabCount(counts, "chats")).toBe(4);
    expect(tabCount(null, "all")).toBe(0);
  });
});

describe("applyEvent", () => {
  const items = [n(3), n(2, { kind: "broadcast" }), n(1, { read: true })];
  const ids = (c: ReturnType<typeof applyEvent>) => (c === "reload" ? "reload" : c.items.map((i) => i.id));

  it("inserts a new notification in id order when it fits the view", () => {
    const out = applyEvent(items, { type: "notification_added", notification: n(4), live: true }, "all", "all");
    expect(ids(out)).toEqual([4, 3, 2, 1]);
  });
  it("ignores a new notification of another kind, a read one under Unread, and duplicates", () => {
    const broadcast = n(5, { kind: "broadcast" });
    expect(ids(applyEvent(items, { type: "notification_added", notification: broadcast, live: true }, "personal", "all"))).toEqual([3, 2, 1]);
    expect(ids(applyEvent(items, { type: "notification_added", notification: n(6, { read: true }), live: false }, "all", "unread"))).toEqual([3, 2, 1]);
    expect(ids(applyEvent(items, { type: "notification_added", notification: n(3), live: true }, "all", "all"))).toEqual([3, 2, 1]);
  });
  it("replaces a changed notification in place", () => {
    const out = applyEvent(items, { type: "notification_changed", notification: n(3, { read: true }) }, "all", "unread");
    expect(out !== "reload" && out.items[0]?.read).toBe(true);
    expect(ids(out)).toEqual([3, 2, 1]);
  });
  it("removes deleted ones", () => {
    expect(ids(applyEvent(items, { type: "notification_removed", id: 2 }, "all", "all"))).toEqual([3, 1]);
  });
  it("asks for a reload when too much changed", () => {
    expect(applyEvent(items, { type: "notifications_reloaded" }, "all", "all")).toBe("reload");
    expect(applyEvent(items, { type: "lagged", missed: 3 }, "all", "all")).toBe("reload");
  });
  it("ignores what is not about the list", () => {
    const counts = { unread_total: 1, personal: 1, broadcast: 0, chats: 0 };
    expect(ids(applyEvent(items, { type: "counts_changed", counts }, "all", "all"))).toEqual([3, 2, 1]);
  });
  it("sets read locally", () => {
    expect(setRead(items, [3, 2], true).every((i) => i.read)).toBe(true);
  });
});

describe("keyboard focus and selection", () => {
  const items = [n(5), n(4), n(3), n(2)];
  it("moves and clamps", () => {
    expect(moveFocus(items, null, 1)).toBe(5);
    expect(moveFocus(items, null, -1)).toBe(2);
    expect(moveFocus(items, 5, 1)).toBe(4);
    expect(moveFocus(items, 2, 1)).toBe(2);
    expect(moveFocus(items, 5, -1)).toBe(5);
    expect(moveFocus([], 5, 1)).toBe(null);
  });
  it("refocuses the next row after a delete, else the previous", () => {
    expect(focusAfterRemoval(items, 4, [4])).toBe(3);
    expect(focusAfterRemoval(items, 2, [2])).toBe(3);
    expect(focusAfterRemoval(items, 4, [4, 3, 2])).toBe(5);
    expect(focusAfterRemoval(items, 5, [4])).toBe(5);
  });
  it("toggles and range-selects", () => {
    const one = toggleSelected(new Set(), 4);
    expect([...one]).toEqual([4]);
    expect([...toggleSelected(one, 4)]).toEqual([]);
    expect([...selectRange(items, new Set(), 5, 3)].sort()).toEqual([3, 4, 5]);
    expect([...selectRange(items, new Set([2]), null, 3)].sort()).toEqual([2, 3]);
  });
});
