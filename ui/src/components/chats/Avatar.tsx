import { initials } from "../../lib/format";

/** Initials in a circle, with a presence dot when `online` is known. */
export function Avatar({ name, online }: { name: string; online: boolean | null }) {
  return (
    <span class="chat-avatar" aria-hidden="true">
      {initials(name)}
      {online !== null && <span class={`presence ${online ? "on" : "off"}`} title={online ? "online" : "offline"} />}
    </span>
  );
}
