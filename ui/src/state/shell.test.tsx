import { describe, expect, it } from "vitest";

import { FakeBackend } from "../test/fakeBackend";
import { renderHook, run } from "../test/render";
import type { ClientEvent, FocusRequest } from "../ipc";
import { useNavigation } from "./navigation";
import { useShell } from "./shell";

describe("useShell", () => {
  it("asks who is signed in, the counts and Do not disturb at start", async () => {
    const backend = new FakeBackend();
    backend.countsNow = { unread_total: 3, personal: 2, broadcast: 1, chats: 0 };
    backend.settingsView.popups.dnd = true;
    const { result } = await renderHook(backend, useShell);
    expect(result.current.info?.username).toBe("alice");
    expect(result.current.counts?.unread_total).toBe(3);
    expect(result.current.dnd).toBe(true);
  });

  it("follows counts, asks again on a connection change and passes every event on", async () => {
    const backend = new FakeBackend();
    const { result } = await renderHook(backend, useShell);
    const seen: ClientEvent["type"][] = [];
    result.current.events.subscribe((e) => seen.push(e.type));

    await run(() => backend.emit({ type: "counts_changed", counts: { unread_total: 9, personal: 9, broadcast: 0, chats: 0 } }));
    expect(result.current.counts?.unread_total).toBe(9);

    backend.session = { ...backend.session, online: false, offline_reason: "connection refused" };
    await run(() => backend.emit({ type: "connection_changed", state: { state: "offline", reason: "connection refused", retry_in_ms: 1000 } }));
    expect(result.current.info?.offline_reason).toBe("connection refused");
    expect(seen).toEqual(["counts_changed", "connection_changed"]);
  });

  it("turns Do not disturb on when the tray does", async () => {
    const backend = new FakeBackend();
    const { result } = await renderHook(backend, useShell);
    await run(() => backend.settingsChanged({ ...backend.settingsView.popups, dnd: true }));
    expect(result.current.dnd).toBe(true);
  });

  it("stops listening to the shell when the window goes", async () => {
    const backend = new FakeBackend();
    const { result, unmount } = await renderHook(backend, useShell);
    await unmount();
    const seen: string[] = [];
    result.current.events.subscribe((e) => seen.push(e.type));
    backend.emit({ type: "chat_reloaded" });
    expect(seen).toEqual([]);
  });
});

describe("useNavigation", () => {
  async function navigation() {
    const backend = new FakeBackend();
    const { result } = await renderHook(backend, () => {
      const shell = useShell();
      return useNavigation(shell.focus);
    });
    return { backend, result };
  }

  it("a popup click on a chat message opens its conversation", async () => {
    const { backend, result } = await navigation();
    await run(() => backend.focus({ notification: null, conversation: 12 }));
    expect(result.current.view).toBe("chats");
    expect(result.current.chatFocus).toBe(12);
  });

  it("a popup click on a notification shows the inbox at it", async () => {
    const { backend, result } = await navigation();
    result.current.show("settings");
    const request: FocusRequest = { notification: 4, conversation: null };
    await run(() => backend.focus(request));
    expect(result.current.view).toBe("inbox");
    expect(result.current.inboxFocus).toEqual(request);
  });
});
