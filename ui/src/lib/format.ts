// Formatting for the message list: pure functions, unit-tested.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 min ago", "3 h ago", "Yesterday", "Mon", "12 Mar", "12 Mar 2024". */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const then = new Date(iso);
  const t = then.getTime();
  if (Number.isNaN(t)) return "";
  const diff = now.getTime() - t;
  if (diff < 45_000) return "just now";
  if (diff < HOUR) return `${Math.max(1, Math.round(diff / MINUTE))} min ago`;
  if (diff < 12 * HOUR || sameDay(then, now)) return `${Math.round(diff / HOUR)} h ago`;
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (sameDay(then, yesterday)) return "Yesterday";
  if (diff < 6 * DAY) return then.toLocaleDateString("en-GB", { weekday: "short" });
  if (then.getFullYear() === now.getFullYear()) {
    return then.toLocaleDateString("en-GB", { day: "numeric", month: "short" });
  }
  return then.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
}

/** Full local date and time, for tooltips and the detail pane. */
export function fullTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleString("en-GB", {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

function sameDay(a: Date, b: Date): boolean {
  return (
    a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate()
  );
}

/** One line of content: whitespace collapsed, cut at a word with an ellipsis. */
export function preview(content: string, max = 140): string {
  const flat = content.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** Tab and badge counts: nothing at 0, "99+" above 99. */
export function countLabel(n: number): string {
  if (n <= 0) return "";
  return n > 99 ? "99+" : String(n);
}

/** A stable hue (0–359) per category, so "test-run" always has the same colour. */
export function categoryHue(category: string): number {
  let h = 0;
  for (const ch of category.toLowerCase()) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h % 360;
}

/** "ci.example.com" for a link, or the link itself when it does not parse. */
export function linkHost(link: string): string {
  try {
    return new URL(link).host || link;
  } catch {
    return link;
  }
}

/** Only http(s) links are shown as clickable. */
export function isWebLink(link: string | null | undefined): link is string {
  return !!link && /^https?:\/\//i.test(link);
}

/** Initials for an avatar: "Alice Smith" → "AS", "ci-bot" → "CI". */
export function initials(name: string): string {
  const words = name.split(/[\s._-]+/).filter(Boolean);
  const first = words[0] ?? "?";
  if (words.length === 1) return first.slice(0, 2).toUpperCase();
  return ((first[0] ?? "") + (words[1]?.[0] ?? "")).toUpperCase();
}
