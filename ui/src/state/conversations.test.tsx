import { describe, expect, it } from "vitest";

import type { ClientEvent } from "../ipc";
import { conv } from "../lib/fixtures";
import { FakeBackend } from "../test/fakeBackend";
import { renderHook, run } from "../test/render";
import { createBus } from "./bus";
import { useConversations } from "./conversations";

const noError = () => undefined;

async function conversations(backend: FakeBackend, focus: number | null = null) {
  const events = createBus<ClientEvent>();
  const rendered = await renderHook(backend, () => useConversations(events.subscribe, noError, focus));
  return { ...rendered, events };
}

const bob = {
  id: 2,
  username: "bob",
  display_name: "Bob Builder",
  role: "user" as const,
  disabled: false,
  created_at: "2026-11-25T10:00:00Z",
};

describe("useConversations", () => {
  it("lists conversations most recent first with the contacts' presence", async () => {
    const backend = new FakeBackend();
    backend.conversationList = [conv(1, "2026-11-25T09:00:00Z"), conv(2, "2026-11-25T10:00:00Z")];
    backend.contactList = [{ ...bob, added_at: "2026-11-25T10:00:00Z", online: false }];
    const { result, events } = await conversations(backend);
    expect(result.current.loaded).toBe(true);
    expect(result.current.list.map((c) => c.id)).toEqual([2, 1]);
    expect(result.current.online).toEqual({ bob: false });
    await run(() => events.publish({ type: "presence", user: "bob", online: true }));
    expect(result.current.online).toEqual({ bob: true });
  });

  it("a first message to a contact becomes their conversation once the server made it", async () => {
    const backend = new FakeBackend();
    const { result, events } = await conversations(backend);
    await run(() => result.current.addContact("bob", false));
    expect(backend.callsOf("addContact")).toEqual([["bob"]]);
    expect(result.current.contacts.map((c) => c.username)).toEqual(["bob"]);
    expect(result.current.open).toEqual({ draftTo: "bob" });

    const created = conv(9, "2026-11-25T11:00:00Z", { peer: bob, title: "bob" });
    await run(() => events.publish({ type: "conversation_changed", conversation: created }));
    expect(result.current.open).toEqual({ conversation: 9 });
    // Starting again with bob opens that conversation.
    await run(() => result.current.startWith("bob"));
    expect(result.current.open).toEqual({ conversation: 9 });
  });

  it("opens the conversation asked for, and closes one that is gone", async () => {
    const backend = new FakeBackend();
    backend.conversationList = [conv(4, "2026-11-25T09:00:00Z")];
    const { result, events } = await conversations(backend, 4);
    expect(result.current.open).toEqual({ conversation: 4 });
    await run(() => events.publish({ type: "conversation_removed", id: 4 }));
    expect(result.current.open).toBeNull();
    expect(result.current.list).toEqual([]);
  });
});
