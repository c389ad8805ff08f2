#!/usr/bin/env python3
"""A fake org.freedesktop.Notifications server for the session bus.

Records every Notify call as one JSON line in the file named by the first
argument, so the end-to-end test can assert what popups the app raised.
The test clicks a popup by calling `dev.herald.FakeNotifications.Click(id)` on
the same object (e.g. with dbus-send): the server then emits
ActionInvoked(id, "default") and NotificationClosed(id, 2), as a real one does.
"""
import asyncio
import json
import sys

from dbus_next import Variant
from dbus_next.aio import MessageBus
from dbus_next.service import ServiceInterface, method, signal as dbus_signal


class Notifications(ServiceInterface):
    def __init__(self, log_path: str):
        super().__init__("org.freedesktop.Notifications")
        self.log_path = log_path
        self.next_id = 1

    @method()
    def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s", body: "s",
               actions: "as", hints: "a{sv}", expire_timeout: "i") -> "u":
        nid = replaces_id or self.next_id
        if not replaces_id:
            self.next_id += 1
        record = {"id": nid, "replaces_id": replaces_id, "app_name": app_name, "summary": summary,
                  "body": body, "actions": list(actions)}
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return nid

    @method()
    def GetCapabilities(self) -> "as":
        # Like GNOME's, KDE's and dunst's: bodies may carry markup, so a client
        # must escape text it does not mean as markup.
        return ["body", "body-markup", "actions"]

    @method()
    def GetServerInformation(self) -> "ssss":
        return ["herald-test", "herald", "1.0", "1.2"]

    @method()
    def CloseNotification(self, id: "u"):
        self.NotificationClosed(id, 3)

    @dbus_signal()
    def ActionInvoked(self, id: "u", action_key: "s") -> "us":
        return [id, action_key]

    @dbus_signal()
    def NotificationClosed(self, id: "u", reason: "u") -> "uu":
        return [id, reason]


class TestControl(ServiceInterface):
    """What the test does in place of a person at the screen."""

    def __init__(self, notifications: Notifications):
        super().__init__("dev.herald.FakeNotifications")
        self.notifications = notifications

    @method()
    def Click(self, id: "u"):
        self.notifications.ActionInvoked(id, "default")
        self.notifications.NotificationClosed(id, 2)


async def main() -> None:
    bus = await MessageBus().connect()
    service = Notifications(sys.argv[1])
    bus.export("/org/freedesktop/Notifications", service)
    bus.export("/org/freedesktop/Notifications", TestControl(service))
    await bus.request_name("org.freedesktop.Notifications")
    print("fake notification server ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
