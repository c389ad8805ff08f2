import type { Notification } from "../../bindings/protocol";
import { useBackend } from "../../ipc";
import { fullTime, isWebLink, linkHost } from "../../lib/format";
import { Chip } from "../common/Chip";
import { CheckIcon, EnvelopeIcon, LinkIcon, MegaphoneIcon, TrashIcon } from "../common/icons";

/** The opened notification in full, with its link and actions. */
export function Detail({ n, onToggleRead, onDelete }: { n: Notification; onToggleRead: () => void; onDelete: () => void }) {
  const backend = useBackend();
  return (
    <article class="detail" data-id={n.id}>
      <div class="detail-meta">
        {n.kind === "broadcast" ? (
          <span class="kind-label">
            <MegaphoneIcon size={14} /> Broadcast
          </span>
        ) : (
          <span class="kind-label">
            <EnvelopeIcon size={14} /> Personal
          </span>
        )}
        {n.category && <Chip category={n.category} />}
        {n.priority >= 4 && <span class={`prio p${n.priority}`}>{n.priority === 5 ? "Urgent" : "High"} priority</span>}
      </div>
      <h2>{n.title}</h2>
      <div class="byline">
        <span>{n.sender ? `From ${n.sender}` : "From Herald"}</span>
        <span class="muted">·</span>
        <time class="muted" dateTime={n.created_at}>
          {fullTime(n.created_at)}
        </time>
      </div>
      {n.content ? <div class="content">{n.content}</div> : <p class="muted">No details.</p>}
      <div class="detail-actions">
        {isWebLink(n.link) && (
          <button class="btn primary" onClick={() => void backend.openLink(n.link as string)}>
            <LinkIcon size={16} /> Open {linkHost(n.link)}
          </button>
        )}
        <button class="btn" onClick={onToggleRead}>
          {n.read ? <EnvelopeIcon size={16} /> : <CheckIcon size={16} />} {n.read ? "Mark unread" : "Mark read"}
        </button>
        <button class="btn danger" onClick={onDelete}>
          <TrashIcon size={16} /> Delete
        </button>
      </div>
    </article>
  );
}
