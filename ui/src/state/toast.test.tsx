import { afterEach, describe, expect, it, vi } from "vitest";
import { act } from "preact/test-utils";

import { FakeBackend } from "../test/fakeBackend";
import { renderHook } from "../test/render";
import { TOAST_MS, useToast } from "./toast";

describe("useToast", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("shows the latest error until it is dismissed or times out", async () => {
    const { result } = await renderHook(new FakeBackend(), useToast);
    vi.useFakeTimers();
    await act(() => result.current.show("first"));
    await act(() => result.current.show("second"));
    expect(result.current.message).toBe("second");
    await act(() => result.current.dismiss());
    expect(result.current.message).toBeNull();

    await act(() => result.current.show("again"));
    await act(() => {
      vi.advanceTimersByTime(TOAST_MS - 1);
    });
    expect(result.current.message).toBe("again");
    await act(() => {
      vi.advanceTimersByTime(1);
    });
    expect(result.current.message).toBeNull();
  });
});
