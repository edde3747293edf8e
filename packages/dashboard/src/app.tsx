/**
 * The dashboard's frame: navigation, the global time range, service filter and auto-refresh (all in the
 * URL), the read-key prompt, and the current page (loaded on demand).
 * @module
 */
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiKey, get, setApiKey } from './api.ts';
import { RefreshContext } from './hooks.ts';
import { PAGES, type PageDef } from './pages.ts';
import { href, navigate, RANGES, REFRESH, setParams, useLocation } from './router.ts';

/** The page whose path prefix matches (the longest one). */
function pageOf(path: string): PageDef | undefined {
  return [...PAGES]
    .sort((a, b) => b.path.length - a.path.length)
    .find((p) => (p.path === '/' ? path === '/' : path === p.path || path.startsWith(`${p.path}/`)));
}

const loaded = new Map<string, ComponentType<{ path: string }>>();

function PageView(props: { page: PageDef; path: string }) {
  const [, setReady] = useState(0);
  const Component = loaded.get(props.page.path);
  useEffect(() => {
    if (!loaded.has(props.page.path)) {
      props.page.load().then((m) => {
        loaded.set(props.page.path, m.default);
        setReady((n) => n + 1);
      });
    }
  }, [props.page]);
  return Component ? <Component path={props.path} /> : <p class="muted">Loading…</p>;
}

/** Asks for the read key when the API answers 401/403; the key is kept for this tab's session only. */
function KeyPrompt(props: { onDone: () => void; wrong: boolean }) {
  const [value, setValue] = useState('');
  return (
    <div class="modal" role="dialog" aria-modal="true" aria-labelledby="key-h">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setApiKey(value.trim());
          props.onDone();
        }}
      >
        <h2 id="key-h">This server needs its API key</h2>
        <p>
          {props.wrong ? 'That key was not accepted. ' : ''}The key is kept for this tab only and sent as a
          header, never in a URL.
        </p>
        <label>
          API key
          <input
            type="password"
            autoComplete="off"
            value={value}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
            // biome-ignore lint/a11y/noAutofocus: the dialog's only field
            autoFocus
          />
        </label>
        <button type="submit" disabled={value.trim() === ''}>
          Use this key
        </button>
      </form>
    </div>
  );
}

/** Services for the filter (from the API, for the last 7 days). */
function useServices(): string[] {
  const [services, setServices] = useState<string[]>([]);
  useEffect(() => {
    get('/api/v1/apm/services', { window: '7d' }).then(
      (a) => setServices(a.services.map((s) => s.service)),
      () => setServices([]),
    );
  }, [apiKey()]);
  return services;
}

/** The whole dashboard. */
export function App() {
  const loc = useLocation();
  const [tick, setTick] = useState(0);
  const [needKey, setNeedKey] = useState<'no' | 'missing' | 'wrong'>('no');
  const services = useServices();
  const refresh = Number(loc.params.get('refresh') ?? 0);
  const range = loc.params.get('range') ?? '1h';

  useEffect(() => {
    if (!refresh) return;
    const t = setInterval(() => setTick((n) => n + 1), refresh * 1000);
    return () => clearInterval(t);
  }, [refresh]);

  // A 401/403 from any request opens the key prompt.
  useEffect(() => {
    const onRejection = (e: PromiseRejectionEvent | CustomEvent) => {
      const err = 'reason' in e ? e.reason : e.detail;
      if (err instanceof ApiError && (err.status === 401 || err.status === 403))
        setNeedKey(err.status === 401 ? 'missing' : 'wrong');
    };
    window.addEventListener('siperf:auth', onRejection as EventListener);
    return () => window.removeEventListener('siperf:auth', onRejection as EventListener);
  }, []);

  const page = pageOf(loc.path);
  useEffect(() => {
    document.title = page ? `${page.title} · siperf` : 'Not found · siperf';
  }, [page]);

  return (
    <RefreshContext.Provider value={tick}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a
          class="brand"
          href={href('/')}
          onClick={(e) => {
            e.preventDefault();
            navigate(href('/'));
          }}
        >
          siperf
        </a>
        <div class="controls">
          <label>
            Time range{' '}
            <select
              value={range}
              onChange={(e) => {
                const v = (e.target as HTMLSelectElement).value;
                if (v === 'custom') {
                  const to = new Date();
                  const from = new Date(to.getTime() - 3_600_000);
                  setParams({ range: 'custom', from: from.toISOString(), to: to.toISOString() });
                } else setParams({ range: v, from: undefined, to: undefined });
              }}
            >
              {RANGES.map((r) => (
                <option key={r} value={r}>
                  Last {r}
                </option>
              ))}
              <option value="custom">Custom…</option>
            </select>
          </label>
          {range === 'custom' ? (
            <>
              <label>
                From{' '}
                <input
                  type="datetime-local"
                  value={toLocalInput(loc.params.get('from'))}
                  onChange={(e) => setParams({ from: fromLocalInput((e.target as HTMLInputElement).value) })}
                />
              </label>
              <label>
                To{' '}
                <input
                  type="datetime-local"
                  value={toLocalInput(loc.params.get('to'))}
                  onChange={(e) => setParams({ to: fromLocalInput((e.target as HTMLInputElement).value) })}
                />
              </label>
            </>
          ) : null}
          <label>
            Service{' '}
            <select
              value={loc.params.get('service') ?? ''}
              onChange={(e) => setParams({ service: (e.target as HTMLSelectElement).value || undefined })}
            >
              <option value="">All services</option>
              {[
                ...new Set([...services, ...(loc.params.get('service') ? [loc.params.get('service')!] : [])]),
              ].map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            Refresh{' '}
            <select
              value={String(refresh)}
              onChange={(e) =>
                setParams({ refresh: Number((e.target as HTMLSelectElement).value) || undefined }, true)
              }
            >
              {REFRESH.map((r) => (
                <option key={r} value={r}>
                  {r === 0 ? 'Off' : `${r} s`}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => setTick((n) => n + 1)} aria-label="Refresh now">
            ↻
          </button>
        </div>
      </header>
      <div class="layout">
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a
                  href={href(p.path)}
                  aria-current={page?.path === p.path ? 'page' : undefined}
                  onClick={(e) => {
                    if (e.ctrlKey || e.metaKey || e.shiftKey) return;
                    e.preventDefault();
                    navigate(href(p.path));
                  }}
                >
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
          <p class="muted small">
            <a href="/docs">API (OpenAPI)</a>
          </p>
        </nav>
        <main id="main" tabIndex={-1}>
          {page ? (
            <PageView key={page.path} page={page} path={loc.path} />
          ) : (
            <p>
              No page at {loc.path}. <a href={href('/')}>Overview</a>
            </p>
          )}
        </main>
      </div>
      {needKey !== 'no' ? <KeyPrompt wrong={needKey === 'wrong'} onDone={() => setNeedKey('no')} /> : null}
    </RefreshContext.Provider>
  );
}

function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const off = d.getTimezoneOffset() * 60_000;
  return new Date(d.getTime() - off).toISOString().slice(0, 16);
}

function fromLocalInput(v: string): string | undefined {
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
