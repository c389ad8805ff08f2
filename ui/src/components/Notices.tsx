import { CloudOffIcon, XIcon } from "./common/icons";

/** Across the top while the client is not connected. */
export function OfflineBanner({ reason }: { reason: string | null }) {
  return (
    <div class="banner" role="status" id="offline-banner">
      <CloudOffIcon size={16} />
      <span>You're offline{reason ? ` — ${reason}` : ""}. Herald reconnects by itself and catches up.</span>
    </div>
  );
}

/** The latest error, until dismissed or it times out. */
export function ErrorToast({ message, onDismiss }: { message: string; onDismiss: () => void }) {
  return (
    <div class="toast" role="alert">
      <span>{message}</span>
      <button class="icon-btn" onClick={onDismiss} aria-label="Dismiss">
        <XIcon size={14} />
      </button>
    </div>
  );
}
