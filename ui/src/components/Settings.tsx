import { useEffect, useState } from "preact/hooks";

import { ipc } from "../ipc";
import type { PopupSettings, SessionInfo, SettingsView } from "../ipc";

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
  const [view, setView] = useState<SettingsView | null>(null);

  useEffect(() => {
    ipc.getSettings().then(setView, (e: unknown) => onError(String(e)));
  }, [onError]);
  useEffect(() => subscribeSettings((popups) => setView((v) => (v ? { ...v, popups } : v))), [subscribeSettings]);

  if (!view) return <div class="settings" />;
  const p = view.popups;

  const update = (patch: Partial<PopupSettings>) => {
    const popups = { ...p, ...patch };
    setView({ ...view, popups });
    ipc.setPopupSettings(popups).catch((e: unknown) => onError(String(e)));
  };

  const setAutostart = (enabled: boolean) => {
    ipc.setAutostart(enabled).then(
      (on) => setView({ ...view, autostart: on }),
      (e: unknown) => onError(`Start at login: ${String(e)}`),
    );
  };

  return (
    <div class="settings">
      <h1>Settings</h1>

      <section class="card">
        <h2>Notifications</h2>
        <p class="muted">Popups only: the tray badge and the inbox always stay up to date.</p>
        <Toggle label="Do not disturb" hint="No popups until you turn this off." checked={p.dnd} onChange={(dnd) => update({ dnd })} />
        <Toggle
          label="Urgent pushes"
          hint="Popups the sender marked as desktop notifications."
          checked={p.desktop}
          onChange={(desktop) => update({ desktop })}
        />
        <Toggle label="Every personal notification" checked={p.personal} onChange={(personal) => update({ personal })} />
        <Toggle label="Every broadcast" checked={p.broadcast} onChange={(broadcast) => update({ broadcast })} />
        <Toggle label="Chat messages" checked={p.chat} onChange={(chat) => update({ chat })} />
        <div class="setting">
          <div>
            <div class="setting-label">Minimum priority</div>
            <div class="setting-hint muted">Quieter notifications still arrive, without a popup.</div>
          </div>
          <select value={String(p.min_priority)} onChange={(e) => update({ min_priority: Number(e.currentTarget.value) })}>
            <option value="1">Any</option>
            <option value="2">2 and above</option>
            <option value="3">Normal (3) and above</option>
            <option value="4">High (4) and above</option>
            <option value="5">Urgent (5) only</option>
          </select>
        </div>
        <div class="setting">
          <div>
            <div class="setting-label">Quiet hours</div>
            <div class="setting-hint muted">Every day, popups are held back in this period.</div>
          </div>
          <div class="quiet">
            <input
              type="checkbox"
              class="switch"
              checked={p.quiet_hours !== null}
              onChange={(e) => update({ quiet_hours: e.currentTarget.checked ? { start: "22:00", end: "07:00" } : null })}
              aria-label="Quiet hours"
            />
            {p.quiet_hours && (
              <>
                <input
                  type="time"
                  value={p.quiet_hours.start}
                  onChange={(e) => update({ quiet_hours: { start: e.currentTarget.value, end: p.quiet_hours?.end ?? "07:00" } })}
                />
                <span class="muted">to</span>
                <input
                  type="time"
                  value={p.quiet_hours.end}
                  onChange={(e) => update({ quiet_hours: { start: p.quiet_hours?.start ?? "22:00", end: e.currentTarget.value } })}
                />
              </>
            )}
          </div>
        </div>
      </section>

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

        <section class="card">
          <h2>Server and account</h2>
          <dl class="facts">
            <dt>Server</dt>
            <dd>
              {info.server}
              {info.local_server && <span class="tag">local</span>}
            </dd>
            <dt>Signed in as</dt>
            <dd>
              {info.display_name ?? info.username} <span class="muted">@{info.username}</span>
            </dd>
            <dt>Session token</dt>
            <dd>
              {info.storage.kind === "keyring" ? (
                "Kept in the system keyring"
              ) : (
                <span class="warn">
                  No system keyring ({info.storage.reason}); kept in {info.storage.path}, readable only by you
                </span>
              )}
            </dd>
          </dl>
          <button
            class="btn danger"
            onClick={() => ipc.logout().then(onSignedOut, (e: unknown) => onError(String(e)))}
            id="sign-out"
          >
            Sign out
          </button>
        </section>
      </div>
    </div>
  );
}

function Toggle(props: { label: string; hint?: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <label class="setting">
      <div>
        <div class="setting-label">{props.label}</div>
        {props.hint && <div class="setting-hint muted">{props.hint}</div>}
      </div>
      <input
        type="checkbox"
        class="switch"
        checked={props.checked}
        onChange={(e) => props.onChange(e.currentTarget.checked)}
      />
    </label>
  );
}
