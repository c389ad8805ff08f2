// Search-as-you-type plumbing shared by the message center's search and the
// contact type-ahead: wait until typing pauses, ask once, and never let a slow
// answer to an old query overwrite the answer to the current one.

/** Longest query the client accepts (herald-client `MAX_SEARCH_CHARS`): the inputs' maxlength. */
export const MAX_QUERY_CHARS = 100;

/** The text worth searching for, or null when there is nothing to ask (blank). */
export function searchable(input: string): string | null {
  const q = input.trim();
  return q === "" ? null : q;
}

export interface Lookup {
  /** Call on every keystroke; the search runs once typing pauses. */
  update(input: string): void;
  /** Forgets the pending search and any answer still on its way. */
  cancel(): void;
}

/**
 * Debounces `search` by `delayMs`. `onResult(query, results)` receives only the
 * answer for the latest query: null results mean "nothing to search" (blank
 * input), reported at once so the UI can clear without waiting.
 */
export function createLookup<T>(
  search: (query: string) => Promise<T>,
  onResult: (query: string, results: T | null) => void,
  onError: (message: string) => void,
  delayMs: number,
): Lookup {
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Bumped by every update and cancel; an answer is used only if it is still current.
  let generation = 0;
  const cancel = () => {
    clearTimeout(timer);
    generation += 1;
  };
  return {
    update(input) {
      cancel();
      const query = searchable(input);
      if (query === null) {
        onResult("", null);
        return;
      }
      const mine = generation;
      timer = setTimeout(() => {
        search(query).then(
          (results) => {
            if (mine === generation) onResult(query, results);
          },
          (e: unknown) => {
            if (mine === generation) onError(e instanceof Error ? e.message : String(e));
          },
        );
      }, delayMs);
    },
    cancel,
  };
}
