import { useEffect } from "preact/hooks";

import { countLabel } from "../lib/format";
import { useNavigation } from "../state/navigation";
import { useShell } from "../state/shell";
import { useToast } from "../state/toast";
import { Chats } from "./chats/Chats";
import { Inbox } from "./inbox/Inbox";
import { Login } from "./Login";
import { OfflineBanner, ErrorToast } from "./Notices";
import { Rail } from "./Rail";
import { Settings } from "./settings/Settings";

export function App() {
  const shell = useShell();
  const nav = useNavigation(shell.focus);
  const toast = useToast();
  const { info, counts } = shell;

  useEffect(() => {
    document.title = counts && counts.unread_total > 0 ? `Herald (${countLabel(counts.unread_total)})` : "Herald";
  }, [counts]);

  if (info === null) return <div class="boot" />;
  if (!info.signed_in) {
    return (
      <Login
        info={info}
        onSignedIn={(i) => {
          shell.signedIn(i);
          nav.show("inbox");
        }}
      />
    );
  }

  return (
    <div class="app">
      <Rail info={info} counts={counts} dnd={shell.dnd} view={nav.view} onShow={nav.show} />
      <main class="main">
        {!info.online && <OfflineBanner reason={info.offline_reason} />}
        {toast.message && <ErrorToast message={toast.message} onDismiss={toast.dismiss} />}
        {nav.view === "inbox" && (
          <Inbox
            counts={counts}
            subscribe={shell.events.subscribe}
            focusRequest={nav.inboxFocus}
            onError={toast.show}
            onOpenConversation={nav.openConversation}
          />
        )}
        {nav.view === "chats" && (
          <Chats me={info.username} subscribe={shell.events.subscribe} onError={toast.show} focusConversation={nav.chatFocus} />
        )}
        {nav.view === "settings" && (
          <Settings
            info={info}
            onSignedOut={() => void shell.refreshInfo()}
            onError={toast.show}
            subscribeSettings={shell.settings.subscribe}
          />
        )}
      </main>
    </div>
  );
}
