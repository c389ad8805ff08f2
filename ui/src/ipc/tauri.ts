// The desktop shell as the window's backend: Tauri commands and events, whose
// names and payloads are generated from Rust (../bindings/ipc.ts), so a call
// that does not match the shell does not compile.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";

import { ShellEvent, type Commands, type ShellEvents } from "../bindings/ipc";
import type { Backend, Unsubscribe } from "./backend";

/** Invokes a shell command; its error arrives as the client's sentence. */
function call<C extends keyof Commands>(command: C, args: Commands[C]["args"]): Promise<Commands[C]["answer"]> {
  return invoke<Commands[C]["answer"]>(command, args).catch((e: unknown) => {
    throw new Error(typeof e === "string" ? e : String(e));
  });
}

function on<E extends keyof ShellEvents>(event: E, handler: (payload: ShellEvents[E]) => void): Unsubscribe {
  const stop = listen<ShellEvents[E]>(event, (e) => handler(e.payload));
  return () => void stop.then((unlisten) => unlisten());
}

export const tauriBackend: Backend = {
  sessionInfo: () => call("session_info", {}),
  login: (server, username, password) => call("login", { server, username, password }),
  startLocalServer: () => call("start_local_server", {}),
  logout: () => call("logout", {}),

  listNotifications: (status, kind, before, limit) => call("list_notifications", { status, kind, before, limit }),
  search: (query, limit) => call("search", { query, limit }),
  counts: () => call("counts", {}),
  markRead: (ids) => call("mark_read", { ids }),
  markUnread: (ids) => call("mark_unread", { ids }),
  markAllRead: (kind) => call("mark_all_read", { kind }),
  deleteNotifications: (ids) => call("delete_notifications", { ids }),
  openLink: (url) => call("open_link", { url }),

  getSettings: () => call("get_settings", {}),
  setPopupSettings: (popups) => call("set_popup_settings", { popups }),
  setAutostart: (enabled) => call("set_autostart", { enabled }),

  conversations: () => call("conversations", {}),
  conversation: (id) => call("conversation", { id }),
  history: (conversationId, before, limit) => call("history", { conversationId, before, limit }),
  sendToConversation: (conversationId, text) => call("send_to_conversation", { conversationId, text }),
  sendToUser: (username, text) => call("send_to_user", { username, text }),
  retryMessage: (localId) => call("retry_message", { localId }),
  discardMessage: (localId) => call("discard_message", { localId }),
  markConversationRead: (conversationId) => call("mark_conversation_read", { conversationId }),
  deleteMessages: (ids, forEveryone) => call("delete_messages", { ids, forEveryone }),
  contacts: () => call("contacts", {}),
  addContact: (username) => call("add_contact", { username }),
  removeContact: (username) => call("remove_contact", { username }),
  searchUsers: (query, limit) => call("search_users", { query, limit }),
  searchMessages: (query, limit) => call("search_messages", { query, limit }),

  onEvent: (handler) => on(ShellEvent.Client, handler),
  onFocus: (handler) => on(ShellEvent.Focus, handler),
  onSettings: (handler) => on(ShellEvent.Settings, handler),
};
