import type { ChatMessage } from "../../ipc";
import { bubbleTime } from "../../lib/chat";
import { fullTime } from "../../lib/format";

/** One message: its text, the sender in rooms, and its time, delivery or read state. */
export function Bubble(props: {
  message: ChatMessage;
  own: boolean;
  /** Show who wrote it (someone else's, in a room). */
  showSender: boolean;
  /** The peer has read up to here. */
  readHere: boolean;
  onMenu: (x: number, y: number) => void;
  /** A message the server refused: send it again, or drop it. */
  onRetry: () => void;
  onDiscard: () => void;
}) {
  const m = props.message;
  return (
    <div class={`bubble-row ${props.own ? "own" : "theirs"}`}>
      <div
        class={`bubble ${m.state}`}
        data-message={m.id ?? ""}
        title={fullTime(m.created_at)}
        onContextMenu={(e) => {
          e.preventDefault();
          e.stopPropagation();
          props.onMenu(e.clientX, e.clientY);
        }}
      >
        {props.showSender && <div class="bubble-sender">{m.sender ?? "deleted user"}</div>}
        <div class="bubble-text">{m.content}</div>
        <div class="bubble-meta">
          {m.state === "failed" ? (
            <>
              not sent ·{" "}
              <button class="link-btn bubble-action" onClick={props.onRetry} data-action="retry">
                Retry
              </button>{" "}
              ·{" "}
              <button class="link-btn bubble-action" onClick={props.onDiscard} data-action="discard">
                Discard
              </button>
            </>
          ) : m.state === "pending" ? (
            "sending…"
          ) : (
            bubbleTime(m.created_at)
          )}
          {props.readHere && <span class="read-mark"> · Read</span>}
        </div>
      </div>
    </div>
  );
}
