// Chat state and formatting: pure functions, unit-tested.
import type { ChatMessage, ConversationSummary } from "../bindings/ipc";

/** Conversation list order: most recent first. */
export function sortConversations(list: ConversationSummary[]): ConversationSummary[] {
  return [...list].sort((a, b) => Date.parse(b.last_time) - Date.parse(a.last_time) || b.id - a.id);
}

/** Inserts or replaces a conversation, keeping the order. */
export function upsertConversation(list: ConversationSummary[], c: ConversationSummary): ConversationSummary[] {
  return sortConversations([...list.filter((x) => x.id !== c.id), c]);
}

/** "You: hi" for own last messages, the sender's name in rooms, plain text otherwise. */
export function lastMessagePreview(c: ConversationSummary, me: string | null): string {
  const m = c.last_message;
  if (!m) return "No messages yet";
  const text = m.content.replace(/\s+/g, " ").trim();
  if (m.sender !== null && m.sender === me) return `You: ${text}`;
  if (c.kind === "room" && m.sender) return `${m.sender}: ${text}`;
  return text;
}

/** Messages of one conversation in display order (oldest first), by local id. */
export function mergeHistory(current: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  const byLocal = new Map<number, ChatMessage>();
  for (const m of current) byLocal.set(m.local_id, m);
  for (const m of incoming) byLocal.set(m.local_id, m);
  return [...byLocal.values()].sort(compareMessages);
}

function compareMessages(a: ChatMessage, b: ChatMessage): number {
  // Undelivered messages (no id yet) go last, in the order they were written.
  if (a.id !== null && b.id !== null) return a.id - b.id;
  if (a.id === null && b.id === null) return a.local_id - b.local_id;
  return a.id === null ? 1 : -1;
}

/** Removes a message by local id or server id. */
export function removeMessage(list: ChatMessage[], localId: number, id: number | null): ChatMessage[] {
  return list.filter((m) => m.local_id !== localId && (id === null || m.id !== id));
}

/** The server id to page back from: the oldest one loaded. */
export function oldestId(list: ChatMessage[]): number | null {
  let min: number | null = null;
  for (const m of list) if (m.id !== null && (min === null || m.id < min)) min = m.id;
  return min;
}

/** Whether a message belongs to a conversation (a first message may have no id yet). */
export function belongsTo(m: ChatMessage, c: ConversationSummary): boolean {
  if (m.conversation_id !== null) return m.conversation_id === c.id;
  return c.kind === "direct" && m.peer !== null && m.peer === c.peer?.username;
}

/** The local id of own last message the peer has read, to mark it "Read". */
export function readMarker(list: ChatMessage[], c: ConversationSummary, me: string | null): number | null {
  const upTo = c.peer_read_up_to;
  if (upTo === null || me === null) return null;
  for (let i = list.length - 1; i >= 0; i--) {
    const m = list[i]!;
    if (m.sender !== me) continue;
    return m.id !== null && m.id <= upTo ? m.local_id : null;
  }
  return null;
}

/** Enter sends; Shift+Enter (or IME composition) inserts a newline. */
export function shouldSend(e: { key: string; shiftKey: boolean; isComposing?: boolean }): boolean {
  return e.key === "Enter" && !e.shiftKey && !e.isComposing;
}

/** Clock time for a bubble: "14:05". */
export function bubbleTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}
