import { describe, expect, it } from "vitest";
import { act } from "preact/test-utils";

import { notification } from "../lib/fixtures";
import { FakeBackend } from "../test/fakeBackend";
import { renderHook } from "../test/render";
import { useSelection } from "./selection";

describe("useSelection", () => {
  it("a click toggles, a Shift+click adds the range from the last one picked, clear empties", async () => {
    const visible = [5, 4, 3, 2, 1].map((id) => notification(id));
    const { result } = await renderHook(new FakeBackend(), useSelection);
    await act(() => result.current.pick(visible, 4, false));
    await act(() => result.current.pick(visible, 2, true));
    expect([...result.current.selected].sort()).toEqual([2, 3, 4]);
    await act(() => result.current.pick(visible, 3, false));
    expect([...result.current.selected].sort()).toEqual([2, 4]);
    await act(() => result.current.clear());
    expect(result.current.selected.size).toBe(0);
  });
});
