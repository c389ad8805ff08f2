import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";

import type { Counts } from "../bindings/protocol";
import { ipc } from "../ipc";
import type { ClientEvent, FocusRequest, PopupSettings, SessionInfo } from "../ipc";
import { countLabel, initials } from "../lib/format";
import { ChatIcon, CloudOffIcon, GearIcon, InboxIcon, MoonIcon, XIcon } from "./icons";
import { Chats } from "./Chats";
import { Inbox } from "./Inbox";
import { Login } from "./Login";
import { Settings } from "./Settings";

type View = "inbox" | "chats" | "settings";

type Listener<T> = (value: T) => void;

/** A tiny fan-out so each view subscribes to shell events for as long as it is shown. */
function useBus<T>() {
  const listeners = useRef(new Set<Listener<T>>());
  const subscribe = useCallback((l: Listener<T>) => {
    listeners.current.add(l);
    return () => {
      listeners.current.delete(l);
    };
  }, []);
  const publish = useCallback((v: T) => listeners.current.forEach((l) => l(v)), []);
  // One object for the component's lifetime, so effects that use it run once.
  return useMemo(() => ({ subscribe, publish }), [subscribe, publish]);
}

export function App() {
  const [info, setInfo] = useState<SessionInfo | null>(null);
  const [counts, setCounts] = useState<Counts | null>(null);
  const [view, setView] = useState<View>("inbox");
  const [focus, setFocus] = useState<FocusRequest | null>(null);
  const [chatFocus, setChatFocus] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dnd, setDnd] = useState(false);
  const events = useBus<ClientEvent>();
  const settingsBus = useBus<PopupSettings>();

  const refreshInfo = useCallback(async () => {
    const i = await ipc.sessionInfo();
    setInfo(i);
    if (i.signed_in) ipc.counts().then(setCounts, () => undefined);
  }, []);

  useEffect(() => {
    void refreshInfo();
    ipc.getSettings().then((s) => setDnd(s.popups.dnd), () => undefined);
    const unlisten = [
      ipc.onEvent((e) => {
        if (e.type === "counts_changed") setCounts(e.counts);
        if (e.type === "connection_changed") void refreshInfo();
        events.publish(e);
      }),
      ipc.onFocus((f) => {
        if (f.conversation !== null) {
          setView("chats");
          setChatFocus(f.conversation);
        } else {
          setView("inbox");
          setFocus(f);
        }
      }),
      ipc.onSettings((p) => {
        setDnd(p.dnd);
        settingsBus.publish(p);
      }),
    ];
    return () => unlisten.forEach((stop) => stop());
  }, [refreshInfo, events, settingsBus]);

  const showError = useCallback((m: string) => setError(m), []);
  const openConversation = useCallback((id: number) => {
    setView("chats");
    setChatFocus(id);
  }, []);

  useEffect(() => {
    if (!error) return;
    const t = setTimeout(() => setError(null), 6000);
    return () => clearTimeout(t);
  }, [error]);

  useEffect(() => {
    document.title = counts && counts.unread_total > 0 ? `Herald (${countLabel(counts.unread_total)})` : "Herald";
  }, [counts]);

  if (info === null) return <div class="boot" />;
  if (!info.signed_in) return <Login info={info} onSignedIn={(i) => { setInfo(i); setView("inbox"); void refreshInfo(); }} />;

  const name = info.display_name ?? info.username ?? "?";
  return (
    <div class="app">
      <nav class="rail" aria-label="Sections">
        <img class="logo" src="/icon.png" alt="Herald" width={32} height={32} />
        <RailButton label="Inbox" active={view === "inbox"} onClick={() => setView("inbox")} count={counts ? counts.personal + counts.broadcast : 0}>
          <InboxIcon size={20} />
        </RailButton>
        <RailButton label="Chats" active={view === "chats"} onClick={() => setView("chats")} count={counts?.chats ?? 0}>
          <ChatIcon size={20} />
        </RailButton>
        <div class="spacer" />
        {dnd && (
          <span class="dnd" title="Do not disturb is on">
            <MoonIcon size={18} />
          </span>
        )}
        <RailButton label="Settings" active={view === "settings"} onClick={() => setView("settings")} count={0}>
          <GearIcon size={20} />
        </RailButton>
        <div class="avatar" title={`${name} on ${info.server ?? ""} — ${info.online ? "online" : "offline"}`}>
          {initials(name)}
          <span class={`presence ${info.online ? "on" : "off"}`} />
        </div>
      </nav>
      <main class="main">
        {!info.online && (
          <div class="banner" role="status" id="offline-banner">
            <CloudOffIcon size={16} />
            <span>
              You're offline{info.offline_reason ? ` — ${info.offline_reason}` : ""}. Herald reconnects by itself and catches up.
            </span>
          </div>
        )}
        {error && (
          <div class="toast" role="alert">
            <span>{error}</span>
            <button class="icon-btn" onClick={() => setError(null)} aria-label="Dismiss">
              <XIcon size={14} />
            </button>
          </div>
        )}
        {view === "inbox" && (
          <Inbox
            counts={counts}
            subscribe={events.subscribe}
            focusRequest={focus}
            onError={showError}
            onOpenConversation={openConversation}
          />
        )}
        {view === "chats" && (
          <Chats me={info.username} subscribe={events.subscribe} onError={showError} focusConversation={chatFocus} />
        )}
        {view === "settings" && (
          <Settings
            info={info}
            onSignedOut={() => void refreshInfo()}
            onError={showError}
            subscribeSettings={settingsBus.subscribe}
          />
        )}
      </main>
    </div>
  );
}

function RailButton(props: {
  label: string;
  active: boolean;
  count: number;
  onClick: () => void;
  children: preact.ComponentChildren;
}) {
  const c = countLabel(props.count);
  return (
    <button class={`rail-btn ${props.active ? "active" : ""}`} onClick={props.onClick} title={props.label} aria-label={props.label} data-view={props.label.toLowerCase()}>
      {props.children}
      {c && <span class="rail-count">{c}</span>}
      <span class="rail-label">{props.label}</span>
    </button>
  );
}
