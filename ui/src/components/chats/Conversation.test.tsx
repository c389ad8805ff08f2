import { render } from "preact";
import { act } from "preact/test-utils";
import { describe, expect, it } from "vitest";

import { BackendProvider, type ClientEvent } from "../../ipc";
import { conv, msg } from "../../lib/fixtures";
import { createBus } from "../../state/bus";
import { FakeBackend } from "../../test/fakeBackend";
import { settle } from "../../test/render";
import { Conversation } from "./Conversation";

async function show(backend: FakeBackend) {
  const root = document.createElement("div");
  const events = createBus<ClientEvent>();
  const onError = () => undefined;
  await act(() => {
    render(
      <BackendProvider value={backend}>
        <Conversation conv={conv(7, "2026-11-25T10:00:00Z")} me="alice" onError={onError} subscribe={events.subscribe} />
      </BackendProvider>,
      root,
    );
  });
  await settle();
  return root;
}

describe("Conversation", () => {
  it("offers Retry and Discard on a message the server refused, and only there", async () => {
    const backend = new FakeBackend();
    backend.histories.set(7, [{ ...msg(2, null, "alice", "lunch?"), state: "failed" }, msg(1, 1, "alice", "hi")]);
    const root = await show(backend);
    const bubbles = [...root.querySelectorAll(".bubble")];
    expect(bubbles.map((b) => b.querySelector(".bubble-text")?.textContent)).toEqual(["hi", "lunch?"]);
    expect(bubbles[0]?.querySelector("[data-action]")).toBeNull();
    const failed = bubbles[1]!;
    expect(failed.classList.contains("failed")).toBe(true);
    expect(failed.querySelector(".bubble-meta")?.textContent).toContain("not sent");

    await act(() => (failed.querySelector('[data-action="retry"]') as HTMLButtonElement).click());
    await act(() => (failed.querySelector('[data-action="discard"]') as HTMLButtonElement).click());
    await settle();
    expect(backend.callsOf("retryMessage")).toEqual([[2]]);
    expect(backend.callsOf("discardMessage")).toEqual([[2]]);
  });
});
