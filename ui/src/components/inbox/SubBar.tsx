import type { StatusFilter } from "../../bindings/protocol";
import { CheckAllIcon, CheckIcon, TrashIcon, XIcon } from "../common/icons";

const STATUS_OPTIONS: { value: StatusFilter; label: string }[] = [
  { value: "unread", label: "Unread" },
  { value: "all", label: "All" },
  { value: "read", label: "Read" },
];

/** Under the tabs: what to do with a selection, else the read filter (or, on
 *  the Chats tab, what the list is); "Mark all read" on the right. */
export function SubBar(props: {
  selected: number;
  onMarkSelectedRead: () => void;
  onDeleteSelected: () => void;
  onClearSelection: () => void;
  /** Shown instead of the read filter (the Chats tab); null: the filter. */
  note: string | null;
  status: StatusFilter;
  onStatus: (status: StatusFilter) => void;
  canMarkAllRead: boolean;
  onMarkAllRead: () => void;
}) {
  return (
    <div class="subbar">
      {props.selected > 0 ? (
        <div class="selection">
          <span class="muted">{props.selected} selected</span>
          <button class="btn ghost" onClick={props.onMarkSelectedRead}>
            <CheckIcon size={16} /> Mark read
          </button>
          <button class="btn ghost danger" onClick={props.onDeleteSelected} data-action="delete-selected">
            <TrashIcon size={16} /> Delete
          </button>
          <button class="btn ghost" onClick={props.onClearSelection} aria-label="Clear selection">
            <XIcon size={16} />
          </button>
        </div>
      ) : props.note !== null ? (
        <span class="muted">{props.note}</span>
      ) : (
        <div class="segmented" role="radiogroup" aria-label="Read state">
          {STATUS_OPTIONS.map((o) => (
            <button
              key={o.value}
              role="radio"
              aria-checked={props.status === o.value}
              class={props.status === o.value ? "on" : ""}
              onClick={() => props.onStatus(o.value)}
            >
              {o.label}
            </button>
          ))}
        </div>
      )}
      <div class="spacer" />
      <button
        class="btn"
        onClick={props.onMarkAllRead}
        disabled={!props.canMarkAllRead}
        id="mark-all-read"
        title="Mark all read (Shift+A)"
      >
        <CheckAllIcon size={16} /> Mark all read
      </button>
    </div>
  );
}
