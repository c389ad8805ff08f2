// Which view the window shows, and where a popup click or a search result
// sends it.
import { useCallback, useEffect, useState } from "preact/hooks";

import type { FocusRequest } from "../ipc";
import type { Bus } from "./bus";

export type View = "inbox" | "chats" | "settings";

export interface Navigation {
  view: View;
  show(view: View): void;
  /** The notification a popup click asked for (a new object each time). */
  inboxFocus: FocusRequest | null;
  /** The conversation to open in the chat view. */
  chatFocus: number | null;
  openConversation(id: number): void;
}

export function useNavigation(focus: Bus<FocusRequest>): Navigation {
  const [view, setView] = useState<View>("inbox");
  const [inboxFocus, setInboxFocus] = useState<FocusRequest | null>(null);
  const [chatFocus, setChatFocus] = useState<number | null>(null);

  const openConversation = useCallback((id: number) => {
    setView("chats");
    setChatFocus(id);
  }, []);

  useEffect(
    () =>
      focus.subscribe((f) => {
        if (f.conversation !== null) openConversation(f.conversation);
        else {
          setView("inbox");
          setInboxFocus(f);
        }
      }),
    [focus, openConversation],
  );

  return { view, show: setView, inboxFocus, chatFocus, openConversation };
}
