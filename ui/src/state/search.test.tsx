import { afterEach, describe, expect, it, vi } from "vitest";
import { act } from "preact/test-utils";
import { useState } from "preact/hooks";

import { notification } from "../lib/fixtures";
import { FakeBackend } from "../test/fakeBackend";
import { renderHook } from "../test/render";
import { SEARCH_DELAY_MS, useSearch } from "./search";

describe("useSearch", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("asks the local index once typing pauses, and forgets the results when the box is cleared", async () => {
    const backend = new FakeBackend();
    backend.searchHits = [{ notification: notification(7), snippet: [{ text: "Build", matched: true }] }];
    const { result } = await renderHook(backend, () => {
      const [query, setQuery] = useState("");
      return { setQuery, results: useSearch(query, null, () => undefined) };
    });
    vi.useFakeTimers();
    await act(() => result.current.setQuery("bu"));
    await act(() => result.current.setQuery("build"));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS);
    });
    expect(backend.callsOf("search")).toEqual([["build", 200]]);
    expect(result.current.results?.query).toBe("build");
    expect(result.current.results?.notifications.map((h) => h.notification.id)).toEqual([7]);

    await act(() => result.current.setQuery("  "));
    expect(result.current.results).toBeNull();
  });
});
