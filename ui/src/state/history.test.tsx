import { describe, expect, it } from "vitest";

import type { ClientEvent } from "../ipc";
import { conv, msg } from "../lib/fixtures";
import { FakeBackend } from "../test/fakeBackend";
import { renderHook, run } from "../test/render";
import { createBus } from "./bus";
import { HISTORY_PAGE, useHistory } from "./history";

const noError = () => undefined;

describe("useHistory", () => {
  it("shows the newest page oldest first and pages back from the oldest id", async () => {
    const backend = new FakeBackend();
    // Newest first, as the shell answers: ids 50 down to 1.
    backend.histories.set(7, Array.from({ length: 50 }, (_, i) => msg(50 - i, 50 - i, "bob")));
    const events = createBus<ClientEvent>();
    const c = conv(7, "2026-11-25T10:00:00Z");
    const { result } = await renderHook(backend, () => useHistory(c, events.subscribe, noError));
    expect(result.current.messages).toHaveLength(HISTORY_PAGE);
    expect(result.current.messages[0]?.id).toBe(11);
    expect(result.current.hasMore).toBe(true);

    let shownAt = 0;
    await run(() => result.current.loadOlder(() => (shownAt = result.current.messages.length)));
    expect(shownAt).toBe(HISTORY_PAGE);
    expect(result.current.messages.map((m) => m.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(result.current.hasMore).toBe(false);
  });

  it("follows the shell: new and changed messages of this conversation, removed ones", async () => {
    const backend = new FakeBackend();
    backend.histories.set(7, [msg(1, 1, "bob")]);
    const events = createBus<ClientEvent>();
    const c = conv(7, "2026-11-25T10:00:00Z");
    const { result } = await renderHook(backend, () => useHistory(c, events.subscribe, noError));
    await run(() => events.publish({ type: "message_added", message: msg(2, null, "alice"), live: false }));
    await run(() => events.publish({ type: "message_added", message: { ...msg(3, 3, "carol"), conversation_id: 8 }, live: true }));
    expect(result.current.messages.map((m) => m.local_id)).toEqual([1, 2]);
    await run(() => events.publish({ type: "message_changed", message: { ...msg(2, null, "alice"), state: "failed" } }));
    expect(result.current.messages[1]?.state).toBe("failed");
    await run(() => events.publish({ type: "message_removed", local_id: 1, id: 1, conversation_id: 7 }));
    expect(result.current.messages.map((m) => m.local_id)).toEqual([2]);
  });

  it("marks an unread conversation read while it is on screen", async () => {
    const backend = new FakeBackend();
    const events = createBus<ClientEvent>();
    const c = conv(7, "2026-11-25T10:00:00Z", { unread_count: 2 });
    await renderHook(backend, () => useHistory(c, events.subscribe, noError));
    expect(backend.callsOf("markConversationRead")).toEqual([[7]]);
  });
});

describe("a message the server refused", () => {
  it("is sent again or discarded through the shell, and a refusal of that is shown", async () => {
    const backend = new FakeBackend();
    const failed = { ...msg(5, null, "alice", "lunch?"), state: "failed" as const };
    backend.histories.set(7, [failed]);
    const events = createBus<ClientEvent>();
    const errors: string[] = [];
    const onError = (m: string) => void errors.push(m);
    const c = conv(7, "2026-11-25T10:00:00Z");
    const { result } = await renderHook(backend, () => useHistory(c, events.subscribe, onError));

    await run(() => result.current.retry(failed));
    expect(backend.callsOf("retryMessage")).toEqual([[5]]);
    backend.failNext.set("discardMessage", "the cache is locked");
    await run(() => result.current.discard(failed));
    expect(backend.callsOf("discardMessage")).toEqual([[5]]);
    expect(errors).toEqual(["the cache is locked"]);
  });
});
