import type { PopupSettings, SessionInfo } from "../../ipc";
import { useSettings } from "../../state/settings";
import { AccountCard } from "./AccountCard";
import { PopupSettingsCard } from "./PopupSettingsCard";
import { Toggle } from "./Toggle";

export function Settings({
  info,
  onSignedOut,
  onError,
  subscribeSettings,
}: {
  info: SessionInfo;
  onSignedOut: () => void;
  onError: (m: string) => void;
  subscribeSettings: (h: (p: PopupSettings) => void) => () => void;
}) {
  const { view, update, setAutostart } = useSettings(subscribeSettings, onError);
  if (!view) return <div class="settings" />;

  return (
    <div class="settings">
      <h1>Settings</h1>
      <PopupSettingsCard popups={view.popups} onChange={update} />
      <div class="settings-side">
        <section class="card">
          <h2>General</h2>
          <Toggle
            label="Start Herald when I log in"
            hint="Starts in the tray, without opening this window."
            checked={view.autostart}
            onChange={setAutostart}
          />
        </section>
        <AccountCard info={info} onSignedOut={onSignedOut} onError={onError} />
      </div>
    </div>
  );
}
