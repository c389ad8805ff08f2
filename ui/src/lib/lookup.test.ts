import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { createLookup, searchable } from "./lookup";

/** A search whose answers the test releases by hand, in any order. */
function controlledSearch() {
  const pending = new Map<string, (r: string[]) => void>();
  const asked: string[] = [];
  const search = (q: string) =>
    new Promise<string[]>((resolve) => {
      asked.push(q);
      pending.set(q, resolve);
    });
  const answer = async (q: string, r: string[]) => {
    pending.get(q)?.(r);
    await Promise.resolve();
    await Promise.resolve();
  };
  return { search, asked, answer };
}

describe("searchable", () => {
  it("trims and treats blank input as nothing to search", () => {
    expect(searchable("  deploy fail ")).toBe("deploy fail");
    expect(searchable("   ")).toBe(null);
    expect(searchable("")).toBe(null);
  });
});

describe("createLookup", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("asks once, after typing pauses, with the last text", async () => {
    const { search, asked, answer } = controlledSearch();
    const results: [string, string[] | null][] = [];
    const lookup = createLookup(search, (q, r) => results.push([q, r]), () => undefined, 150);
    lookup.update("b");
    vi.advanceTimersByTime(100);
    lookup.update("bo");
    vi.advanceTimersByTime(100);
    lookup.update("bob ");
    expect(asked).toEqual([]);
    vi.advanceTimersByTime(150);
    expect(asked).toEqual(["bob"]);
    await answer("bob", ["bob", "bobby"]);
    expect(results).toEqual([["bob", ["bob", "bobby"]]]);
  });

  it("drops a slow answer to an older query", async () => {
    const { search, asked, answer } = controlledSearch();
    const results: [string, string[] | null][] = [];
    const lookup = createLookup(search, (q, r) => results.push([q, r]), () => undefined, 150);
    lookup.update("ca");
    vi.advanceTimersByTime(150);
    lookup.update("car");
    vi.advanceTimersByTime(150);
    expect(asked).toEqual(["ca", "car"]);
    await answer("car", ["carol"]);
    await answer("ca", ["carl", "carol"]);
    expect(results).toEqual([["car", ["carol"]]]);
  });

  it("clears at once on blank input and forgets what was pending", async () => {
    const { search, asked, answer } = controlledSearch();
    const results: [string, string[] | null][] = [];
    const lookup = createLookup(search, (q, r) => results.push([q, r]), () => undefined, 150);
    lookup.update("al");
    vi.advanceTimersByTime(150);
    lookup.update("  ");
    expect(results).toEqual([["", null]]);
    await answer("al", ["alice"]);
    vi.advanceTimersByTime(1000);
    expect(results).toEqual([["", null]]);
    expect(asked).toEqual(["al"]);
  });

  it("reports errors of the current query only, and cancel stops everything", async () => {
    const errors: string[] = [];
    let fail: (e: Error) => void = () => undefined;
    const search = () => new Promise<string[]>((_, reject) => (fail = reject));
    const lookup = createLookup(search, () => undefined, (m) => errors.push(m), 100);
    lookup.update("x");
    vi.advanceTimersByTime(100);
    fail(new Error("a search is at most 100 characters"));
    await Promise.resolve();
    await Promise.resolve();
    expect(errors).toEqual(["a search is at most 100 characters"]);
    lookup.update("y");
    lookup.cancel();
    vi.advanceTimersByTime(1000);
    expect(errors).toHaveLength(1);
  });
});
