// Runs a hook inside a real Preact tree (jsdom) under a given backend, and lets
// the promises it started settle, so state hooks are tested as the window uses them.
import { render } from "preact";
import { act } from "preact/test-utils";

import { BackendProvider, type Backend } from "../ipc";

export interface Rendered<T> {
  /** What the hook returned at the last render. */
  result: { current: T };
  unmount(): Promise<void>;
}

export async function renderHook<T>(backend: Backend, hook: () => T): Promise<Rendered<T>> {
  const result = { current: undefined as unknown as T };
  function Probe() {
    result.current = hook();
    return null;
  }
  const root = document.createElement("div");
  await act(() => {
    render(
      <BackendProvider value={backend}>
        <Probe />
      </BackendProvider>,
      root,
    );
  });
  await settle();
  return {
    result,
    unmount: () =>
      act(() => {
        render(null, root);
      }),
  };
}

/** Lets pending promises (the backend's answers) and the renders they cause run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 0));
    });
  }
}

/** Runs `f` (a click, an event from the shell) and waits until things settle. */
export async function run(f: () => unknown): Promise<void> {
  await act(() => {
    void f();
  });
  await settle();
}
