import type { ClientEvent } from "../../ipc";
import { useConversations } from "../../state/conversations";
import { Empty } from "../common/Empty";
import { ChatIcon } from "../common/icons";
import { ContactTypeahead } from "./ContactTypeahead";
import { Conversation } from "./Conversation";
import { ConversationList } from "./ConversationList";
import { Draft } from "./Draft";

type Props = {
  me: string | null;
  subscribe: (l: (e: ClientEvent) => void) => () => void;
  onError: (message: string) => void;
  /** A conversation to show (picked in the message center's search results). */
  focusConversation: number | null;
};

/** The chat view: conversations and contacts on the left, the open one on the right. */
export function Chats({ me, subscribe, onError, focusConversation }: Props) {
  const chats = useConversations(subscribe, onError, focusConversation);
  const { list, contacts, open } = chats;
  const current = open && "conversation" in open ? list.find((c) => c.id === open.conversation) ?? null : null;
  const withoutChat = contacts.filter((c) => !list.some((x) => x.kind === "direct" && x.peer?.username === c.username));

  return (
    <div class="chats split">
      <aside class="list-pane chat-list" aria-label="Conversations">
        <ContactTypeahead onPick={chats.addContact} onError={onError} />
        {chats.loaded && list.length === 0 && withoutChat.length === 0 && (
          <p class="muted chat-hint">No conversations yet. Add a contact above to start one.</p>
        )}
        <ConversationList
          list={list}
          contactsOnly={withoutChat}
          online={chats.online}
          me={me}
          openedId={current?.id ?? null}
          onOpen={chats.show}
          onStart={chats.startWith}
        />
      </aside>
      <section class="detail-pane chat-pane">
        {current ? (
          <Conversation key={current.id} conv={current} me={me} onError={onError} subscribe={subscribe} />
        ) : open && "draftTo" in open ? (
          <Draft to={open.draftTo} onError={onError} />
        ) : (
          <Empty icon={<ChatIcon size={28} />} title={list.length ? "Pick a conversation" : "No conversations yet"}>
            {list.length ? "Choose a conversation on the left to read and reply." : "Direct messages and rooms appear here."}
          </Empty>
        )}
      </section>
    </div>
  );
}
