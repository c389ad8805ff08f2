// Payloads of the desktop shell itself (src-tauri), next to the generated
// protocol types. Keep in step with src-tauri/src/{commands,core,secrets,popup_policy}.rs.
import type { Contact, ConversationKind, Counts, KindFilter, Notification, Room, User } from "../bindings/protocol";



/** Where the session token is kept (secrets.rs `SecretStorage`). */
export type SecretStorage =
  | { kind: "keyring" }
  | { kind: "file"; path: string; reason: string };

/** commands.rs `SessionInfo`. */
export interface SessionInfo {
  signed_in: boolean;
  username: string | null;
  display_name: string | null;
  server: string | null;
  storage: SecretStorage;
  online: boolean;
  offline_reason: string | null;
  local_server: boolean;
  login_error: string | null;
}

/** popup_policy.rs `QuietHours`: "HH:MM" times of day. */
export interface QuietHours {
  start: string;
  end: string;
}

/** popup_policy.rs `PopupSettings`. */
export interface PopupSettings {
  desktop: boolean;
  personal: boolean;
  broadcast: boolean;
  chat: boolean;
  min_priority: number;
  dnd: boolean;
  quiet_hours: QuietHours | null;
}

/** commands.rs `SettingsView`. */
export interface SettingsView {
  popups: PopupSettings;
  autostart: boolean;
}

/** herald-client `ConnectionState`. */
export type ConnectionState =
  | { state: "connecting" }
  | { state: "online" }
  | { state: "offline"; reason: string; retry_in_ms: number | null }
  | { state: "auth_failed"; message: string };

/** herald-client `Action` (an optimistic change the server refused). */
export type Action =
  | { type: "mark_read"; ids: number[] }
  | { type: "mark_unread"; ids: number[] }
  | { type: "mark_all_read"; kind: KindFilter; up_to: number }
  | { type: "delete"; ids: number[] };

/** herald-client `ClientEvent`: the `herald://event` payload. */
export type ClientEvent =
  | { type: "connection_changed"; state: ConnectionState }
  | { type: "caught_up"; cursor: number }
  | { type: "counts_changed"; counts: Counts }
  | { type: "notification_added"; notification: Notification; live: boolean }
  | { type: "notification_changed"; notification: Notification }
  | { type: "notification_removed"; id: number }
  | { type: "notifications_reloaded" }
  | {
      type: "desktop_popup";
      title: string;
      content: string;
      link: string | null;
      priority: number;
      id: number | null;
    }
  | { type: "message_added"; message: ChatMessage; live: boolean }
  | { type: "message_changed"; message: ChatMessage }
  | { type: "message_removed"; local_id: number; id: number | null; conversation_id: number | null }
  | { type: "conversation_changed"; conversation: ConversationSummary }
  | { type: "conversation_removed"; id: number }
  | { type: "chat_reloaded" }
  | { type: "contacts_changed"; contacts: Contact[] }
  | { type: "presence"; user: string; online: boolean }
  | { type: "action_refused"; action: Action; message: string }
  | { type: "events_applied"; cursor: number }
  | { type: "lagged"; missed: number };

/** herald-client `SnippetPart` / `NotificationHit`: a local search result. */
export interface SnippetPart {
  text: string;
  matched: boolean;
}
export interface NotificationHit {
  notification: Notification;
  snippet: SnippetPart[];
}

/** state.rs `on_popup_click`: the `herald://focus` payload. */
export interface FocusRequest {
  notification?: number;
  conversation?: number;
}

/** herald-client `MessageState`: where a message written here is on its way. */
export type MessageState = "sent" | "pending" | "failed";

/** herald-client `ChatMessage`. */
export interface ChatMessage {
  local_id: number;
  id: number | null;
  conversation_id: number | null;
  peer: string | null;
  sender: string | null;
  content: string;
  client_id: string;
  created_at: string;
  state: MessageState;
}

/** herald-client `ConversationSummary`: one entry of the conversation list. */
export interface ConversationSummary {
  id: number;
  kind: ConversationKind;
  title: string;
  peer: User | null;
  room: Room | null;
  unread_count: number;
  read_up_to: number;
  peer_read_up_to: number | null;
  last_message: ChatMessage | null;
  last_time: string;
}

/** herald-client `MessageHit`. */
export interface MessageHit {
  message: ChatMessage;
  snippet: SnippetPart[];
}
