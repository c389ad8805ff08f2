#!/usr/bin/env python3
"""A fake org.freedesktop.Notifications server for the session bus.

Records every Notify call as one JSON line in the file named by the first
argument, so the end-to-end test can assert what popups the app raised.
Sending `SIGUSR1` makes it emit ActionInvoked(last id, "default") — a click.
"""
import asyncio
import json
import signal
import sys

from dbus_next import Variant
from dbus_next.aio import MessageBus
from dbus_next.service import ServiceInterface, method, signal as dbus_signal


class Notifications(ServiceInterface):
    def __init__(self, log_path: str):
        super().__init__("org.freedesktop.Notifications")
        self.log_path = log_path
        self.next_id = 1
        self.last_id = 0

    @method()
    def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s", body: "s",
               actions: "as", hints: "a{sv}", expire_timeout: "i") -> "u":
        nid = replaces_id or self.next_id
        if not replaces_id:
            self.next_id += 1
        self.last_id = nid
        record = {"id": nid, "replaces_id": replaces_id, "app_name": app_name, "summary": summary,
                  "body": body, "actions": list(actions)}
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return nid

    @method()
    def GetCapabilities(self) -> "as":
        return ["body", "actions"]

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


async def main() -> None:
    bus = await MessageBus().connect()
    service = Notifications(sys.argv[1])
    bus.export("/org/freedesktop/Notifications", service)
    await bus.request_name("org.freedesktop.Notifications")
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, lambda: service.ActionInvoked(service.last_id, "default"))
    print("fake notification server ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
