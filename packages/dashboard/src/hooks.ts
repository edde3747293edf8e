/**
 * Data loading: `useApi` fetches an API answer for the current view, again when its inputs change, on the
 * auto-refresh tick, and after the read key is given.
 * @module
 */
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, onKeyChange } from './api.ts';

/** Increments on each auto-refresh tick (and on a manual refresh). */
export const RefreshContext = createContext(0);

/** The state of a request: data once loaded (kept while a refresh runs), or its error. */
export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Runs the request again. */
  reload(): void;
}

/**
 * Runs `load` and keeps its answer; `deps` are the inputs (a change reloads). Answers of superseded calls
 * are dropped.
 */
export function useApi<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const tick = useContext(RefreshContext);
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [again, setAgain] = useState(0);
  const seq = useRef(0);
  useEffect(() => onKeyChange(() => setAgain((n) => n + 1)), []);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => {
        if (mine === seq.current) setState({ data, error: undefined, loading: false });
      },
      (err: unknown) => {
        if (mine !== seq.current) return;
        const error = err instanceof ApiError ? err : new ApiError(0, { detail: String(err) });
        setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
  }, [...deps, tick, again]);
  return { ...state, reload: () => setAgain((n) => n + 1) };
}
