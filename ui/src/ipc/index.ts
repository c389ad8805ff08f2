// The only module that talks to Tauri. Everything else imports these functions,
// so the UI can be unit-tested (and previewed in a browser) without the shell.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type {
  Contact,
  Counts,
  FoundUser,
  KindFilter,
  Notification,
  StatusFilter,
} from "../bindings/protocol";
import type {
  ChatMessage,
  ClientEvent,
  ConversationSummary,
  MessageHit,
  FocusRequest,
  NotificationHit,
  PopupSettings,
  SessionInfo,
  SettingsView,
} from "./types";

export type * from "./types";

/** Errors from commands arrive as the client's sentence. */
function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  return invoke<T>(cmd, args).catch((e: unknown) => {
    throw new Error(typeof e === "string" ? e : String(e));
  });
}

export const ipc = {
  sessionInfo: () => call<SessionInfo>("session_info"),
  login: (server: string, username: string, password: string) =>
    call<SessionInfo>("login", { server, username, password }),
  startLocalServer: () => call<SessionInfo>("start_local_server"),
  logout: () => call<void>("logout"),

  /** Newest first from the local cache; `before` = last id of the previous page. */
  listNotifications: (status: StatusFilter, kind: KindFilter, before: number | null, limit: number) =>
    call<Notification[]>("list_notifications", { status, kind, before, limit }),
  /** Local full-text search (works offline). */
  search: (query: string, limit: number) => call<NotificationHit[]>("search", { query, limit }),
  counts: () => call<Counts>("counts"),
  markRead: (ids: number[]) => call<void>("mark_read", { ids }),
  markUnread: (ids: number[]) => call<void>("mark_unread", { ids }),
  markAllRead: (kind: KindFilter) => call<void>("mark_all_read", { kind }),
  deleteNotifications: (ids: number[]) => call<void>("delete_notifications", { ids }),
  openLink: (url: string) => call<void>("open_link", { url }),

  getSettings: () => call<SettingsView>("get_settings"),
  setPopupSettings: (popups: PopupSettings) => call<void>("set_popup_settings", { popups }),
  setAutostart: (enabled: boolean) => call<boolean>("set_autostart", { enabled }),

  conversations: () => call<ConversationSummary[]>("conversations"),
  conversation: (id: number) => call<ConversationSummary | null>("conversation", { id }),
  /** Newest first, older than `before` (a server message id). */
  history: (conversationId: number, before: number | null, limit: number) =>
    call<ChatMessage[]>("history", { conversationId, before, limit }),
  sendToConversation: (conversationId: number, text: string) =>
    call<ChatMessage>("send_to_conversation", { conversationId, text }),
  sendToUser: (username: string, text: string) => call<ChatMessage>("send_to_user", { username, text }),
  markConversationRead: (conversationId: number) => call<void>("mark_conversation_read", { conversationId }),
  deleteMessages: (ids: number[], forEveryone: boolean | null) =>
    call<void>("delete_messages", { ids, forEveryone }),
  contacts: () => call<Contact[]>("contacts"),
  addContact: (username: string) => call<Contact>("add_contact", { username }),
  removeContact: (username: string) => call<void>("remove_contact", { username }),
  /** Users whose username or display name starts with `query` (online only). */
  searchUsers: (query: string, limit: number) => call<FoundUser[]>("search_users", { query, limit }),
  searchMessages: (query: string, limit: number) => call<MessageHit[]>("search_messages", { query, limit }),

  onEvent: (handler: (e: ClientEvent) => void): Promise<UnlistenFn> =>
    listen<ClientEvent>("herald://event", (e) => handler(e.payload)),
  onFocus: (handler: (f: FocusRequest) => void): Promise<UnlistenFn> =>
    listen<FocusRequest>("herald://focus", (e) => handler(e.payload)),
  onSettings: (handler: (p: PopupSettings) => void): Promise<UnlistenFn> =>
    listen<PopupSettings>("herald://settings", (e) => handler(e.payload)),
};

export type Ipc = typeof ipc;
