import { useEffect, useMemo, useState } from "preact/hooks";

import type { FoundUser } from "../../bindings/protocol";
import { useBackend } from "../../ipc";
import { createLookup, MAX_QUERY_CHARS } from "../../lib/lookup";
import { CLOSED, onKey, showResults, type Suggestions } from "../../lib/typeahead";
import { Avatar } from "./Avatar";

/** How long typing must pause before the directory is asked. */
const TYPEAHEAD_DELAY_MS = 150;
const TYPEAHEAD_LIMIT = 8;

/** "Add a contact": finds people on the server as you type; Enter or a click adds (or opens) one. */
export function ContactTypeahead(props: {
  onPick: (username: string, isContact: boolean) => Promise<void>;
  onError: (m: string) => void;
}) {
  const { onPick, onError } = props;
  const backend = useBackend();
  const [text, setText] = useState("");
  const [found, setFound] = useState<Suggestions<FoundUser>>(CLOSED);
  const lookup = useMemo(
    () =>
      createLookup(
        (q) => backend.searchUsers(q, TYPEAHEAD_LIMIT),
        (_, users) => setFound(users === null ? CLOSED : showResults(users)),
        onError,
        TYPEAHEAD_DELAY_MS,
      ),
    [backend, onError],
  );
  useEffect(() => () => lookup.cancel(), [lookup]);

  const reset = () => {
    lookup.cancel();
    setText("");
    setFound(CLOSED);
  };
  const pick = (username: string, isContact: boolean) => {
    if (!username.trim()) return;
    onPick(username.trim(), isContact).then(reset, (e: Error) => onError(e.message));
  };
  const known = (username: string) => found.items.find((u) => u.username === username)?.is_contact ?? false;

  const onKeyDown = (e: KeyboardEvent) => {
    const out = onKey(found, e.key);
    if (out.kind === "none") return;
    e.preventDefault();
    if (out.kind === "move" || out.kind === "close") setFound(out.next);
    else if (out.kind === "pick") pick(out.item.username, out.item.is_contact);
    else if (out.kind === "submit") pick(text, known(text.trim()));
    else reset();
  };

  const listId = "chat-add-suggestions";
  const active = found.open ? found.items[found.active] : undefined;
  return (
    <div class="chat-add">
      <input
        class="chat-add-input"
        type="text"
        placeholder="Add a contact…"
        value={text}
        maxLength={MAX_QUERY_CHARS}
        onInput={(e) => {
          setText(e.currentTarget.value);
          lookup.update(e.currentTarget.value);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setFound((f) => ({ ...f, open: false }))}
        role="combobox"
        aria-expanded={found.open}
        aria-controls={listId}
        aria-activedescendant={active ? `suggest-${active.username}` : undefined}
        aria-autocomplete="list"
        aria-label="Add a contact: type a name or username"
        id="chat-add-contact"
        autoComplete="off"
      />
      {found.open && (
        <ul class="suggestions card" role="listbox" id={listId}>
          {found.items.length === 0 ? (
            <li class="suggestion empty-suggestion muted">No one named “{text.trim()}”</li>
          ) : (
            found.items.map((u, i) => (
              <li
                key={u.username}
                id={`suggest-${u.username}`}
                role="option"
                aria-selected={i === found.active}
                class={`suggestion ${i === found.active ? "active" : ""}`}
                data-username={u.username}
                // Before the input's blur closes the list.
                onMouseDown={(e) => {
                  e.preventDefault();
                  pick(u.username, u.is_contact);
                }}
                onMouseEnter={() => setFound((f) => ({ ...f, active: i }))}
              >
                <Avatar name={u.display_name || u.username} online={null} />
                <span class="suggestion-names">
                  <span class="suggestion-name">{u.display_name || u.username}</span>
                  <span class="muted">@{u.username}</span>
                </span>
                {u.is_contact ? <span class="suggestion-tag">Contact</span> : <span class="suggestion-tag add">Add</span>}
              </li>
            ))
          )}
        </ul>
      )}
    </div>
  );
}
