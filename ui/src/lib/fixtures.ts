// Test data shared by the unit tests.
import type { ChatMessage, ConversationSummary } from "../bindings/ipc";
import type { Notification } from "../bindings/protocol";

/** A personal, unread test-run notification; `extra` overrides any field. */
export function notification(id: number, extra: Partial<Notification> = {}): Notification {
  return {
    id,
    kind: "personal",
    category: "test-run",
    title: `Test plan #${id} finished`,
    content: "3 failed, 40 passed",
    link: null,
    priority: 3,
    desktop: false,
    sender: "ci",
    created_at: "2026-11-25T10:00:00Z",
    read: false,
    ...extra,
  };
}

/** A chat message in conversation 7; pending until it has a server id. */
export function msg(local_id: number, id: number | null, sender: string, content = "hi"): ChatMessage {
  return {
    local_id,
    id,
    conversation_id: 7,
    peer: null,
    sender,
    content,
    client_id: `c${local_id}`,
    created_at: "2026-11-25T10:00:00Z",
    state: id === null ? "pending" : "sent",
  };
}

/** A direct conversation with `peer<id>`; `extra` overrides any field. */
export function conv(id: number, last_time: string, extra: Partial<ConversationSummary> = {}): ConversationSummary {
  return {
    id,
    kind: "direct",
    title: `peer${id}`,
    peer: null,
    room: null,
    unread_count: 0,
    read_up_to: 0,
    peer_read_up_to: null,
    last_message: null,
    last_time,
    ...extra,
  };
}
