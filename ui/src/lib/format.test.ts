import { describe, expect, it } from "vitest";

import { categoryHue, countLabel, initials, isWebLink, linkHost, preview, relativeTime } from "./format";

describe("relativeTime", () => {
  const now = new Date(2026, 10, 25, 15, 0, 0); // Wed 25 Nov 2026, 15:00 local

  const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();

  it("says just now for the last 45 seconds", () => {
    expect(relativeTime(ago(10_000), now)).toBe("just now");
  });
  it("counts minutes, then hours today", () => {
    expect(relativeTime(ago(5 * 60_000), now)).toBe("5 min ago");
    expect(relativeTime(ago(3 * 3_600_000), now)).toBe("3 h ago");
  });
  it("names yesterday, then weekdays, then dates", () => {
    expect(relativeTime(new Date(2026, 10, 24, 9, 0).toISOString(), now)).toBe("Yesterday");
    expect(relativeTime(new Date(2026, 10, 21, 9, 0).toISOString(), now)).toBe("Sat");
    expect(relativeTime(new Date(2026, 2, 12, 9, 0).toISOString(), now)).toBe("12 Mar");
    expect(relativeTime(new Date(2024, 2, 12, 9, 0).toISOString(), now)).toBe("12 Mar 2024");
  });
  it("is empty for garbage", () => {
    expect(relativeTime("not a date", now)).toBe("");
  });
});

describe("preview", () => {
  it("flattens whitespace", () => {
    expect(preview("3 failed\n\n  2 skipped")).toBe("3 failed 2 skipped");
  });
  it("cuts long text at a word with an ellipsis", () => {
    const text = "word ".repeat(50);
    const p = preview(text, 20);
    expect(p.endsWith("…")).toBe(true);
    expect(p.length).toBeLessThanOrEqual(21);
    expect(p).not.toMatch(/wor…$/);
  });
});

describe("labels", () => {
  it("counts like the tray badge", () => {
    expect(countLabel(0)).toBe("");
    expect(countLabel(7)).toBe("7");
    expect(countLabel(99)).toBe("99");
    expect(countLabel(100)).toBe("99+");
  });
  it("gives each category a stable colour", () => {
    expect(categoryHue("test-run")).toBe(categoryHue("Test-Run"));
    expect(categoryHue("test-run")).toBeGreaterThanOrEqual(0);
    expect(categoryHue("test-run")).toBeLessThan(360);
  });
  it("shows hosts of links and accepts only web links", () => {
    expect(linkHost("https://ci.example.com/job/42")).toBe("ci.example.com");
    expect(linkHost("nonsense")).toBe("nonsense");
    expect(isWebLink("https://x")).toBe(true);
    expect(isWebLink("javascript:alert(1)")).toBe(false);
    expect(isWebLink(null)).toBe(false);
  });
  it("makes initials", () => {
    expect(initials("Alice Smith")).toBe("AS");
    expect(initials("ci-bot")).toBe("CB");
    expect(initials("admin")).toBe("AD");
  });
});
