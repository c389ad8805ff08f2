// What the window needs from whatever it runs in. The desktop shell implements
// it (./tauri.ts); a browser talking to the server over REST and WebSocket can
// implement it too. Components reach it only through `ipc` (./index.ts) and
// never import an implementation.
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

/** Stops a subscription. */
export type Unsubscribe = () => void;

export interface Backend {
  sessionInfo(): Promise<SessionInfo>;
  login(server: string, username: string, password: string): Promise<SessionInfo>;
  startLocalServer(): Promise<SessionInfo>;
  logout(): Promise<void>;

  /** Newest first from the local cache; `before` = last id of the previous page. */
  listNotifications(status: StatusFilter, kind: KindFilter, before: number | null, limit: number): Promise<Notification[]>;
  /** Local full-text search (works offline). */
  search(query: string, limit: number): Promise<NotificationHit[]>;
  counts(): Promise<Counts>;
  markRead(ids: number[]): Promise<void>;
  markUnread(ids: number[]): Promise<void>;
  markAllRead(kind: KindFilter): Promise<void>;
  deleteNotifications(ids: number[]): Promise<void>;
  openLink(url: string): Promise<void>;

  getSettings(): Promise<SettingsView>;
  setPopupSettings(popups: PopupSettings): Promise<void>;
  /** Answers whether start-at-login is on now. */
  setAutostart(enabled: boolean): Promise<boolean>;

  conversations(): Promise<ConversationSummary[]>;
  conversation(id: number): Promise<ConversationSummary | null>;
  /** Newest first, older than `before` (a server message id). */
  history(conversationId: number, before: number | null, limit: number): Promise<ChatMessage[]>;
  sendToConversation(conversationId: number, text: string): Promise<ChatMessage>;
  sendToUser(username: string, text: string): Promise<ChatMessage>;
  /** Sends a message the server refused again; answers the new (pending) message. */
  retryMessage(localId: number): Promise<ChatMessage>;
  /** Drops a message the server refused. */
  discardMessage(localId: number): Promise<void>;
  markConversationRead(conversationId: number): Promise<void>;
  deleteMessages(ids: number[], forEveryone: boolean | null): Promise<void>;
  contacts(): Promise<Contact[]>;
  addContact(username: string): Promise<Contact>;
  removeContact(username: string): Promise<void>;
  /** Users whose username or display name starts with `query` (online only). */
  searchUsers(query: string, limit: number): Promise<FoundUser[]>;
  searchMessages(query: string, limit: number): Promise<MessageHit[]>;

  /** Every change the client core reports. */
  onEvent(handler: (e: ClientEvent) => void): Unsubscribe;
  /** A popup was clicked: show what it was about. */
  onFocus(handler: (f: FocusRequest) => void): Unsubscribe;
  /** Popup settings changed elsewhere (Do-not-disturb from the tray). */
  onSettings(handler: (p: PopupSettings) => void): Unsubscribe;
}
