// Settings → Notifications and General: what the shell has, changed at once on
// screen and saved in the background.
import { useCallback, useEffect, useState } from "preact/hooks";

import type { PopupSettings, SettingsView } from "../ipc";
import { useBackend } from "../ipc";

export interface SettingsState {
  /** null until the shell has answered. */
  view: SettingsView | null;
  /** Changes some popup settings. */
  update(patch: Partial<PopupSettings>): void;
  setAutostart(enabled: boolean): void;
}

export function useSettings(
  subscribeSettings: (handler: (p: PopupSettings) => void) => () => void,
  onError: (message: string) => void,
): SettingsState {
  const backend = useBackend();
  const [view, setView] = useState<SettingsView | null>(null);

  useEffect(() => {
    backend.getSettings().then(setView, (e: unknown) => onError(String(e)));
  }, [backend, onError]);
  // Changed elsewhere (Do not disturb from the tray).
  useEffect(() => subscribeSettings((popups) => setView((v) => (v ? { ...v, popups } : v))), [subscribeSettings]);

  const update = useCallback(
    (patch: Partial<PopupSettings>) => {
      if (!view) return;
      const popups = { ...view.popups, ...patch };
      setView({ ...view, popups });
      backend.setPopupSettings(popups).catch((e: unknown) => onError(String(e)));
    },
    [backend, view, onError],
  );

  const setAutostart = useCallback(
    (enabled: boolean) => {
      backend.setAutostart(enabled).then(
        (autostart) => setView((v) => (v ? { ...v, autostart } : v)),
        (e: unknown) => onError(`Start at login: ${String(e)}`),
      );
    },
    [backend, onError],
  );

  return { view, update, setAutostart };
}
