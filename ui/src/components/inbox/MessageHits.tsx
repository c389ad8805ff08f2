import type { MessageHit } from "../../ipc";
import { fullTime, relativeTime } from "../../lib/format";
import { ChatIcon } from "../common/icons";
import { Snippet } from "../common/Snippet";

/** Chat messages found by search; a click opens the conversation. */
export function MessageHits({ hits, onOpen }: { hits: MessageHit[]; onOpen: (conversation: number) => void }) {
  return (
    <ul class="list" aria-label="Matching chat messages" id="message-hits">
      {hits.map((h) => {
        const conversation = h.message.conversation_id;
        return (
          <li
            key={h.message.local_id}
            class="row message-hit"
            data-conversation={conversation ?? ""}
            onClick={() => conversation !== null && onOpen(conversation)}
          >
            <span class="kind" aria-hidden="true">
              <ChatIcon size={16} />
            </span>
            <div class="row-main">
              <div class="line1">
                <span class="title">{h.message.sender ?? "deleted user"}</span>
                <span class="time" title={fullTime(h.message.created_at)}>
                  {relativeTime(h.message.created_at)}
                </span>
              </div>
              <div class="line2">
                <span class="preview">
                  <Snippet parts={h.snippet} />
                </span>
              </div>
            </div>
          </li>
        );
      })}
    </ul>
  );
}
