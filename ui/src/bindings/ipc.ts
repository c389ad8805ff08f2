// Generated from crates/client and crates/desktop-core by crates/desktop-core/tests/ts_bindings.rs — do not edit.
// Regenerate: HERALD_UPDATE_BINDINGS=1 cargo test -p herald-desktop-core --test ts_bindings

import type { Contact, ConversationKind, Counts, FoundUser, KindFilter, Notification, Room, StatusFilter, User, i64 } from "./protocol";

/** A chat message as the window shows it, sent or still on its way. */
export interface ChatMessage {
  client_id: string;
  content: string;
  conversation_id: i64 | null;
  created_at: string;
  id: i64 | null;
  /** Stable for the life of the cache, also before the server assigned `id`. */
  local_id: number;
  peer: string | null;
  /** Username; `null` once the sender's account was deleted. */
  sender: string | null;
  state: MessageState;
}

/** One change a front end may want to show. */
export type ClientEvent =
  | {
      state: ConnectionState;
      type: "connection_changed";
    }
  | {
      cursor: i64;
      type: "caught_up";
    }
  | {
      counts: Counts;
      type: "counts_changed";
    }
  | {
      live: boolean;
      notification: Notification;
      type: "notification_added";
    }
  | {
      notification: Notification;
      type: "notification_changed";
    }
  | {
      id: i64;
      type: "notification_removed";
    }
  | {
      type: "notifications_reloaded";
    }
  | {
      content: string;
      id: i64 | null;
      link: string | null;
      priority: number;
      title: string;
      type: "desktop_popup";
    }
  | {
      live: boolean;
      message: ChatMessage;
      type: "message_added";
    }
  | {
      message: ChatMessage;
      type: "message_changed";
    }
  | {
      conversation_id: i64 | null;
      id: i64 | null;
      local_id: number;
      type: "message_removed";
    }
  | {
      conversation: ConversationSummary;
      type: "conversation_changed";
    }
  | {
      id: i64;
      type: "conversation_removed";
    }
  | {
      type: "chat_reloaded";
    }
  | {
      contacts: Contact[];
      type: "contacts_changed";
    }
  | {
      online: boolean;
      type: "presence";
      user: string;
    }
  | {
      action: Record<string, unknown>;
      message: string;
      type: "action_refused";
    }
  | {
      cursor: i64;
      type: "events_applied";
    }
  | {
      missed: number;
      type: "lagged";
    }
;

/** Whether the client is talking to the server, as the tray icon shows it. */
export type ConnectionState =
  | {
      state: "connecting";
    }
  | {
      state: "online";
    }
  | {
      reason: string;
      retry_in_ms: number | null;
      state: "offline";
    }
  | {
      message: string;
      state: "auth_failed";
    }
;

/** One entry of the conversation list. */
export interface ConversationSummary {
  id: i64;
  kind: ConversationKind;
  last_message: ChatMessage | null;
  last_time: string;
  peer: User | null;
  peer_read_up_to: i64 | null;
  read_up_to: i64;
  room: Room | null;
  /** The peer's username or the room's name. */
  title: string;
  unread_count: number;
}

/** Where the window should go after a popup click: a notification, a conversation, or (neither) just the message center. */
export interface FocusRequest {
  conversation: i64 | null;
  notification: i64 | null;
}

/** A chat message that matches a search. */
export interface MessageHit {
  message: ChatMessage;
  snippet: SnippetPart[];
}

/** Where a message written here is on its way. */
export type MessageState = "sent" | "pending" | "failed";

/** A notification that matches a search, with where it matched. */
export interface NotificationHit {
  notification: Notification;
  /** The best-matching stretch of the title or content, split into parts so a window can highlight matches without parsing (or trusting) markup. */
  snippet: SnippetPart[];
}

/** The user's popup settings (Settings → Notifications). */
export interface PopupSettings {
  /** Popups for every new broadcast. */
  broadcast: boolean;
  /** Popups for chat messages. */
  chat: boolean;
  /** Popups for notifications sent with `desktop: true` (the sender asked for one). */
  desktop: boolean;
  /** Do not disturb: no popups at all until turned off. */
  dnd: boolean;
  /** Notifications below this priority (1–5) never pop up on their own. */
  min_priority: number;
  /** Popups for every new personal notification, not only `desktop` ones. */
  personal: boolean;
  quiet_hours: QuietHours | null;
}

