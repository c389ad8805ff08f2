// An in-memory Backend for the UI's tests: it answers from plain data, records
// every call, fails a call on request, and sends shell events as the desktop
// shell would. (The real backends — the Tauri shell, a server — cannot run in
// vitest; the end-to-end tests drive those.)
import type {
  ChatMessage,
  ClientEvent,
  ConversationSummary,
  FocusRequest,
  MessageHit,
  NotificationHit,
  PopupSettings,
  SessionInfo,
  SettingsView,
} from "../bindings/ipc";
import type { Contact, Counts, FoundUser, KindFilter, Notification, StatusFilter } from "../bindings/protocol";
import type { Backend } from "../ipc";
import { matchesView } from "../lib/inbox";
import { createBus } from "../state/bus";

export class FakeBackend implements Backend {
  session: SessionInfo = {
    signed_in: true,
    username: "alice",
    display_name: "Alice Tester",
    server: "http://127.0.0.1:8787",
    storage: { kind: "keyring" },
    online: true,
    offline_reason: null,
    local_server: false,
    login_error: null,
  };
  countsNow: Counts = { unread_total: 0, personal: 0, broadcast: 0, chats: 0 };
  /** Newest first. */
  notifications: Notification[] = [];
  settingsView: SettingsView = {
    popups: { desktop: true, personal: false, broadcast: false, chat: true, min_priority: 1, dnd: false, quiet_hours: null },
    autostart: false,
  };
  conversationList: ConversationSummary[] = [];
  contactList: Contact[] = [];
  /** By conversation, newest first. */
  histories = new Map<number, ChatMessage[]>();
  searchHits: NotificationHit[] = [];
  messageHits: MessageHit[] = [];
  /** Every call: its name and arguments. */
  calls: [string, unknown[]][] = [];
  /** The next call of a name fails with this sentence. */
  failNext = new Map<string, string>();
  private buses = { event: createBus<ClientEvent>(), focus: createBus<FocusRequest>(), settings: createBus<PopupSettings>() };

  /** The shell sends a client event. */
  emit(event: ClientEvent): void {
    this.buses.event.publish(event);
  }
  /** A popup was clicked. */
  focus(request: FocusRequest): void {
    this.buses.focus.publish(request);
  }
  /** Popup settings changed in the tray. */
  settingsChanged(popups: PopupSettings): void {
    this.buses.settings.publish(popups);
  }

  /** The calls of `name`, by their arguments. */
  callsOf(name: string): unknown[][] {
    return this.calls.filter(([n]) => n === name).map(([, args]) => args);
  }

  private async answer<T>(name: string, args: unknown[], value: () => T): Promise<T> {
    this.calls.push([name, args]);
    const failure = this.failNext.get(name);
    if (failure !== undefined) {
      this.failNext.delete(name);
      throw new Error(failure);
    }
    return value();
  }

  sessionInfo = () => this.answer("sessionInfo", [], () => this.session);
  login = (server: string, username: string, password: string) =>
    this.answer("login", [server, username, password], () => this.session);
  startLocalServer = () => this.answer("startLocalServer", [], () => this.session);
  logout = () => this.answer("logout", [], () => undefined);

  listNotifications = (status: StatusFilter, kind: KindFilter, before: number | null, limit: number) =>
    this.answer("listNotifications", [status, kind, before, limit], () =>
      this.notifications.filter((n) => matchesView(n, kind, status) && (before === null || n.id < before)).slice(0, limit),
    );
  search = (query: string, limit: number) => this.answer("search", [query, limit], () => this.searchHits.slice(0, limit));
  counts = () => this.answer("counts", [], () => this.countsNow);
  markRead = (ids: number[]) => this.answer("markRead", [ids], () => undefined);
  markUnread = (ids: number[]) => this.answer("markUnread", [ids], () => undefined);
  markAllRead = (kind: KindFilter) => this.answer("markAllRead", [kind], () => undefined);
  deleteNotifications = (ids: number[]) => this.answer("deleteNotifications", [ids], () => undefined);
  openLink = (url: string) => this.answer("openLink", [url], () => undefined);

  getSettings = () => this.answer("getSettings", [], () => this.settingsView);
  setPopupSettings = (popups: PopupSettings) =>
    this.answer("setPopupSettings", [popups], () => {
      this.settingsView = { ...this.settingsView, popups };
    });
  setAutostart = (enabled: boolean) => this.answer("setAutostart", [enabled], () => enabled);

  conversations = () => this.answer("conversations", [], () => this.conversationList);
  conversation = (id: number) => this.answer("conversation", [id], () => this.conversationList.find((c) => c.id === id) ?? null);
  history = (conversationId: number, before: number | null, limit: number) =>
    this.answer("history", [conversationId, before, limit], () =>
      (this.histories.get(conversationId) ?? []).filter((m) => before === null || (m.id !== null && m.id < before)).slice(0, limit),
    );
  sendToConversation = (conversationId: number, text: string) =>
    this.answer("sendToConversation", [conversationId, text], () => this.written(conversationId, null, text));
  sendToUser = (username: string, text: string) =>
    this.answer("sendToUser", [username, text], () => this.written(null, username, text));
  retryMessage = (localId: number) =>
    this.answer("retryMessage", [localId], () => {
      const failed = [...this.histories.values()].flat().find((m) => m.local_id === localId);
      if (!failed) throw new Error("that message is not waiting to be sent again");
      return this.written(failed.conversation_id, failed.peer, failed.content);
    });
  discardMessage = (localId: number) => this.answer("discardMessage", [localId], () => undefined);
  markConversationRead = (conversationId: number) => this.answer("markConversationRead", [conversationId], () => undefined);
  deleteMessages = (ids: number[], forEveryone: boolean | null) => this.answer("deleteMessages", [ids, forEveryone], () => undefined);
  contacts = () => this.answer("contacts", [], () => this.contactList);
  addContact = (username: string) =>
    this.answer("addContact", [username], (): Contact => ({
      id: 100 + this.contactList.length,
      username,
      display_name: username,
      role: "user",
      disabled: false,
      created_at: "2026-11-25T10:00:00Z",
      added_at: "2026-11-25T10:00:00Z",
      online: true,
    }));
  removeContact = (username: string) => this.answer("removeContact", [username], () => undefined);
  searchUsers = (query: string, limit: number) => this.answer("searchUsers", [query, limit], (): FoundUser[] => []);
  searchMessages = (query: string, limit: number) => this.answer("searchMessages", [query, limit], () => this.messageHits.slice(0, limit));

  onEvent = (handler: (e: ClientEvent) => void) => this.buses.event.subscribe(handler);
  onFocus = (handler: (f: FocusRequest) => void) => this.buses.focus.subscribe(handler);
  onSettings = (handler: (p: PopupSettings) => void) => this.buses.settings.subscribe(handler);

  private nextLocalId = 1000;

  /** A message written here, pending. */
  private written(conversation_id: number | null, peer: string | null, content: string): ChatMessage {
    return {
      local_id: this.nextLocalId++,
      id: null,
      conversation_id,
      peer,
      sender: this.session.username,
      content,
      client_id: `fake-${this.nextLocalId}`,
      created_at: "2026-11-25T10:00:00Z",
      state: "pending",
    };
  }
}
