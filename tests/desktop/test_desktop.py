#!/usr/bin/env python3
"""End-to-end: the real herald-desktop against a real herald-server.

Run by tests/desktop/run.sh inside Xvfb and a D-Bus session (fake notification
server and tray host already up). Prints "N passed, N failed" at the end.
"""
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
import struct

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.options import ArgOptions

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
APP = os.path.join(TARGET, "debug", "herald-desktop")
SERVER = os.path.join(TARGET, "debug", "herald-server")
WORK = os.environ["HERALD_E2E_WORK"]
POPUPS = os.path.join(WORK, "popups.jsonl")
SHOTS = os.environ.get("SCREENSHOTS")
ADMIN_PASSWORD = "admin-password-e2e"

results = []


def check(name, fn):
    try:
        fn()
        results.append((name, None))
        print(f"ok   {name}", flush=True)
    except Exception as e:  # noqa: BLE001 - report every failure by name
        results.append((name, e))
        print(f"FAIL {name}: {e!r}", flush=True)


def wait_for(what, fn, timeout=20.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            value = fn()
            if value:
                return value
        except Exception as e:  # noqa: BLE001
            last = e
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f" (last error: {last!r})" if last else ""))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, base, token=None):
        self.base, self.token = base, token

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.base + "/api/v1" + path, method=method)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, data, timeout=10) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None

    def login(self, username, password):
        token = self.call("POST", "/auth/login", {"username": username, "password": password, "device": "e2e"})["token"]
        return Api(self.base, token)


