/**
 * The details of one span of a trace: timing (duration, self time, percentile against its operation),
 * its warnings (missing parent, clock skew), links to its endpoint's page and its database statement's
 * page, then its attributes, events, links to other traces, resource and instrumentation scope.
 * @module
 */
import type { SpanNodeShape } from '@siperf/server/schemas';
import { ms } from '../format.ts';
import { href } from '../router.ts';
import { enclosingServer, type FlatTrace } from './trace-rows.ts';
import { percentileLabel } from './waterfall.tsx';

/** A URL of the endpoint page of `service`'s `endpoint`. */
export function endpointHref(service: string, endpoint: string): string {
  return href(`/services/${encodeURIComponent(service)}/endpoints`, { endpoint });
}

/** A URL of the database page of one statement (that page belongs to the database view). */
export function statementHref(fingerprint: string): string {
  return href('/database/statements', { fingerprint });
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function Attributes(props: { attrs: Record<string, unknown>; caption: string }) {
  const keys = Object.keys(props.attrs).sort();
  const heading = props.caption ? <h3>{props.caption}</h3> : null;
  if (keys.length === 0)
    return (
      <>
        {heading}
        <p class="muted small">None.</p>
      </>
    );
  return (
    <>
      {heading}
      <table class="kv">
        <tbody>
          {keys.map((k) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>{valueText(props.attrs[k])}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Props of {@link SpanPanel}. */
export interface SpanPanelProps {
  flat: FlatTrace;
  index: number;
  percentileWindow: string;
  onClose: () => void;
  onSelect: (spanId: string) => void;
}

/** The span panel (opened by a click or Enter on a waterfall row). */
export function SpanPanel(props: SpanPanelProps) {
  const { flat } = props;
  const s: SpanNodeShape = flat.nodes[props.index]!;
  const server = enclosingServer(flat, props.index);
  const serverSpan = server >= 0 ? flat.nodes[server] : undefined;
  const parent = flat.parent[props.index]!;
  const skew = flat.skew.get(s.spanId);
  const startMs = Date.parse(s.startTime);
  const p = s.percentile;
  return (
    <aside class="panel span-panel" aria-labelledby="span-h">
      <header>
        <h2 id="span-h">{s.name}</h2>
        <button type="button" onClick={props.onClose} aria-label="Close the span details">
          ✕
        </button>
      </header>
      <dl class="facts">
        <dt>Service</dt>
        <dd>{s.service}</dd>
        <dt>Kind</dt>
        <dd>{s.kind}</dd>
        <dt>Status</dt>
        <dd class={s.isError ? 'bad' : undefined}>
          {s.status}
          {s.httpStatusCode ? ` · HTTP ${s.httpStatusCode}` : ''}
          {s.statusMessage ? ` · ${s.statusMessage}` : ''}
        </dd>
        <dt>Duration</dt>
        <dd>
          {ms(s.durationMs)} (self {ms(s.selfTimeMs)})
        </dd>
        <dt>Starts</dt>
        <dd>{ms(s.offsetMs)} after the trace start</dd>
        <dt>Percentile</dt>
        <dd>
          {p === null || p === undefined ? (
            <span class="muted">
              no rollup of its operation over {props.percentileWindow}
              {s.kind === 'internal' && parent >= 0
                ? ' (internal spans are rolled up only when they are roots)'
                : ''}
            </span>
          ) : (
            <>
              <strong>{percentileLabel(p)}</strong> of {s.db ? 'its statement' : <code>{s.endpoint}</code>} (
              {s.service}, {s.db ? 'database calls' : s.kind}) over {props.percentileWindow}:{' '}
              {p >= 100 ? 'none' : `${(100 - p).toFixed(p >= 99 ? 1 : 0)}%`} took longer
            </>
          )}
        </dd>
        <dt>Critical path</dt>
        <dd>{s.onCriticalPath ? 'on it: this span delays the trace' : 'not on it'}</dd>
        <dt>Span id</dt>
        <dd>
          <code>{s.spanId}</code>
          {parent >= 0 ? (
            <>
              {' '}
              · parent{' '}
              <button type="button" class="link" onClick={() => props.onSelect(flat.nodes[parent]!.spanId)}>
                {flat.nodes[parent]!.name}
              </button>
            </>
          ) : null}
        </dd>
      </dl>
      {s.orphan ? (
        <p class="warn" role="note">
          ⚠ Missing parent: its parent span <code>{s.parentSpanId}</code> is not in this trace (not sent,
          dropped, or still arriving); the span is shown as a root.
        </p>
      ) : null}
      {skew ? (
        <p class="warn" role="note">
          ⚠ Clock skew: against its parent in {skew.parentService}, it{' '}
          {skew.startsBeforeMs > 0 ? `starts ${ms(skew.startsBeforeMs)} before it` : ''}
          {skew.startsBeforeMs > 0 && skew.endsAfterMs > 0 ? ' and ' : ''}
          {skew.endsAfterMs > 0 ? `ends ${ms(skew.endsAfterMs)} after it` : ''}. The two hosts' clocks
          disagree; times are shown as sent.
        </p>
      ) : null}
      {s.clockFlagged ? (
        <p class="warn" role="note">
          ⚠ Clock: this span's time was far from the server clock when it arrived; it is kept, but its place
          on the timeline may be off.
        </p>
      ) : null}
      <ul class="links">
        {serverSpan ? (
          <li>
            <a href={endpointHref(serverSpan.service, serverSpan.endpoint)}>
              Endpoint {serverSpan.endpoint} ({serverSpan.service})
            </a>
          </li>
        ) : null}
        {s.db ? (
          <li>
            <a href={statementHref(s.db.fingerprint)}>Database statement</a> ({s.db.system}
            {s.db.database ? ` · ${s.db.database}` : ''})
          </li>
        ) : null}
      </ul>
      {s.db ? (
        <pre>
          <code>{s.db.statement}</code>
        </pre>
      ) : null}
      <Attributes attrs={s.attributes} caption="Attributes" />
      <h3>Events</h3>
      {s.events.length === 0 ? (
        <p class="muted small">No events.</p>
      ) : (
        <ul class="events">
          {s.events.map((e, i) => {
            const at = Number(BigInt(e.timeUnixNano) / 1000n) / 1000 - startMs;
            return (
              <li key={i}>
                <strong class={e.name === 'exception' ? 'bad' : undefined}>{e.name}</strong>{' '}
                <span class="muted">+{ms(at)}</span>
                {Object.keys(e.attributes).length > 0 ? <Attributes attrs={e.attributes} caption="" /> : null}
              </li>
            );
          })}
        </ul>
      )}
      {s.links.length > 0 ? (
        <>
          <h3>Links</h3>
          <ul>
            {s.links.map((l) => (
              <li key={l.traceId + l.spanId}>
                <a href={href(`/traces/${l.traceId}`, { span: l.spanId })}>
                  trace <code>{l.traceId.slice(0, 12)}…</code>
                </a>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <Attributes attrs={s.resource} caption="Resource" />
      <p class="muted small">Instrumentation scope: {s.scope || '–'}</p>
    </aside>
  );
}
