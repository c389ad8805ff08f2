import type { Ref } from "preact";

import type { Counts } from "../../bindings/protocol";
import { countLabel } from "../../lib/format";
import { tabCount, TAB_LABELS, TABS, type Tab } from "../../lib/inbox";
import { MAX_QUERY_CHARS } from "../../lib/lookup";
import { SearchIcon } from "../common/icons";

/** The tabs with their unread counts, and the search box ("/" focuses it). */
export function Toolbar(props: {
  tab: Tab;
  counts: Counts | null;
  onTab: (tab: Tab) => void;
  query: string;
  onQuery: (query: string) => void;
  searchRef: Ref<HTMLInputElement>;
}) {
  const { tab, counts, onTab, query, onQuery, searchRef } = props;
  return (
    <header class="toolbar">
      <nav class="tabs" role="tablist" aria-label="Notification kinds">
        {TABS.map((t) => {
          const c = countLabel(tabCount(counts, t));
          return (
            <button
              key={t}
              role="tab"
              aria-selected={tab === t}
              class={`tab ${tab === t ? "active" : ""}`}
              onClick={() => onTab(t)}
              data-tab={t}
            >
              {TAB_LABELS[t]}
              {c && <span class="pill">{c}</span>}
            </button>
          );
        })}
      </nav>
      <div class="spacer" />
      <label class="search">
        <SearchIcon size={16} />
        <input
          ref={searchRef}
          type="search"
          placeholder="Search all messages"
          value={query}
          maxLength={MAX_QUERY_CHARS}
          id="search"
          onInput={(e) => onQuery(e.currentTarget.value)}
          aria-label="Search"
        />
        <kbd>/</kbd>
      </label>
    </header>
  );
}
