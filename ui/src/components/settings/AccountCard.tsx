import type { SessionInfo } from "../../ipc";
import { useBackend } from "../../ipc";

/** Settings → Server and account: where, as whom, where the token is kept; sign out. */
export function AccountCard({ info, onSignedOut, onError }: { info: SessionInfo; onSignedOut: () => void; onError: (m: string) => void }) {
  const backend = useBackend();
  return (
    <section class="card">
      <h2>Server and account</h2>
      <dl class="facts">
        <dt>Server</dt>
        <dd>
          {info.server}
          {info.local_server && <span class="tag">local</span>}
        </dd>
        <dt>Signed in as</dt>
        <dd>
          {info.display_name ?? info.username} <span class="muted">@{info.username}</span>
        </dd>
        <dt>Session token</dt>
        <dd>
          {info.storage.kind === "keyring" ? (
            "Kept in the system keyring"
          ) : (
            <span class="warn">
              No system keyring ({info.storage.reason}); kept in {info.storage.path}, readable only by you
            </span>
          )}
        </dd>
      </dl>
      <button class="btn danger" onClick={() => backend.logout().then(onSignedOut, (e: unknown) => onError(String(e)))} id="sign-out">
        Sign out
      </button>
    </section>
  );
}
