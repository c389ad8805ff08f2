// The chat view's list: conversations (most recent first), contacts with their
// presence, and which conversation — or first message to a contact — is open.
import { useCallback, useEffect, useState } from "preact/hooks";

import type { Contact } from "../bindings/protocol";
import type { ClientEvent, ConversationSummary } from "../ipc";
import { useBackend } from "../ipc";
import { sortConversations, upsertConversation } from "../lib/chat";

/** What the right-hand pane shows: a conversation, or a first message to a contact. */
export type Open = { conversation: number } | { draftTo: string } | null;

export interface Conversations {
  list: ConversationSummary[];
  contacts: Contact[];
  /** Presence by username, as last heard. */
  online: Record<string, boolean>;
  /** The first answer is in (so "no conversations yet" is true). */
  loaded: boolean;
  open: Open;
  /** Shows a conversation. */
  show(conversation: number): void;
  /** Opens the conversation with `username`, or a first message to them. */
  startWith(username: string): void;
  /** Adds `username` as a contact unless it already is one, then opens the chat with them. */
  addContact(username: string, isContact: boolean): Promise<void>;
}

export function useConversations(
  subscribe: (handler: (e: ClientEvent) => void) => () => void,
  onError: (message: string) => void,
  focusConversation: number | null,
): Conversations {
  const backend = useBackend();
  const [list, setList] = useState<ConversationSummary[]>([]);
  const [contacts, setContacts] = useState<Contact[]>([]);
  const [online, setOnline] = useState<Record<string, boolean>>({});
  const [open, setOpen] = useState<Open>(null);
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    if (focusConversation !== null) setOpen({ conversation: focusConversation });
  }, [focusConversation]);

  const reload = useCallback(async () => {
    try {
      const [cs, ct] = await Promise.all([backend.conversations(), backend.contacts()]);
      setList(sortConversations(cs));
      setContacts(ct);
      setOnline(Object.fromEntries(ct.map((c) => [c.username, c.online])));
    } catch (e) {
      onError(String((e as Error).message ?? e));
    } finally {
      setLoaded(true);
    }
  }, [backend, onError]);

  useEffect(() => {
    void reload();
    return subscribe((e) => {
      if (e.type === "conversation_changed") {
        setList((l) => upsertConversation(l, e.conversation));
        // The first message to a contact created this conversation: show it.
        setOpen((o) => (o && "draftTo" in o && e.conversation.peer?.username === o.draftTo ? { conversation: e.conversation.id } : o));
      } else if (e.type === "conversation_removed") {
        setList((l) => l.filter((c) => c.id !== e.id));
        setOpen((o) => (o && "conversation" in o && o.conversation === e.id ? null : o));
      } else if (e.type === "chat_reloaded") void reload();
      else if (e.type === "contacts_changed") {
        setContacts(e.contacts);
        setOnline((p) => ({ ...p, ...Object.fromEntries(e.contacts.map((c) => [c.username, c.online])) }));
      } else if (e.type === "presence") setOnline((p) => ({ ...p, [e.user]: e.online }));
    });
  }, [reload, subscribe]);

  const startWith = useCallback(
    (username: string) => {
      const existing = list.find((c) => c.kind === "direct" && c.peer?.username === username);
      setOpen(existing ? { conversation: existing.id } : { draftTo: username });
    },
    [list],
  );

  const addContact = useCallback(
    async (username: string, isContact: boolean) => {
      if (!isContact) {
        const c = await backend.addContact(username);
        setContacts((cs) => [...cs.filter((x) => x.username !== c.username), c]);
        setOnline((p) => ({ ...p, [c.username]: c.online }));
      }
      startWith(username);
    },
    [backend, startWith],
  );

  const show = useCallback((conversation: number) => setOpen({ conversation }), []);

  return { list, contacts, online, loaded, open, show, startWith, addContact };
}
