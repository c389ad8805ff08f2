// The message center's multi-selection: click toggles, Shift+click selects a
// range from the last row clicked.
import { useCallback, useState } from "preact/hooks";

import type { Notification } from "../bindings/protocol";
import { selectRange, toggleSelected } from "../lib/inbox";

export interface Selection {
  selected: ReadonlySet<number>;
  /** Toggles `id`, or with `shift` adds the range from the last one picked. */
  pick(visible: Notification[], id: number, shift: boolean): void;
  clear(): void;
}

export function useSelection(): Selection {
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [anchor, setAnchor] = useState<number | null>(null);
  const pick = useCallback(
    (visible: Notification[], id: number, shift: boolean) => {
      setSelected((s) => (shift ? selectRange(visible, s, anchor, id) : toggleSelected(s, id)));
      setAnchor(id);
    },
    [anchor],
  );
  const clear = useCallback(() => setSelected(new Set()), []);
  return { selected, pick, clear };
}
