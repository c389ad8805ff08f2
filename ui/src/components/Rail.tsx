import type { ComponentChildren } from "preact";

import type { Counts } from "../bindings/protocol";
import type { SessionInfo } from "../ipc";
import { countLabel, initials } from "../lib/format";
import type { View } from "../state/navigation";
import { ChatIcon, GearIcon, InboxIcon, MoonIcon } from "./common/icons";

/** The left rail: the views with their unread counts, Do not disturb, who is signed in. */
export function Rail(props: {
  info: SessionInfo;
  counts: Counts | null;
  dnd: boolean;
  view: View;
  onShow: (view: View) => void;
}) {
  const { info, counts, dnd, view, onShow } = props;
  const name = info.display_name ?? info.username ?? "?";
  return (
    <nav class="rail" aria-label="Sections">
      <img class="logo" src="/icon.png" alt="Herald" width={32} height={32} />
      <RailButton label="Inbox" active={view === "inbox"} onClick={() => onShow("inbox")} count={counts ? counts.personal + counts.broadcast : 0}>
        <InboxIcon size={20} />
      </RailButton>
      <RailButton label="Chats" active={view === "chats"} onClick={() => onShow("chats")} count={counts?.chats ?? 0}>
        <ChatIcon size={20} />
      </RailButton>
      <div class="spacer" />
      {dnd && (
        <span class="dnd" title="Do not disturb is on">
          <MoonIcon size={18} />
        </span>
      )}
      <RailButton label="Settings" active={view === "settings"} onClick={() => onShow("settings")} count={0}>
        <GearIcon size={20} />
      </RailButton>
      <div class="avatar" title={`${name} on ${info.server ?? ""} — ${info.online ? "online" : "offline"}`}>
        {initials(name)}
        <span class={`presence ${info.online ? "on" : "off"}`} />
      </div>
    </nav>
  );
}

function RailButton(props: {
  label: string;
  active: boolean;
  count: number;
  onClick: () => void;
  children: ComponentChildren;
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