/** A daily quiet period; may wrap midnight (22:00–07:00). */
export interface QuietHours {
  /** "HH:MM", local time; before `start` when the period wraps midnight. */
  end: string;
  /** "HH:MM", local time. */
  start: string;
}

/** Where tokens are stored right now; shown in Settings → Account. */
export type SecretStorage =
  | {
      kind: "keyring";
    }
  | {
      kind: "file";
      path: string;
      reason: string;
    }
;

/** Who is signed in where, and how the token is kept (the window's account view). */
export interface SessionInfo {
  display_name: string | null;
  /** Signed in to the server this app started on this computer. */
  local_server: boolean;
  /** Set when an unattended or saved login failed, or the server refused the token. */
  login_error: string | null;
  /** Why the app is offline, if it is. */
  offline_reason: string | null;
  online: boolean;
  server: string | null;
  signed_in: boolean;
  storage: SecretStorage;
  username: string | null;
}

/** Settings → Notifications and Settings → General. */
export interface SettingsView {
  autostart: boolean;
  popups: PopupSettings;
}

/** A piece of a snippet: `matched` pieces are what the query found. */
export interface SnippetPart {
  matched: boolean;
  text: string;
}

/** Every command the window can invoke: its arguments, by name, and its answer. */
export interface Commands {
  /** Who is signed in where, and how the token is kept. */
  session_info: { args: Record<string, never>; answer: SessionInfo };
  /** Logs in with a password and starts syncing. */
  login: { args: { server: string; username: string; password: string }; answer: SessionInfo };
  /** Starts the bundled herald-server and signs in to it as its admin. */
  start_local_server: { args: Record<string, never>; answer: SessionInfo };
  logout: { args: Record<string, never>; answer: void };
  /** Newest first, from the local cache (works offline). `before`: the last id of the previous page. */
  list_notifications: { args: { status: StatusFilter; kind: KindFilter; before: number | null; limit: number }; answer: Notification[] };
  /** Local full-text search over the cached notifications. */
  search: { args: { query: string; limit: number }; answer: NotificationHit[] };
  counts: { args: Record<string, never>; answer: Counts };
  mark_read: { args: { ids: number[] }; answer: void };
  mark_unread: { args: { ids: number[] }; answer: void };
  mark_all_read: { args: { kind: KindFilter }; answer: void };
  delete_notifications: { args: { ids: number[] }; answer: void };
  /** Opens an http(s) link in the browser; anything else is refused. */
  open_link: { args: { url: string }; answer: void };
  get_settings: { args: Record<string, never>; answer: SettingsView };
  set_popup_settings: { args: { popups: PopupSettings }; answer: void };
  /** Start at login on or off; answers whether it is on now. */
  set_autostart: { args: { enabled: boolean }; answer: boolean };
  /** The conversation list, most recent first. */
  conversations: { args: Record<string, never>; answer: ConversationSummary[] };
  conversation: { args: { id: number }; answer: ConversationSummary | null };
  /** Newest first, older than `before` (scroll-back paging). */
  history: { args: { conversationId: number; before: number | null; limit: number }; answer: ChatMessage[] };
  /** Sends into a conversation the cache knows. */
  send_to_conversation: { args: { conversationId: number; text: string }; answer: ChatMessage };
  /** Sends a direct message to a user (starting the conversation if needed). */
  send_to_user: { args: { username: string; text: string }; answer: ChatMessage };
  /** Sends a message the server refused (shown "not sent") again. */
  retry_message: { args: { localId: number }; answer: ChatMessage };
  /** Drops a message the server refused. */
  discard_message: { args: { localId: number }; answer: void };
  mark_conversation_read: { args: { conversationId: number }; answer: void };
  delete_messages: { args: { ids: number[]; forEveryone: boolean | null }; answer: void };
  contacts: { args: Record<string, never>; answer: Contact[] };
  add_contact: { args: { username: string }; answer: Contact };
  remove_contact: { args: { username: string }; answer: void };
  /** The "add a contact" type-ahead: who matches what was typed so far. */
  search_users: { args: { query: string; limit: number }; answer: FoundUser[] };
  /** Local full-text search over cached chat messages. */
  search_messages: { args: { query: string; limit: number }; answer: MessageHit[] };
}

/** The events the shell sends to the window, by name. */
export const ShellEvent = {
  Client: "herald://event",
  Focus: "herald://focus",
  Settings: "herald://settings",
} as const;

/** Each event's payload. */
export interface ShellEvents {
  "herald://event": ClientEvent;
  "herald://focus": FocusRequest;
  "herald://settings": PopupSettings;
}
