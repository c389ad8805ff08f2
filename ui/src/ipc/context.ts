// Components reach the backend through context, so a test (or another build)
// hands them a different one without touching a component.
import { createContext } from "preact";
import { useContext } from "preact/hooks";

import type { Backend } from "./backend";

const BackendContext = createContext<Backend | null>(null);

/** Puts a backend under a subtree (main.tsx: this build's; tests: a fake). */
export const BackendProvider = BackendContext.Provider;

/** The backend the window runs against. */
export function useBackend(): Backend {
  const backend = useContext(BackendContext);
  if (backend === null) throw new Error("no BackendProvider above this component");
  return backend;
}
