import type { PopupSettings } from "../../ipc";
import { Toggle } from "./Toggle";

/** Settings → Notifications: which popups, from what priority, and quiet hours. */
export function PopupSettingsCard({ popups: p, onChange: update }: { popups: PopupSettings; onChange: (patch: Partial<PopupSettings>) => void }) {
  return (
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
  );
}