def png_rgba(path):
    """Decodes an 8-bit RGBA, non-interlaced PNG (what the tray crate writes)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color == 6, "expected RGBA8"
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 4
    rows, prev, i = [], bytearray(stride), 0
    while i < len(raw):
        ftype, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - 4] if x >= 4 else 0
            b = prev[x]
            c = prev[x - 4] if x >= 4 else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 255
            elif ftype == 2:
                line[x] = (line[x] + b) & 255
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, rows


def tray_badge_is_red(icon_dir):
    """The newest tray PNG has the red badge (220,38,38) in its top-right corner."""
    pngs = sorted(glob.glob(os.path.join(icon_dir, "**", "*.png"), recursive=True), key=os.path.getmtime)
    if not pngs:
        return False
    width, rows = png_rgba(pngs[-1])
    x, y = width - width // 5, 2
    px = rows[y][x * 4:x * 4 + 4]
    return tuple(px[:3]) == (220, 38, 38)


def popup_record(summary):
    """The Notify call the fake notification server recorded for `summary`."""
    if not os.path.exists(POPUPS):
        return None
    for line in open(POPUPS, encoding="utf-8"):
        rec = json.loads(line)
        if rec["summary"] == summary:
            return rec
    return None


def click_popup(popup_id):
    """What a person clicking the popup does: the server emits ActionInvoked(id, "default")."""
    subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.Notifications",
                    "/org/freedesktop/Notifications", "dev.herald.FakeNotifications.Click",
                    f"uint32:{popup_id}"], check=True, capture_output=True)


def fake_browser(bin_dir, log):
    """An `xdg-open` that records the URL instead of starting a browser."""
    os.makedirs(bin_dir, exist_ok=True)
    path = os.path.join(bin_dir, "xdg-open")
    with open(path, "w") as f:
        f.write(f'#!/bin/sh\necho "$1" >> "{log}"\n')
    os.chmod(path, 0o755)


def screenshot_root(name):
    """The whole screen, plus the tray corner (trayer, top right) enlarged."""
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        path = os.path.join(SHOTS, name)
        subprocess.run(["import", "-window", "root", path], check=False)
        subprocess.run(["convert", path, "-gravity", "NorthEast", "-crop", "44x34+0+0", "+repage",
                        "-filter", "point", "-resize", "400%", os.path.join(SHOTS, "tray-zoom.png")], check=False)


def start_driver(env):
    """tauri-driver on free ports, with `env` for the app it launches."""
    driver_bin = shutil.which("tauri-driver") or os.path.expanduser("~/.cargo/bin/tauri-driver")
    driver_port = free_port()
    log = open(os.path.join(WORK, f"tauri-driver-{driver_port}.log"), "w")
    proc = subprocess.Popen([driver_bin, "--port", str(driver_port), "--native-port", str(free_port())],
                            stdout=log, stderr=log, env=env)
    with open(os.path.join(WORK, f"driver-{driver_port}.pid"), "w") as f:
        f.write(f"{proc.pid}\n")
    wait_for("tauri-driver", lambda: socket.create_connection(("127.0.0.1", driver_port), timeout=1))
    return proc, driver_port


def no_app_running():
    """The previous app has quit: its single-instance name left the session bus
    (otherwise a new launch would only focus it and exit)."""
    out = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                          "/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames"],
                         check=True, capture_output=True, text=True).stdout
    return "SingleInstance" not in out


def open_app(driver_port, args):
    wait_for("the previous app to quit", no_app_running)
    options = ArgOptions()
    options.set_capability("tauri:options", {"application": APP, "args": args})
    options.set_capability("browserName", "wry")
    driver = webdriver.Remote(command_executor=f"http://127.0.0.1:{driver_port}", options=options)
    driver.set_window_size(1100, 720)
    return driver


def end_session(driver):
    """Ends the WebDriver session and waits until its app has exited. WebKitWebDriver
    stops the app only after it has answered the request, so stopping tauri-driver
    (and WebKitWebDriver with it) right away could orphan the app, still holding the
    single-instance name that makes the next launch only focus it and exit."""
    try:
        driver.quit()
    except Exception as e:  # noqa: BLE001
        print(f"note: ending the WebDriver session failed: {e!r}", flush=True)
    wait_for("the app to exit with its session", no_app_running)


def refuses_connections(url):
    try:
        urllib.request.urlopen(url + "/healthz", timeout=1)
        return False
    except OSError:
        return True


def text_of(driver, selector):
    """The text of the first element matching `selector`, read in one step (the
    list may re-render between finding an element and reading it)."""
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e && e.textContent",
                                 selector)


def row_titles(driver):
    return [e.get_attribute("textContent") for e in driver.find_elements(By.CSS_SELECTOR, ".row .title")]


def local_server_mode():
    """`--local-server`: the app runs the bundled herald-server itself and signs in."""
    app_data = os.path.join(WORK, "app-local")
    env = {k: v for k, v in os.environ.items() if k not in ("HERALD_USERNAME", "HERALD_PASSWORD")}
    env.update(HERALD_DESKTOP_DATA_DIR=app_data, RUST_LOG="info")
    driver_proc, driver_port = start_driver(env)
    settings_path = os.path.join(app_data, "settings.json")
    hello = "Hello from the local server"
    seen = {}
    try:
        driver = open_app(driver_port, ["--local-server"])
        try:
            def starts_and_signs_in():
                wait_for("the message center", lambda: driver.find_elements(By.ID, "mark-all-read"), timeout=60)
                settings = json.load(open(settings_path, encoding="utf-8"))
                assert settings["local_server"] is True and settings["username"] == "admin", settings
                seen["url"] = settings["server"]
                assert seen["url"].startswith("http://127.0.0.1:"), seen

            check("--local-server starts the bundled server and signs in as its admin", starts_and_signs_in)

            def delivers():
                password = open(os.path.join(app_data, "server", "admin-password"), encoding="utf-8").read().strip()
                admin = Api(seen["url"]).login("admin", password)
                admin.call("POST", "/notifications", {"to": ["admin"], "title": hello})
                wait_for("the notification in the window", lambda: hello in row_titles(driver))

            check("the local server delivers to the window", delivers)
        finally:
            end_session(driver)

        def stops_with_the_app():
            wait_for("the local server to stop", lambda: refuses_connections(seen["url"]))

        check("quitting the app stops the local server", stops_with_the_app)

        driver = open_app(driver_port, [])
        try:
            def comes_back():
                wait_for("the cached notification", lambda: hello in row_titles(driver), timeout=60)
                wait_for("the server again", lambda: not refuses_connections(seen["url"]))
                settings = json.load(open(settings_path, encoding="utf-8"))
                assert settings["server"] == seen["url"], settings

            check("the next start brings the local server back at the same address, signed in", comes_back)
        finally:
            end_session(driver)
    finally:
        driver_proc.terminate()


def main():
    data = os.path.join(WORK, "server")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = open(os.path.join(WORK, "server.log"), "w")
    env = dict(os.environ, HERALD_ADMIN_PASSWORD=ADMIN_PASSWORD)
    server = subprocess.Popen([SERVER, "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
                              stdout=server_log, stderr=server_log, env=env)
    with open(os.path.join(WORK, "server.pid"), "w") as f:
        f.write(f"{server.pid}\n")
    wait_for("the server", lambda: urllib.request.urlopen(base + "/healthz", timeout=1).status == 200)

    admin = Api(base).login("admin", ADMIN_PASSWORD)
    admin.call("POST", "/users", {"username": "alice", "password": "alice-password", "display_name": "Alice Tester"})
    alice = Api(base).login("alice", "alice-password")

    def send(**body):
        body.setdefault("to", ["alice"])
        return admin.call("POST", "/notifications", body)

    # Some history, so the window has something to list.
    send(title="Nightly regression finished: 3 failed", content="Suite web-e2e on staging.\n3 failed, 412 passed, 6 skipped.",
         category="test-run", link="https://ci.example.com/plans/42", priority=4)
    send(title="Task assigned: verify the checkout fix", content="Please re-test HER-118 on build 2026.11.25 before release.",
         category="task", priority=3)
    admin.call("POST", "/notifications", {"broadcast": True, "title": "Staging is down for maintenance 18:00–18:30",
                                           "content": "Deploys are paused during the window.", "category": "ops"})
    send(title="Smoke tests passed on build 2026.11.25", content="All 58 smoke tests passed in 4m 12s.",
         category="test-run", link="https://ci.example.com/plans/41", priority=2)

    app_data = os.path.join(WORK, "app")
    opened_log = os.path.join(WORK, "opened-links.txt")
    fake_bin = os.path.join(WORK, "bin")
    fake_browser(fake_bin, opened_log)
    driver_env = dict(os.environ, HERALD_USERNAME="alice", HERALD_PASSWORD="alice-password",
                      HERALD_DESKTOP_DATA_DIR=app_data, RUST_LOG="info",
                      PATH=fake_bin + os.pathsep + os.environ["PATH"])
    driver_proc, driver_port = start_driver(driver_env)
    driver = open_app(driver_port, ["--server", base])

    try:
        def app_logged_in_lists_history():
            rows = wait_for("the message list", lambda: driver.find_elements(By.CSS_SELECTOR, ".row .title"), timeout=30)
            titles = [r.get_attribute("textContent") for r in rows]
            assert "Nightly regression finished: 3 failed" in titles, titles

        check("app logs in unattended and lists the user's notifications", app_logged_in_lists_history)

        title, body = "Build #43 failed on main", "2 tests failed in checkout-flow"

        def desktop_popup():
            send(title=title, content=body, category="test-run", desktop=True, priority=5,
                 link="https://ci.example.com/plans/43")
            rec = wait_for("the popup", lambda: popup_record(title))
            assert rec["body"] == body, rec
            assert rec["app_name"] == "Herald", rec

        check("a desktop:true notification raises a native popup with its title and body", desktop_popup)

        def window_lists_new_item():
            wait_for("the new row", lambda: any(e.get_attribute("textContent") == title
                                                 for e in driver.find_elements(By.CSS_SELECTOR, ".row .title")))

        check("the window lists the new notification", window_lists_new_item)

        def tray_shows_count():
            assert alice.call("GET", "/notifications/counts")["unread_total"] == 5
            wait_for("a red badge in the tray icon", lambda: tray_badge_is_red(os.path.join(app_data, "tray")))
            wait_for("5 on the All tab", lambda: driver.find_element(
                By.CSS_SELECTOR, '[data-tab="all"] .pill').get_attribute("textContent") == "5")

        check("the tray icon and the tabs show the unread count", tray_shows_count)

        time.sleep(0.5)
        screenshot_root("tray-badge.png")
        if SHOTS:
            # Open the newest item for the message-center screenshot.
            rows = driver.find_elements(By.CSS_SELECTOR, ".row")
            rows[1].click()
            # Away from the row, so its hover actions do not cover the time.
            ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, ".detail h2")).perform()
            time.sleep(0.4)
            driver.save_screenshot(os.path.join(SHOTS, "message-center.png"))

        def mark_all_read():
            driver.find_element(By.ID, "mark-all-read").click()
            wait_for("server counts at 0", lambda: alice.call("GET", "/notifications/counts")["unread_total"] == 0)
            wait_for("no badge", lambda: not tray_badge_is_red(os.path.join(app_data, "tray")))

        check("mark all read in the window brings the server's counts to 0", mark_all_read)

        def delete_one():
            rows = driver.find_elements(By.CSS_SELECTOR, ".row")
            victim = rows[-1].get_attribute("data-id")
            driver.execute_script("arguments[0].querySelector('.row-actions .danger').click()", rows[-1])
            ids = lambda: [n["id"] for n in alice.call("GET", "/notifications?limit=50")["items"]]
            wait_for("the deletion on the server", lambda: int(victim) not in ids())

        check("deleting a row deletes it on the server", delete_one)

        def is_read(nid):
            return any(n["id"] == nid and n["read"] for n in alice.call("GET", "/notifications?limit=50")["items"])

        def popup_click_opens_the_item():
            # Elsewhere in the window, so the click has to bring the message center back.
            driver.find_element(By.CSS_SELECTOR, '[data-view="settings"]').click()
            wait_for("settings", lambda: driver.find_elements(By.ID, "sign-out"))
            popup_title = "Review requested: payment retries"
            nid = send(title=popup_title, content="Bob asks you to review HER-131.", category="review",
                       desktop=True, priority=4)["id"]
            rec = wait_for("the popup", lambda: popup_record(popup_title))
            assert "default" in rec["actions"], rec
            assert not is_read(nid)
            click_popup(rec["id"])
            wait_for("the item opened in the window", lambda: driver.find_elements(
                By.CSS_SELECTOR, f'.detail[data-id="{nid}"]'))
            row = driver.find_element(By.CSS_SELECTOR, f'.row[data-id="{nid}"]')
            assert "opened" in row.get_attribute("class"), row.get_attribute("class")
            wait_for("the clicked notification read on the server", lambda: is_read(nid))

        check("clicking a popup shows the window at its notification and marks it read", popup_click_opens_the_item)

        def popup_click_opens_the_link():
            popup_title = "Load test finished: p99 412 ms"
            link = "https://ci.example.com/plans/44"
            nid = send(title=popup_title, content="See the report.", category="test-run", desktop=True,
                       link=link)["id"]
            rec = wait_for("the popup", lambda: popup_record(popup_title))
            click_popup(rec["id"])
            wait_for("the link opened in the browser", lambda: os.path.exists(opened_log)
                     and link in open(opened_log, encoding="utf-8").read().split())
            wait_for("the clicked notification read on the server", lambda: is_read(nid))

        check("clicking a popup with a link opens the link in the browser and marks it read", popup_click_opens_the_link)

        def settings_view():
            driver.find_element(By.CSS_SELECTOR, '[data-view="settings"]').click()
            wait_for("settings", lambda: driver.find_elements(By.ID, "sign-out"))
            text = driver.find_element(By.CSS_SELECTOR, ".settings").get_attribute("textContent")
            assert "alice" in text and "Do not disturb" in text, text
            if SHOTS:
                time.sleep(0.3)
                driver.save_screenshot(os.path.join(SHOTS, "settings.png"))

        check("settings show the account and popup options", settings_view)

        def popup_body_escaped():
            # Past the burst window of the popups above, so this one shows on its own.
            time.sleep(2.5)
            markup_title = "p99 regressed on checkout"
            send(title=markup_title, content="p99 < 500 ms & <b>3</b> slow", desktop=True)
            rec = wait_for("the popup", lambda: popup_record(markup_title))
            assert rec["body"] == "p99 &lt; 500 ms &amp; &lt;b&gt;3&lt;/b&gt; slow", rec

        check("a popup body reaches a server that renders markup escaped, as plain text", popup_body_escaped)

        # Chat: bob (another user) writes to alice; she reads and replies in the window.
        admin.call("POST", "/users", {"username": "bob", "password": "bob-password", "display_name": "Bob Builder"})
        bob = Api(base).login("bob", "bob-password")
        bob.call("POST", "/contacts", {"username": "alice"})
        greeting = "Hi Alice, did the checkout fix pass on staging?"
        # Past the burst window of the popups above, so the chat popups stay single.
        time.sleep(2.5)
        first = bob.call("POST", "/messages", {"to": "alice", "content": greeting, "client_id": "e2e-bob-1"})
        conversation = first["conversation_id"]
        carol_id = admin.call("POST", "/users", {"username": "carol", "password": "carol-password",
                                                  "display_name": "Carol Ops"})["id"]
        carol = Api(base).login("carol", "carol-password")
        staging = "Staging is back up after maintenance."
        carol.call("POST", "/messages", {"to": "alice", "content": staging, "client_id": "e2e-carol-1"})

        def chat_popup_opens_the_conversation():
            rec = wait_for("carol's message as a popup", lambda: popup_record("Carol Ops"))
            assert rec["body"] == staging, rec
            # Elsewhere in the window, so the click has to bring the conversation up.
            driver.find_element(By.CSS_SELECTOR, '[data-view="settings"]').click()
            wait_for("settings", lambda: driver.find_elements(By.ID, "sign-out"))
            click_popup(rec["id"])
            wait_for("carol's conversation open in the window", lambda: any(
                staging in e.get_attribute("textContent")
                for e in driver.find_elements(By.CSS_SELECTOR, "#chat-history .bubble-text")))

        check("a chat message raises a popup titled with its sender; clicking it opens the conversation",
              chat_popup_opens_the_conversation)

        def chat_message_appears():
            driver.find_element(By.CSS_SELECTOR, '[data-view="chats"]').click()
            row = wait_for("the conversation", lambda: driver.find_elements(
                By.CSS_SELECTOR, f'[data-conversation="{conversation}"]'))
            row[0].click()
            # Add bob as a contact from the window: it opens the existing conversation.
            add = driver.find_element(By.ID, "chat-add-contact")
            add.send_keys("bo")
            text = wait_for("bob suggested", lambda: text_of(driver, '.suggestion.active[data-username="bob"]'))
            assert "Bob Builder" in text and "@bob" in text and "Add" in text, text
            add.send_keys(Keys.ENTER)
            wait_for("bob in alice's contacts", lambda: any(
                c["username"] == "bob" for c in alice.call("GET", "/contacts")))
            # The box clears when the app's answer reaches the window, which can be
            # a moment after the server has stored the contact.
            wait_for("the box cleared after the add", lambda: add.get_attribute("value") == "")
            wait_for("bob's presence dot", lambda: driver.find_elements(
                By.CSS_SELECTOR, f'[data-conversation="{conversation}"] .presence'))
            wait_for("bob's message in the history", lambda: any(
                greeting in e.get_attribute("textContent")
                for e in driver.find_elements(By.CSS_SELECTOR, "#chat-history .bubble-text")))

        check("a chat message from another user appears in the chat view; adding its sender as a contact", chat_message_appears)

        reply = "Yes, all 58 smoke tests passed. Shipping it!"

        def reply_reaches_sender():
            box = driver.find_element(By.ID, "chat-composer")
            box.click()
            box.send_keys(reply)
            box.send_keys(Keys.ENTER)

            def received():
                page = bob.call("GET", f"/conversations/{conversation}/messages")
                return any(m["content"] == reply and m["sender"] == "alice" for m in page["items"])

            wait_for("the reply on the server", received)
            items = bob.call("GET", f"/conversations/{conversation}/messages")["items"]
            newest = max(m["id"] for m in items)
            bob.call("POST", f"/conversations/{conversation}/read", {"up_to": newest})
            wait_for("the read mark on the reply", lambda: driver.find_elements(By.CSS_SELECTOR, ".read-mark"))
            wait_for("the reply delivered in the window", lambda: any(
                reply in e.get_attribute("textContent")
                for e in driver.find_elements(By.CSS_SELECTOR, "#chat-history .bubble.sent")))
            if SHOTS:
                time.sleep(0.5)
                driver.save_screenshot(os.path.join(SHOTS, "chat.png"))

        check("a reply typed in the window reaches the other user", reply_reaches_sender)

        def typeahead_marks_contacts():
            add = driver.find_element(By.ID, "chat-add-contact")
            add.send_keys("b")
            text = wait_for("bob suggested", lambda: text_of(driver, '.suggestion[data-username="bob"]'))
            assert "Contact" in text, text
            # A combobox to screen readers: says when its list is open and which option is active.
            assert add.get_attribute("role") == "combobox"
            assert add.get_attribute("aria-expanded") == "true"
            assert add.get_attribute("aria-activedescendant") == "suggest-bob", add.get_attribute("aria-activedescendant")
            if SHOTS:
                time.sleep(0.3)
                driver.save_screenshot(os.path.join(SHOTS, "contact-typeahead.png"))
            add.send_keys(Keys.ESCAPE)
            wait_for("the suggestions closed", lambda: not driver.find_elements(By.CSS_SELECTOR, ".suggestion"))
            assert add.get_attribute("aria-expanded") == "false", add.get_attribute("aria-expanded")
            add.send_keys(Keys.ESCAPE)
            wait_for("the box cleared", lambda: add.get_attribute("value") == "")

        check("the contact type-ahead says who is already a contact; Escape closes, then clears", typeahead_marks_contacts)

        def search_box():
            driver.find_element(By.CSS_SELECTOR, '[data-view="inbox"]').click()
            return wait_for("the search box", lambda: driver.find_elements(By.ID, "search"))[0]

        def search_highlights_notifications():
            box = search_box()
            box.click()
            box.send_keys("build")

            wait_for("highlighted matches", lambda: len(driver.find_elements(By.CSS_SELECTOR, ".row mark")) >= 2)
            titles = row_titles(driver)
            assert "Build #43 failed on main" in titles, titles
            assert "Review requested: payment retries" not in titles, titles
            marks = [m.get_attribute("textContent").lower() for m in driver.find_elements(By.CSS_SELECTOR, ".row mark")]
            assert all(m.startswith("build") for m in marks), marks
            if SHOTS:
                driver.find_element(By.CSS_SELECTOR, ".row").click()
                wait_for("the detail", lambda: driver.find_elements(By.CSS_SELECTOR, ".detail h2"))
                ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, ".detail-pane")).perform()
                time.sleep(0.5)
                driver.save_screenshot(os.path.join(SHOTS, "search.png"))
            box.send_keys(Keys.ESCAPE)
            wait_for("the query cleared", lambda: box.get_attribute("value") == "")
            wait_for("the whole list back", lambda: "Review requested: payment retries" in row_titles(driver))

        check("search highlights matching notifications; Escape clears it", search_highlights_notifications)

        def search_finds_chat_messages():
            box = search_box()
            box.send_keys("maintenance")
            more = wait_for("matching chat messages", lambda: driver.find_elements(By.ID, "show-message-hits"))
            assert "1 result in chats" in more[0].get_attribute("textContent"), more[0].get_attribute("textContent")
            more[0].click()
            hit = wait_for("carol's message", lambda: driver.find_elements(By.CSS_SELECTOR, "#message-hits .row"))
            assert "Staging is back up" in hit[0].get_attribute("textContent"), hit[0].get_attribute("textContent")
            hit[0].click()
            wait_for("carol's conversation", lambda: any(
                "Staging is back up" in e.get_attribute("textContent")
                for e in driver.find_elements(By.CSS_SELECTOR, "#chat-history .bubble-text")))

        check("search finds chat messages too and opens their conversation", search_finds_chat_messages)

        def search_without_results():
            box = search_box()
            box.send_keys("zebra")
            wait_for("the empty state", lambda: any(
                e.get_attribute("textContent") == "No results for “zebra”"
                for e in driver.find_elements(By.CSS_SELECTOR, ".empty h3")))

        check("a search that finds nothing says so", search_without_results)

        def carol_conversation():
            driver.find_element(By.CSS_SELECTOR, '[data-view="chats"]').click()
            with_carol = alice.call("GET", "/conversations?peer=carol")["items"][0]["id"]
            wait_for("carol's conversation", lambda: driver.find_elements(
                By.CSS_SELECTOR, f'[data-conversation="{with_carol}"]'))[0].click()
            wait_for("its history", lambda: any("Staging is back up" in e.get_attribute("textContent")
                                                for e in driver.find_elements(By.CSS_SELECTOR, "#chat-history .bubble-text")))
            return with_carol

        def write(text):
            box = driver.find_element(By.ID, "chat-composer")
            box.click()
            box.send_keys(text)
            box.send_keys(Keys.ENTER)

        def failed_bubble(text):
            """The bubble of `text`, once it shows "not sent"."""
            def find():
                for bubble in driver.find_elements(By.CSS_SELECTOR, "#chat-history .bubble.failed"):
                    if bubble.find_element(By.CSS_SELECTOR, ".bubble-text").get_attribute("textContent") == text:
                        return bubble
                return None
            return wait_for(f"{text!r} marked not sent", find)

        def failed_send_retried():
            conversation = carol_conversation()
            admin.call("PATCH", f"/users/{carol_id}", {"disabled": True})
            text = "Is staging still up?"
            write(text)
            bubble = failed_bubble(text)
            assert "not sent" in bubble.find_element(By.CSS_SELECTOR, ".bubble-meta").get_attribute("textContent")
            admin.call("PATCH", f"/users/{carol_id}", {"disabled": False})
            bubble.find_element(By.CSS_SELECTOR, '[data-action="retry"]').click()
            # Disabling carol ended her sessions.
            carol_again = Api(base).login("carol", "carol-password")
            wait_for("the retried message at carol's", lambda: any(
                m["content"] == text and m["sender"] == "alice"
                for m in carol_again.call("GET", f"/conversations/{conversation}/messages")["items"]))
            wait_for("the retried message delivered in the window", lambda: any(
                text == e.get_attribute("textContent")
                for e in driver.find_elements(By.CSS_SELECTOR, "#chat-history .bubble.sent .bubble-text")))
            assert not driver.find_elements(By.CSS_SELECTOR, "#chat-history .bubble.failed")

        check("a chat message the server refused shows \"not sent\"; Retry sends it once the server takes it",
              failed_send_retried)

        def failed_send_discarded():
            admin.call("PATCH", f"/users/{carol_id}", {"disabled": True})
            text = "Never mind."
            write(text)
            failed_bubble(text).find_element(By.CSS_SELECTOR, '[data-action="discard"]').click()
            wait_for("the bubble gone", lambda: not any(
                text == e.get_attribute("textContent")
                for e in driver.find_elements(By.CSS_SELECTOR, "#chat-history .bubble-text")))
            admin.call("PATCH", f"/users/{carol_id}", {"disabled": False})

        check("Discard drops a chat message the server refused", failed_send_discarded)
    finally:
        end_session(driver)
        driver_proc.terminate()
        server.terminate()
        server.wait(timeout=10)

    local_server_mode()

    failed = [name for name, err in results if err]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed", flush=True)
    if failed:
        logs = sorted(glob.glob(os.path.join(WORK, "tauri-driver-*.log")))
        logs += [os.path.join(WORK, "server.log"), os.path.join(WORK, "fake.log"),
                 os.path.join(WORK, "app-local", "server", "server.log")]
        for path in logs:
            log = os.path.relpath(path, WORK)
            if os.path.exists(path):
                print(f"--- {log} (last 40 lines)")
                print("".join(open(path, encoding="utf-8", errors="replace").readlines()[-40:]))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
