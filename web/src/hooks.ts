import { useCallback, useEffect, useRef, useState } from "react";

export interface Loaded<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
  reload: () => Promise<void>;
}

/** `load` run now and again whenever `deps` change; `reload` runs it again (quietly: the data
 * shown stays until the new answer replaces it). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const current = useRef(0);
  const run = useCallback(async () => {
    const id = ++current.current;
    try {
      const value = await load();
      if (id === current.current) {
        setData(value);
        setError(null);
      }
    } catch (caught) {
      if (id === current.current) setError(caught instanceof Error ? caught : new Error(String(caught)));
    } finally {
      if (id === current.current) setLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    setLoading(true);
    void run();
    return () => {
      current.current += 1;
    };
  }, [run]);
  return { data, error, loading, reload: run };
}

/** Calls `tick` every `intervalMs` while `active` (the screen follows a state that moves on its
 * own: a tenant being provisioned, an order being decided). */
export function usePolling(active: boolean, tick: () => unknown, intervalMs = 1500): void {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => void saved.current(), intervalMs);
    return () => window.clearInterval(timer);
  }, [active, intervalMs]);
}

export function newIdempotencyKey(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}
