import { describe, expect, it } from "vitest";
import { act } from "preact/test-utils";

import type { PopupSettings } from "../ipc";
import { FakeBackend } from "../test/fakeBackend";
import { renderHook, run } from "../test/render";
import { createBus } from "./bus";
import { useSettings } from "./settings";

describe("useSettings", () => {
  it("changes a setting on screen at once and saves the whole set", async () => {
    const backend = new FakeBackend();
    const settings = createBus<PopupSettings>();
    const errors: string[] = [];
    const onError = (m: string) => void errors.push(m);
    const { result } = await renderHook(backend, () => useSettings(settings.subscribe, onError));
    await act(() => result.current.update({ quiet_hours: { start: "22:00", end: "07:00" } }));
    expect(result.current.view?.popups.quiet_hours).toEqual({ start: "22:00", end: "07:00" });
    expect(backend.callsOf("setPopupSettings")).toEqual([
      [
        {
          desktop: true,
          personal: false,
          broadcast: false,
          chat: true,
          min_priority: 1,
          dnd: false,
          quiet_hours: { start: "22:00", end: "07:00" },
        },
      ],
    ]);

    backend.failNext.set("setAutostart", "no autostart entry");
    await run(() => result.current.setAutostart(true));
    expect(errors).toEqual(["Start at login: Error: no autostart entry"]);
    expect(result.current.view?.autostart).toBe(false);
    await run(() => result.current.setAutostart(true));
    expect(result.current.view?.autostart).toBe(true);
  });

  it("shows Do not disturb turned on from the tray", async () => {
    const backend = new FakeBackend();
    const settings = createBus<PopupSettings>();
    const onError = () => undefined;
    const { result } = await renderHook(backend, () => useSettings(settings.subscribe, onError));
    await run(() => settings.publish({ ...backend.settingsView.popups, dnd: true }));
    expect(result.current.view?.popups.dnd).toBe(true);
  });
});
