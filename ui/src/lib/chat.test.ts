import { describe, expect, it } from "vitest";

import {
  belongsTo,
  lastMessagePreview,
  mergeHistory,
  oldestId,
  readMarker,
  removeMessage,
  shouldSend,
  sortConversations,
  upsertConversation,
} from "./chat";
import { conv, msg } from "./fixtures";

describe("conversations", () => {
  it("sorts most recent first and upserts in place", () => {
    const a = conv(1, "2026-11-25T09:00:00Z");
    const b = conv(2, "2026-11-25T10:00:00Z");
    expect(sortConversations([a, b]).map((c) => c.id)).toEqual([2, 1]);
    const a2 = { ...a, last_time: "2026-11-25T11:00:00Z" };
    expect(upsertConversation([b, a], a2).map((c) => c.id)).toEqual([1, 2]);
  });

  it("previews the last message with the sender", () => {
    expect(lastMessagePreview(conv(1, ""), "me")).toBe("No messages yet");
    const own = conv(1, "", { last_message: msg(1, 1, "me", "see\nyou") });
    expect(lastMessagePreview(own, "me")).toBe("You: see you");
    const room = conv(1, "", { kind: "room", last_message: msg(1, 1, "bob", "hey") });
    expect(lastMessagePreview(room, "me")).toBe("bob: hey");
  });
});

describe("history", () => {
  it("merges pages oldest first, pending last, replacing by local id", () => {
    const merged = mergeHistory([msg(3, 30, "a"), msg(9, null, "me")], [msg(1, 10, "a"), msg(3, 30, "a", "edited")]);
    expect(merged.map((m) => m.local_id)).toEqual([1, 3, 9]);
    expect(merged[1]!.content).toBe("edited");
    expect(oldestId(merged)).toBe(10);
    expect(oldestId([])).toBeNull();
  });

  it("removes by local or server id", () => {
    const list = [msg(1, 10, "a"), msg(2, 20, "a")];
    expect(removeMessage(list, 99, 20).map((m) => m.local_id)).toEqual([1]);
    expect(removeMessage(list, 1, null).map((m) => m.local_id)).toEqual([2]);
  });

  it("matches first messages to a direct conversation by peer", () => {
    const c = conv(7, "", { peer: { username: "bob", display_name: "Bob", role: "user", created_at: "" } as never });
    expect(belongsTo(msg(1, 1, "me"), c)).toBe(true);
    expect(belongsTo({ ...msg(2, null, "me"), conversation_id: null, peer: "bob" }, c)).toBe(true);
    expect(belongsTo({ ...msg(3, null, "me"), conversation_id: null, peer: "eve" }, c)).toBe(false);
  });

  it("marks own last message read only when the peer read up to it", () => {
    const list = [msg(1, 10, "me"), msg(2, 11, "bob"), msg(3, 12, "me")];
    expect(readMarker(list, conv(7, "", { peer_read_up_to: 12 }), "me")).toBe(3);
    expect(readMarker(list, conv(7, "", { peer_read_up_to: 11 }), "me")).toBeNull();
    expect(readMarker(list, conv(7, ""), "me")).toBeNull();
  });
});

describe("composer", () => {
  it("sends on Enter, not on Shift+Enter or while composing", () => {
    expect(shouldSend({ key: "Enter", shiftKey: false })).toBe(true);
    expect(shouldSend({ key: "Enter", shiftKey: true })).toBe(false);
    expect(shouldSend({ key: "Enter", shiftKey: false, isComposing: true })).toBe(false);
    expect(shouldSend({ key: "a", shiftKey: false })).toBe(false);
  });
});
