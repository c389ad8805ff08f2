// The one error toast: the latest message, gone after a few seconds.
import { useCallback, useEffect, useState } from "preact/hooks";

/** How long a toast stays unless dismissed. */
export const TOAST_MS = 6000;

export interface Toast {
  message: string | null;
  show(message: string): void;
  dismiss(): void;
}

export function useToast(): Toast {
  const [message, setMessage] = useState<string | null>(null);
  const show = useCallback((m: string) => setMessage(m), []);
  const dismiss = useCallback(() => setMessage(null), []);
  useEffect(() => {
    if (!message) return;
    const t = setTimeout(() => setMessage(null), TOAST_MS);
    return () => clearTimeout(t);
  }, [message]);
  return { message, show, dismiss };
}
