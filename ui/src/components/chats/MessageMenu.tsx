import type { ChatMessage } from "../../ipc";
import { TrashIcon, XIcon } from "../common/icons";

/** The right-click menu of a message: delete for me, for everyone (one's own), cancel. */
export function MessageMenu(props: {
  message: ChatMessage;
  x: number;
  y: number;
  mine: boolean;
  onDelete: (forEveryone: boolean) => void;
  onClose: () => void;
}) {
  return (
    <div class="menu card" style={{ left: `${props.x}px`, top: `${props.y}px` }} role="menu">
      <button class="menu-item" role="menuitem" onClick={() => props.onDelete(false)}>
        <TrashIcon size={14} /> Delete for me
      </button>
      {props.mine && (
        <button class="menu-item danger" role="menuitem" onClick={() => props.onDelete(true)}>
          <TrashIcon size={14} /> Delete for everyone
        </button>
      )}
      <button class="menu-item" role="menuitem" onClick={props.onClose}>
        <XIcon size={14} /> Cancel
      </button>
    </div>
  );
}
