import type { ComponentChildren } from "preact";

/** An empty pane: an icon, a title and what to do. */
export function Empty(props: { icon: ComponentChildren; title: string; children: ComponentChildren }) {
  return (
    <div class="empty">
      <div class="empty-icon">{props.icon}</div>
      <h3>{props.title}</h3>
      <p>{props.children}</p>
    </div>
  );
}
