// The message center's keyboard: j/k or arrows move, Enter opens, o opens the
// link too, x or Space selects, u toggles read, # or Delete deletes, Shift+A
// marks all read, / searches, Escape backs out of the innermost thing. Keys
// typed into a field are the field's.
import { useEffect } from "preact/hooks";
import type { RefObject } from "preact";

import type { Notification } from "../../bindings/protocol";
import { isWebLink } from "../../lib/format";
import { moveFocus } from "../../lib/inbox";
import { escapeAction } from "../../lib/search";

export interface InboxKeys {
  searchRef: RefObject<HTMLInputElement | null>;
  visible: Notification[];
  focused: number | null;
  setFocused: (id: number | null) => void;
  selected: ReadonlySet<number>;
  query: string;
  clearQuery: () => void;
  clearSelection: () => void;
  toggleSelected: (id: number) => void;
  open: (n: Notification) => void;
  openLink: (url: string) => void;
  markRead: (ids: number[], read: boolean) => void;
  remove: (ids: number[]) => void;
  markAllRead: () => void;
}

export function useInboxKeys(k: InboxKeys) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
      if (e.key === "/" && !typing) {
        e.preventDefault();
        k.searchRef.current?.focus();
        return;
      }
      if (e.key === "Escape") {
        const action = escapeAction({ inSearchBox: e.target === k.searchRef.current, query: k.query, selected: k.selected.size });
        if (action === "clear-query") k.clearQuery();
        else if (action === "clear-selection") k.clearSelection();
        else if (action === "leave-search" || typing) (e.target as HTMLElement).blur();
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      const focusedItem = k.visible.find((n) => n.id === k.focused);
      switch (e.key) {
        case "ArrowDown":
        case "j":
          e.preventDefault();
          k.setFocused(moveFocus(k.visible, k.focused, 1));
          break;
        case "ArrowUp":
        case "k":
          e.preventDefault();
          k.setFocused(moveFocus(k.visible, k.focused, -1));
          break;
        case "Enter":
          if (focusedItem) k.open(focusedItem);
          break;
        case "o":
          if (focusedItem) {
            k.open(focusedItem);
            if (isWebLink(focusedItem.link)) k.openLink(focusedItem.link);
          }
          break;
        case "x":
        case " ":
          e.preventDefault();
          if (k.focused !== null) k.toggleSelected(k.focused);
          break;
        case "u":
          if (focusedItem) k.markRead([focusedItem.id], !focusedItem.read);
          break;
        case "Delete":
        case "#":
          if (k.selected.size) k.remove([...k.selected]);
          else if (focusedItem) k.remove([focusedItem.id]);
          break;
        case "A":
          k.markAllRead();
          break;
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });
}
