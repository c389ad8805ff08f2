// Generated from crates/protocol by crates/desktop-core/tests/ts_bindings.rs — do not edit.
// Regenerate: HERALD_UPDATE_BINDINGS=1 cargo test -p herald-desktop-core --test ts_bindings

/** One page of a list plus the opaque cursor of the next page (absent on the last). */
export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

/** How many notifications a mark or delete changed (already-read ones don't count). */
export interface ChangeResult {
  changed: number;
}

/** A contact with their presence. */
export type Contact = User & {
  added_at: string;
  /** At least one device connected (changes are debounced a few seconds). */
  online: boolean;
};

export type ConversationKind = "direct" | "room";

/** Unread counts as the tray badge and the window's tabs show them. */
export interface Counts {
  broadcast: number;
  chats: number;
  personal: number;
  unread_total: number;
}

/** A machine-readable `code` (`not_found`, `invalid_input`, …) for programs and a sentence for people. */
export interface ErrorDetail {
  code: string;
  message: string;
}

/** A change to one user's data (or, for a broadcast, everyone's). */
export type Event =
  | {
      notification: Notification;
      type: "notification.created";
    }
  | {
      ids: i64[];
      type: "notification.read";
    }
  | {
      ids: i64[];
      type: "notification.unread";
    }
  | {
      kind: KindFilter;
      type: "notification.all_read";
      up_to: i64;
    }
  | {
      kind: KindFilter;
      type: "notification.all_unread";
      up_to: i64;
    }
  | {
      ids: i64[];
      type: "notification.deleted";
    }
  | {
      message: Message;
      type: "message.created";
    }
  | {
      conversation_id: i64;
      ids: i64[];
      type: "message.deleted";
    }
  | {
      conversation_id: i64;
      type: "conversation.read";
      up_to: i64;
      user: string;
    }
  | {
      room: Room;
      type: "room.updated";
    }
  | {
      room_id: i64;
      type: "room.member_added";
      user: string;
    }
  | {
      owner?: string | null;
      room_id: i64;
      type: "room.member_removed";
      user: string;
    }
  | {
      room_id: i64;
      type: "room.left";
    }
;

/** An event with its place in the stream. */
export interface EventEnvelope {
  at: string;
  cursor: i64;
  event: Event;
}

/** A `GET /users` result: a [`User`] plus whether they are the caller's contact, so clients that read plain `User`s keep working. */
export type FoundUser = User & {
  is_contact: boolean;
};

export type KindFilter = "personal" | "broadcast" | "all";

/** A chat message as every member sees it. */
export interface Message {
  /** The sender's idempotency key: a device matches its pending sends by it. */
  client_id: string;
  content: string;
  conversation_id: i64;
  created_at: string;
  id: i64;
  /** Username of the sender; `None` once the sender's account was deleted. */
  sender?: string | null;
}

/** A notification as one user sees it (`read` is that user's state). */
export interface Notification {
  category?: string | null;
  content: string;
  created_at: string;
  desktop: boolean;
  id: i64;
  kind: NotificationKind;
  link?: string | null;
  priority: number;
  read: boolean;
  /** Username of the sender; `None` when the system sent it. */
  sender?: string | null;
  title: string;
}

export type NotificationKind = "personal" | "broadcast";

export type Role = "admin" | "user";

/** A group conversation. */
export interface Room {
  created_at: string;
  /** The room's conversation id. */
  id: i64;
  /** Usernames, sorted. */
  members: string[];
  name: string;
  /** Who manages the members: the creator, or the longest-standing member after the creator left. `None` only when the room has no members left. */
  owner?: string | null;
}

/** `POST /notifications`: to named users (`to`) or to everyone (`broadcast: true`). */
export interface SendNotification {
  broadcast?: boolean;
  category?: string | null;
  content?: string;
  /** Also raise a native desktop popup on the recipients' devices. */
  desktop?: boolean;
  link?: string | null;
  /** `false` makes a desktop push ephemeral: delivered to connected devices, never stored. */
  persist?: boolean;
  /** 1 (lowest) to 5 (highest); 3 when absent. */
  priority?: number | null;
  title: string;
  /** Usernames (duplicates count once); or `broadcast: true` instead. */
  to?: Username[] | null;
}

export type StatusFilter = "unread" | "read" | "all";

/** A user as other users and clients see it (never with the password hash). */
export interface User {
  created_at: string;
  disabled: boolean;
  display_name: string;
  id: i64;
  role: Role;
  username: string;
}

/** 1-32 characters of a-z, 0-9, '_', '.', '-' */
export type Username = string;

export type i64 = number;
