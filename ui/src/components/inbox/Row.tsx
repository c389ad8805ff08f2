import type { Notification } from "../../bindings/protocol";
import type { SnippetPart } from "../../ipc";
import { fullTime, isWebLink, preview, relativeTime } from "../../lib/format";
import { snippetField } from "../../lib/search";
import { Chip } from "../common/Chip";
import { CheckIcon, EnvelopeIcon, LinkIcon, MegaphoneIcon, TrashIcon } from "../common/icons";
import { Snippet } from "../common/Snippet";

/** One notification in the list: read state, title, category, preview, hover actions. */
export function Row(props: {
  n: Notification;
  snippet: SnippetPart[] | undefined;
  focused: boolean;
  opened: boolean;
  selected: boolean;
  onOpen: () => void;
  onSelect: (shift: boolean) => void;
  onToggleRead: () => void;
  onDelete: () => void;
}) {
  const { n } = props;
  const inTitle = props.snippet !== undefined && snippetField(n, props.snippet) === "title";
  const cls = ["row", n.read ? "read" : "unread", props.focused && "focused", props.opened && "opened", props.selected && "selected"]
    .filter(Boolean)
    .join(" ");
  return (
    <li class={cls} data-id={n.id} role="option" aria-selected={props.opened} onClick={props.onOpen}>
      <label class="check" onClick={(e) => e.stopPropagation()}>
        <input
          type="checkbox"
          checked={props.selected}
          onClick={(e) => props.onSelect(e.shiftKey)}
          aria-label={`Select ${n.title}`}
        />
      </label>
      <span class="dot" aria-label={n.read ? "read" : "unread"} />
      <div class="row-main">
        <div class="line1">
          <span class="title">{inTitle && props.snippet ? <Snippet parts={props.snippet} /> : n.title}</span>
          {n.priority >= 4 && <span class={`prio p${n.priority}`}>{n.priority === 5 ? "Urgent" : "High"}</span>}
          <span class="time" title={fullTime(n.created_at)}>
            {relativeTime(n.created_at)}
          </span>
        </div>
        <div class="line2">
          {n.kind === "broadcast" && (
            <span class="kind" title="Broadcast to everyone">
              <MegaphoneIcon size={14} />
            </span>
          )}
          {n.category && <Chip category={n.category} />}
          <span class="preview">
            {props.snippet && !inTitle ? (
              <Snippet parts={props.snippet} />
            ) : (
              preview(n.content) || <em class="muted">No details</em>
            )}
          </span>
          {isWebLink(n.link) && (
            <span class="has-link" title={n.link}>
              <LinkIcon size={14} />
            </span>
          )}
        </div>
      </div>
      <div class="row-actions" onClick={(e) => e.stopPropagation()}>
        <button class="icon-btn" onClick={props.onToggleRead} title={n.read ? "Mark unread" : "Mark read"}>
          {n.read ? <EnvelopeIcon size={16} /> : <CheckIcon size={16} />}
        </button>
        <button class="icon-btn danger" onClick={props.onDelete} title="Delete">
          <TrashIcon size={16} />
        </button>
      </div>
    </li>
  );
}
