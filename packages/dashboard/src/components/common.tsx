/**
 * Small shared pieces: panels, figures with units, loading and error states, and the empty state that
 * shows how to send data.
 * @module
 */
import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api.ts';
import type { Loaded } from '../hooks.ts';

/** A titled section of a page. */
export function Panel(props: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
  id?: string;
}) {
  return (
    <section class="panel" aria-labelledby={props.id ? `${props.id}-h` : undefined}>
      <header>
        <h2 id={props.id ? `${props.id}-h` : undefined}>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

/** One figure with its label (the value is already formatted with its unit). */
export function Stat(props: {
  label: string;
  value: string;
  tone?: 'good' | 'warn' | 'bad';
  testId?: string;
}) {
  return (
    <div class={`stat ${props.tone ?? ''}`} data-testid={props.testId}>
      <div class="stat-value">{props.value}</div>
      <div class="stat-label">{props.label}</div>
    </div>
  );
}

/** The error of a request as the API worded it. */
export function ErrorView(props: { error: ApiError }) {
  const e = props.error;
  return (
    <div class="error" role="alert">
      <strong>
        {e.status === 0 ? 'No answer from the server' : `${e.problem.title ?? 'Error'} (${e.status})`}
      </strong>
      <p>{e.problem.detail ?? e.message}</p>
      {e.problem.code ? <a href={`/docs/errors#${e.problem.code.toLowerCase()}`}>{e.problem.code}</a> : null}
    </div>
  );
}

/**
 * Renders `children(data)` once loaded; a loading line before, the error after a failure (data loaded
 * earlier stays shown under a failed refresh). While a reload runs, the shown answer is marked
 * `aria-busy="true"` and dimmed.
 */
export function Async<T>(props: { state: Loaded<T>; children: (data: T) => ComponentChildren }) {
  const { data, error, loading } = props.state;
  if (data === undefined) {
    if (error) return <ErrorView error={error} />;
    return (
      <p class="muted" aria-busy={loading}>
        Loading…
      </p>
    );
  }
  // A reload (a new filter, a refresh) keeps the old answer on screen, marked busy and dimmed until the new
  // one replaces it, so nobody reads the previous filter's figures as this one's.
  return (
    <div class="async" aria-busy={loading ? 'true' : undefined}>
      {error ? <ErrorView error={error} /> : null}
      {props.children(data)}
    </div>
  );
}

/** What to do when there is no data yet: the lines that send some. */
export function EmptyState(props: { what: string; children?: ComponentChildren }) {
  const origin = window.location.origin;
  return (
    <div class="empty">
      <p>
        <strong>No {props.what} in this time range.</strong> Send data, or widen the time range.
      </p>
      {props.children ?? (
        <>
          <p>Any OpenTelemetry SDK or Collector:</p>
          <pre>
            <code>{`export OTEL_EXPORTER_OTLP_ENDPOINT=${origin}\nexport OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`}</code>
          </pre>
          <p>A Node.js service, with @siperf/node:</p>
          <pre>
            <code>{`import { init } from '@siperf/node';\ninit({ serviceName: 'checkout', endpoint: '${origin}' });`}</code>
          </pre>
        </>
      )}
    </div>
  );
}
