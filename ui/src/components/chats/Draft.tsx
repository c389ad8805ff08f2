import { useBackend } from "../../ipc";
import { Avatar } from "./Avatar";
import { Composer } from "./Composer";

/** A first message to a contact: the conversation starts when it is sent. */
export function Draft({ to, onError }: { to: string; onError: (m: string) => void }) {
  const backend = useBackend();
  return (
    <div class="chat">
      <header class="chat-head">
        <Avatar name={to} online={null} />
        <div>
          <div class="chat-title">{to}</div>
          <div class="muted chat-sub">New conversation</div>
        </div>
      </header>
      <div class="messages">
        <p class="muted chat-start">Write the first message to @{to}.</p>
      </div>
      <Composer onSend={(text) => backend.sendToUser(to, text)} onError={onError} placeholder={`Message ${to}`} />
    </div>
  );
}
