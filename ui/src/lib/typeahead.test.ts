import { describe, expect, it } from "vitest";

import { CLOSED, onKey, showResults, type Suggestions } from "./typeahead";

const three = showResults(["bob", "bobby", "bora"]);

function moved(s: Suggestions<string>, key: string): Suggestions<string> {
  const out = onKey(s, key);
  if (out.kind !== "move") throw new Error(`expected a move, got ${out.kind}`);
  return out.next;
}

describe("type-ahead keys", () => {
  it("opens results with the first one highlighted", () => {
    expect(three).toEqual({ items: ["bob", "bobby", "bora"], active: 0, open: true });
    expect(showResults([])).toEqual({ items: [], active: -1, open: true });
  });

  it("moves down and up, wrapping at both ends", () => {
    expect(moved(three, "ArrowDown").active).toBe(1);
    expect(moved(moved(moved(three, "ArrowDown"), "ArrowDown"), "ArrowDown").active).toBe(0);
    expect(moved(three, "ArrowUp").active).toBe(2);
  });

  it("Enter picks the highlighted user, or submits the typed name when none is", () => {
    expect(onKey(moved(three, "ArrowDown"), "Enter")).toEqual({ kind: "pick", item: "bobby" });
    expect(onKey(showResults<string>([]), "Enter")).toEqual({ kind: "submit" });
    expect(onKey(CLOSED, "Enter")).toEqual({ kind: "submit" });
  });

  it("Escape closes the list first, then clears the input; arrows reopen it", () => {
    const esc = onKey(three, "Escape");
    expect(esc.kind).toBe("close");
    const closed = esc.kind === "close" ? esc.next : three;
    expect(onKey(closed, "Enter")).toEqual({ kind: "submit" });
    expect(onKey(closed, "Escape")).toEqual({ kind: "clear" });
    expect(moved(closed, "ArrowDown")).toEqual({ ...three, open: true });
  });

  it("ignores arrows with nothing to show and other keys", () => {
    expect(onKey(CLOSED, "ArrowDown")).toEqual({ kind: "none" });
    expect(onKey(three, "a")).toEqual({ kind: "none" });
  });
});
