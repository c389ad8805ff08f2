import { describe, expect, it } from "vitest";

import { notification as n } from "./fixtures";
import { escapeAction, noResultsTitle, resultCount, snippetField, visibleHits, type SearchResults } from "./search";

const results: SearchResults = {
  query: "deploy",
  notifications: [
    { notification: n(2), snippet: [{ text: "Deploy", matched: true }] },
    { notification: n(9, { kind: "broadcast", read: true }), snippet: [] },
    { notification: n(5, { read: true }), snippet: [] },
  ],
  messages: [],
};

describe("search results", () => {
  it("keep the index's ranking and follow the tab and the read filter", () => {
    expect(visibleHits(results, "all", "all").map((x) => x.id)).toEqual([2, 9, 5]);
    expect(visibleHits(results, "personal", "all").map((x) => x.id)).toEqual([2, 5]);
    expect(visibleHits(results, "all", "unread").map((x) => x.id)).toEqual([2]);
    expect(visibleHits(results, "broadcast", "unread")).toEqual([]);
  });

  it("say what found nothing, and how much was found", () => {
    expect(noResultsTitle("  flaky test ")).toBe("No results for “flaky test”");
    expect(resultCount(1)).toBe("1 result");
    expect(resultCount(0)).toBe("0 results");
    expect(resultCount(12)).toBe("12 results");
  });
});

describe("snippetField", () => {
  const note = n(1, { title: "Build #43 failed on main", content: "2 tests failed in checkout-flow on main" });
  it("recognises a snippet cut from the title", () => {
    const parts = [{ text: "Build", matched: true }, { text: " #43 failed on main", matched: false }];
    expect(snippetField(note, parts)).toBe("title");
    expect(snippetField(note, [{ text: "…#43 failed", matched: false }])).toBe("title");
  });
  it("treats anything found in the content, or in both, as content", () => {
    expect(snippetField(note, [{ text: "checkout", matched: true }, { text: "-flow", matched: false }])).toBe("content");
    expect(snippetField(note, [{ text: "main", matched: true }])).toBe("content");
    expect(snippetField(note, [])).toBe("content");
  });
});

describe("Escape", () => {
  it("in the search box clears the query, then leaves the box", () => {
    expect(escapeAction({ inSearchBox: true, query: "deploy", selected: 2 })).toBe("clear-query");
    expect(escapeAction({ inSearchBox: true, query: "", selected: 0 })).toBe("leave-search");
  });
  it("in the list clears the selection first, then the query", () => {
    expect(escapeAction({ inSearchBox: false, query: "deploy", selected: 2 })).toBe("clear-selection");
    expect(escapeAction({ inSearchBox: false, query: "deploy", selected: 0 })).toBe("clear-query");
    expect(escapeAction({ inSearchBox: false, query: "", selected: 0 })).toBe("none");
  });
});
