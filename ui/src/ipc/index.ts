// The window's one way out. Components call the backend through `useBackend()`,
// never an implementation, so the same components run in the desktop shell and —
// with another Backend chosen here at build time — in a browser. The types are
// generated from Rust (../bindings/).
import type { Backend } from "./backend";
import { tauriBackend } from "./tauri";

export type { Backend, Unsubscribe } from "./backend";
export type * from "../bindings/ipc";
export { BackendProvider, useBackend } from "./context";

/** This build's backend. */
export const backend: Backend = tauriBackend;
