import { useState } from "preact/hooks";

import type { SessionInfo } from "../ipc";
import { useBackend } from "../ipc";
import { ServerIcon } from "./common/icons";

export function Login({ info, onSignedIn }: { info: SessionInfo | null; onSignedIn: (i: SessionInfo) => void }) {
  const backend = useBackend();
  const [server, setServer] = useState(info?.server ?? "http://127.0.0.1:8787");
  const [username, setUsername] = useState(info?.username ?? "");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState<"login" | "local" | null>(null);
  const [error, setError] = useState<string | null>(info?.login_error ?? null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy("login");
    setError(null);
    try {
      onSignedIn(await backend.login(server, username, password));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(null);
    }
  };

  const local = async () => {
    setBusy("local");
    setError(null);
    try {
      onSignedIn(await backend.startLocalServer());
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <div class="login">
      <form class="card login-card" onSubmit={submit}>
        <img class="logo-lg" src="/icon.png" alt="" width={56} height={56} />
        <h1>Sign in to Herald</h1>
        <p class="muted">Notifications and messages from your team, in your tray.</p>
        <label class="field">
          <span>Server</span>
          <input
            name="server"
            value={server}
            onInput={(e) => setServer(e.currentTarget.value)}
            placeholder="https://herald.example.com"
            autoComplete="url"
            required
          />
        </label>
        <label class="field">
          <span>Username</span>
          <input
            name="username"
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
            autoComplete="username"
            autoFocus
            required
          />
        </label>
        <label class="field">
          <span>Password</span>
          <input
            name="password"
            type="password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            autoComplete="current-password"
            required
          />
        </label>
        {error && (
          <div class="alert" role="alert">
            {error}
          </div>
        )}
        <button class="btn primary wide" type="submit" disabled={busy !== null}>
          {busy === "login" ? "Signing in…" : "Sign in"}
        </button>
        <div class="or">
          <span>or</span>
        </div>
        <button class="btn wide" type="button" onClick={() => void local()} disabled={busy !== null}>
          <ServerIcon size={16} /> {busy === "local" ? "Starting local server…" : "Run a server on this computer"}
        </button>
        <p class="hint muted">Starts the bundled herald-server with its own database and signs you in as admin.</p>
      </form>
    </div>
  );
}
