import { useState } from "preact/hooks";

import { shouldSend } from "../../lib/chat";

/** The message box: Enter sends, Shift+Enter breaks the line. A send that fails
 *  puts the text back. */
export function Composer(props: { onSend: (text: string) => Promise<unknown>; onError: (m: string) => void; placeholder: string }) {
  const [text, setText] = useState("");
  const send = () => {
    const t = text.trim();
    if (!t) return;
    setText("");
    props.onSend(t).catch((e: Error) => {
      setText(t);
      props.onError(e.message);
    });
  };
  return (
    <div class="composer">
      <textarea
        id="chat-composer"
        rows={1}
        value={text}
        placeholder={props.placeholder}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (shouldSend(e)) {
            e.preventDefault();
            send();
          }
        }}
      />
      <button class="btn primary" onClick={send} disabled={!text.trim()} id="chat-send">
        Send
      </button>
    </div>
  );
}
