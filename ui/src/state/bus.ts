// A tiny fan-out: the shell's events reach whichever views are on screen, each
// for as long as it is shown.

export type Listener<T> = (value: T) => void;

export interface Bus<T> {
  /** Adds a listener; the returned function removes it. */
  subscribe(listener: Listener<T>): () => void;
  publish(value: T): void;
}

export function createBus<T>(): Bus<T> {
  const listeners = new Set<Listener<T>>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    publish(value) {
      // A copy: a listener may unsubscribe (or subscribe another) while called.
      for (const listener of [...listeners]) listener(value);
    },
  };
}
