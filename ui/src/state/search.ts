// The message center's search: the local full-text index (works offline), asked
// as the user types and again when the list changes, so results stay current.
import { useEffect, useMemo, useState } from "preact/hooks";

import { useBackend } from "../ipc";
import { createLookup } from "../lib/lookup";
import { SEARCH_LIMIT, type SearchResults } from "../lib/search";

/** How long typing must pause before the local index is asked. */
export const SEARCH_DELAY_MS = 120;

/** The answer for `query` (null: nothing typed); asked again when `changed` does. */
export function useSearch(query: string, changed: unknown, onError: (message: string) => void): SearchResults | null {
  const backend = useBackend();
  const [results, setResults] = useState<SearchResults | null>(null);
  const lookup = useMemo(
    () =>
      createLookup(
        async (q): Promise<SearchResults> => {
          const [notifications, messages] = await Promise.all([
            backend.search(q, SEARCH_LIMIT),
            backend.searchMessages(q, SEARCH_LIMIT),
          ]);
          return { query: q, notifications, messages };
        },
        (_, r) => setResults(r),
        onError,
        SEARCH_DELAY_MS,
      ),
    [backend, onError],
  );
  useEffect(() => lookup.update(query), [lookup, query, changed]);
  useEffect(() => () => lookup.cancel(), [lookup]);
  return results;
}
