import { describe, expect, it } from "vitest";

import type { KindFilter, StatusFilter } from "../bindings/protocol";
import type { ClientEvent } from "../ipc";
import { notification } from "../lib/fixtures";
import { createBus } from "./bus";
import { FakeBackend } from "../test/fakeBackend";
import { renderHook, run } from "../test/render";
import { PAGE, useNotificationList } from "./notifications";

async function list(backend: FakeBackend, kind: KindFilter | null = "all", status: StatusFilter = "all") {
  const events = createBus<ClientEvent>();
  const errors: string[] = [];
  // Stable, like the window's toast: a new callback per render would re-query each time.
  const onError = (m: string) => void errors.push(m);
  const rendered = await renderHook(backend, () => useNotificationList(kind, status, events.subscribe, onError));
  return { ...rendered, events, errors };
}

const ids = (items: { id: number }[]) => items.map((n) => n.id);

describe("useNotificationList", () => {
  it("shows the first page of the tab and read filter, newest first", async () => {
    const backend = new FakeBackend();
    backend.notifications = [notification(3), notification(2, { kind: "broadcast" }), notification(1, { read: true })];
    const { result } = await list(backend, "personal", "unread");
    expect(ids(result.current.items)).toEqual([3]);
    expect(result.current.loading).toBe(false);
    expect(result.current.hasMore).toBe(false);
    expect(backend.callsOf("listNotifications")).toEqual([["unread", "personal", null, PAGE]]);
  });

  it("a view without notifications (the Chats tab) asks for none", async () => {
    const backend = new FakeBackend();
    backend.notifications = [notification(1)];
    const { result } = await list(backend, null);
    expect(result.current.items).toEqual([]);
    expect(backend.callsOf("listNotifications")).toEqual([]);
  });

  it("pages back from the last id shown", async () => {
    const backend = new FakeBackend();
    backend.notifications = Array.from({ length: PAGE + 5 }, (_, i) => notification(PAGE + 5 - i));
    const { result } = await list(backend);
    expect(result.current.hasMore).toBe(true);
    await run(() => result.current.loadMore());
    expect(result.current.items).toHaveLength(PAGE + 5);
    expect(result.current.hasMore).toBe(false);
    expect(backend.callsOf("listNotifications")[1]).toEqual(["all", "all", 6, PAGE]);
  });

  it("adds what arrives and re-queries when the shell says too much changed", async () => {
    const backend = new FakeBackend();
    backend.notifications = [notification(1)];
    const { result, events } = await list(backend);
    await run(() => events.publish({ type: "notification_added", notification: notification(2), live: true }));
    expect(ids(result.current.items)).toEqual([2, 1]);

    backend.notifications = [notification(5), notification(4)];
    await run(() => events.publish({ type: "notifications_reloaded" }));
    expect(ids(result.current.items)).toEqual([5, 4]);
  });

  it("marks read at once and puts the list back when the shell refuses", async () => {
    const backend = new FakeBackend();
    backend.notifications = [notification(2), notification(1)];
    const { result, errors } = await list(backend);
    await run(() => result.current.markRead([2], true));
    expect(result.current.items.find((n) => n.id === 2)?.read).toBe(true);
    expect(backend.callsOf("markRead")).toEqual([[[2]]]);

    backend.failNext.set("markUnread", "the cache is locked");
    await run(() => result.current.markRead([2], false));
    expect(errors).toEqual(["the cache is locked"]);
    // Re-queried: the fake still has it unread, as the shell would.
    expect(result.current.items.find((n) => n.id === 2)?.read).toBe(false);
  });

  it("removes at once and marks everything of the tab read", async () => {
    const backend = new FakeBackend();
    backend.notifications = [notification(3, { kind: "broadcast" }), notification(2), notification(1)];
    const { result } = await list(backend, "personal");
    await run(() => result.current.remove([1]));
    expect(ids(result.current.items)).toEqual([2]);
    expect(backend.callsOf("deleteNotifications")).toEqual([[[1]]]);
    await run(() => result.current.markAllRead());
    expect(result.current.items.every((n) => n.read)).toBe(true);
    expect(backend.callsOf("markAllRead")).toEqual([["personal"]]);
  });
});
