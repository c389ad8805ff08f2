// What the whole window follows: who is signed in, the unread counts, Do not
// disturb, and the shell's events, passed on to the views that are shown.
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";

import type { Counts } from "../bindings/protocol";
import type { ClientEvent, FocusRequest, PopupSettings, SessionInfo } from "../ipc";
import { useBackend } from "../ipc";
import { createBus, type Bus } from "./bus";

export interface Shell {
  /** null until the shell has answered. */
  info: SessionInfo | null;
  counts: Counts | null;
  dnd: boolean;
  /** Asks the shell again (after a login, logout or connection change). */
  refreshInfo(): Promise<void>;
  /** A login answered with the new session. */
  signedIn(info: SessionInfo): void;
  events: Bus<ClientEvent>;
  focus: Bus<FocusRequest>;
  settings: Bus<PopupSettings>;
}

export function useShell(): Shell {
  const backend = useBackend();
  const [info, setInfo] = useState<SessionInfo | null>(null);
  const [counts, setCounts] = useState<Counts | null>(null);
  const [dnd, setDnd] = useState(false);
  // One of each for the window's lifetime, so effects that use them run once.
  const buses = useMemo(
    () => ({ events: createBus<ClientEvent>(), focus: createBus<FocusRequest>(), settings: createBus<PopupSettings>() }),
    [],
  );

  const refreshInfo = useCallback(async () => {
    const i = await backend.sessionInfo();
    setInfo(i);
    if (i.signed_in) backend.counts().then(setCounts, () => undefined);
  }, [backend]);

  const signedIn = useCallback(
    (i: SessionInfo) => {
      setInfo(i);
      void refreshInfo();
    },
    [refreshInfo],
  );

  useEffect(() => {
    void refreshInfo();
    backend.getSettings().then((s) => setDnd(s.popups.dnd), () => undefined);
    const stops = [
      backend.onEvent((e) => {
        if (e.type === "counts_changed") setCounts(e.counts);
        if (e.type === "connection_changed") void refreshInfo();
        buses.events.publish(e);
      }),
      backend.onFocus((f) => buses.focus.publish(f)),
      backend.onSettings((p) => {
        setDnd(p.dnd);
        buses.settings.publish(p);
      }),
    ];
    return () => stops.forEach((stop) => stop());
  }, [backend, refreshInfo, buses]);

  return { info, counts, dnd, refreshInfo, signedIn, ...buses };
}
