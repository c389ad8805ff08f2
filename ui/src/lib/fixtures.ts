// Test data shared by the unit tests.
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
