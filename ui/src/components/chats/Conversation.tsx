import { useLayoutEffect, useRef, useState } from "preact/hooks";

import type { ChatMessage, ClientEvent, ConversationSummary } from "../../ipc";
import { useBackend } from "../../ipc";
import { readMarker } from "../../lib/chat";
import { useHistory } from "../../state/history";
import { Avatar } from "./Avatar";
import { Bubble } from "./Bubble";
import { Composer } from "./Composer";
import { MessageMenu } from "./MessageMenu";

/** How close to the top (px) scrolling back loads older messages. */
const LOAD_OLDER_PX = 60;
/** How close to the bottom (px) still counts as "at the newest message". */
const STICK_PX = 40;

/** An open conversation: its history (scrolling back loads more), a menu per
 *  message, and the composer. */
export function Conversation(props: {
  conv: ConversationSummary;
  me: string | null;
  onError: (m: string) => void;
  subscribe: (l: (e: ClientEvent) => void) => () => void;
}) {
  const { conv, me, onError, subscribe } = props;
  const backend = useBackend();
  const { messages, hasMore, loadOlder, retry, discard } = useHistory(conv, subscribe, onError);
  const [menu, setMenu] = useState<{ m: ChatMessage; x: number; y: number } | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  // Follow new messages while at the bottom; keep the view still when older ones load.
  const stick = useRef(true);
  const prevHeight = useRef<number | null>(null);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (prevHeight.current !== null) {
      el.scrollTop += el.scrollHeight - prevHeight.current;
      prevHeight.current = null;
    } else if (stick.current) el.scrollTop = el.scrollHeight;
  }, [messages]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
    if (el.scrollTop < LOAD_OLDER_PX) {
      loadOlder(() => {
        prevHeight.current = el.scrollHeight;
      });
    }
  };

  const del = (m: ChatMessage, forEveryone: boolean) => {
    setMenu(null);
    if (m.id === null) return;
    backend.deleteMessages([m.id], forEveryone).catch((e: Error) => onError(e.message));
  };

  const read = readMarker(messages, conv, me);
  const name = conv.kind === "direct" ? conv.peer?.display_name || conv.title : conv.title;
  const sub = conv.kind === "direct" ? `@${conv.peer?.username ?? conv.title}` : `${conv.room?.members.length ?? 0} members`;

  return (
    <div class="chat" onClick={() => setMenu(null)}>
      <header class="chat-head">
        <Avatar name={name} online={null} />
        <div>
          <div class="chat-title">{name}</div>
          <div class="muted chat-sub">{sub}</div>
        </div>
      </header>
      <div class="messages" ref={scroller} onScroll={onScroll} id="chat-history">
        {!hasMore && messages.length > 0 && <p class="muted chat-start">Start of the conversation</p>}
        {messages.length === 0 && <p class="muted chat-start">No messages yet. Say hello!</p>}
        {messages.map((m) => {
          const own = m.sender !== null && m.sender === me;
          return (
            <Bubble
              key={m.local_id}
              message={m}
              own={own}
              showSender={!own && conv.kind === "room"}
              readHere={read === m.local_id}
              onMenu={(x, y) => setMenu({ m, x, y })}
              onRetry={() => retry(m)}
              onDiscard={() => discard(m)}
            />
          );
        })}
      </div>
      {menu && (
        <MessageMenu
          message={menu.m}
          x={menu.x}
          y={menu.y}
          mine={menu.m.sender === me}
          onDelete={(forEveryone) => del(menu.m, forEveryone)}
          onClose={() => setMenu(null)}
        />
      )}
      <Composer onSend={(text) => backend.sendToConversation(conv.id, text)} onError={onError} placeholder={`Message ${name}`} />
    </div>
  );
}
