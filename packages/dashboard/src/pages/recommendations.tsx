/**
 * Recommendations: the one ranked list of GET /api/v1/recommendations over the time range and service
 * (endpoints, queries, the database, caches and hosts together, ranked by the server: time saved per hour,
 * then money per month, then hit-ratio points). Each card shows the gain in its units with the arithmetic
 * under a disclosure, the endpoints' p95 now → expected, links to the evidence (traces, the statement, the
 * endpoint, the cache, the host), how to apply it with the exact change to copy, its alternatives, and its
 * state; an open one can be marked applied or dismissed (POST …/{id}/applied and …/{id}/dismiss, with an
 * optional note), an applied one shows its outcome (the figure before → after, the verdict, when it is
 * judged). Filters, kept in the URL: `area`, `kind` and `state` (default: all but the dismissed ones);
 * they filter the answer in the page, so each card keeps its rank in the whole list.
 *
 * Hosts' right-sizing comes from the same list (kind `right-size`): a host whose size fits, or with under
 * a day of history, has no item; its sizing and cost are on the Resources page.
 * @module
 */
import type {
  JoinedRecommendation,
  RecommendationAnswer,
  RecommendationListAnswer,
} from '@siperf/server/schemas';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, post } from '../api.ts';
import { Async, Panel, Stat } from '../components/common.tsx';
import { CopyCode } from '../components/copy-code.tsx';
import { count, ms, num, pct, time } from '../format.ts';
import { useApi } from '../hooks.ts';
import { href, setParams, useLocation, windowQuery } from '../router.ts';
import { bytes3, money, relative } from '../units.ts';
import { targetLinks } from './advice-links.ts';
import { EvidenceList } from './advice-view.tsx';
import './ops-pages.css';
import './recommendations.css';

type Rec = JoinedRecommendation;
type Kind = Rec['kind'];
type State = Rec['state'];
type Area = Rec['area'];

const AREAS: { key: Area | ''; label: string }[] = [
  { key: '', label: 'All' },
  { key: 'endpoint', label: 'Endpoints' },
  { key: 'query', label: 'Queries' },
  { key: 'database', label: 'Database' },
  { key: 'cache', label: 'Caches' },
  { key: 'host', label: 'Hosts' },
];

/** Each kind of the server's RECOMMENDATION_KINDS, in words (a new kind fails the type check here). */
const KIND_LABEL: Record<Kind, string> = {
  index: 'Index',
  plan: 'Plan',
  schema: 'Schema',
  'n-plus-one': 'N+1',
  'sequential-queries': 'Sequential queries',
  'cache-size': 'Cache size',
  'cache-shrink': 'Cache shrink',
  'cache-ttl': 'Cache TTL',
  'cache-hit-ratio': 'Cache hit ratio',
  'cache-load-failures': 'Cache load failures',
  'right-size': 'Right-size',
  regression: 'Regression',
  'error-origin': 'Error origin',
};

/** Each state, in words. */
const STATE_LABEL: Record<State, string> = {
  open: 'Open',
  applied: 'Applied',
  confirmed: 'Confirmed',
  'not-confirmed': 'Not confirmed',
  dismissed: 'Dismissed',
};
const STATE_TONE: Record<State, string> = {
  open: 'info',
  applied: 'info',
  confirmed: 'good',
  'not-confirmed': 'warn',
  dismissed: 'muted',
};
const SEVERITY_TONE = { critical: 'bad', warning: 'warn', info: 'info' } as const;

/** The `state` filter: a state, `any`, or (default, `''`) every state but dismissed. */
function stateMatches(filter: string, s: State): boolean {
  return filter === 'any' || (filter === '' ? s !== 'dismissed' : s === filter);
}

/** `saved` (a POST's answer) while the list's `r` has not caught up with its state change. */
function newer(r: Rec, saved: Rec | undefined): Rec {
  return saved && (r.stateChangedAt ?? '') < (saved.stateChangedAt ?? '') ? saved : r;
}

/** The `area` of the URL (`hosts`, the earlier page's word, is `host`). */
function areaOf(params: URLSearchParams): Area | '' {
  const a = params.get('area') ?? '';
  const area = a === 'hosts' ? 'host' : a;
  return AREAS.some((x) => x.key === area) ? (area as Area | '') : '';
}

export default function Recommendations() {
  const { params } = useLocation();
  const w = windowQuery(params);
  const service = params.get('service') ?? undefined;
  const area = areaOf(params);
  const kindParam = params.get('kind') ?? '';
  const kind = kindParam in KIND_LABEL ? (kindParam as Kind) : '';
  const stateParam = params.get('state') ?? '';
  const state = stateParam === 'any' || stateParam in STATE_LABEL ? stateParam : '';
  const list = useApi(
    () => get('/api/v1/recommendations', { ...w, service }),
    [w.window, w.from, w.to, service],
  );
  const [status, setStatus] = useState('');
  // The answers of this page's POSTs, shown until the reloaded list has the same state or a later one.
  const [changed, setChanged] = useState<ReadonlyMap<string, Rec>>(new Map());
  const statusRef = useRef<HTMLParagraphElement>(null);
  const all = (list.data?.recommendations ?? []).map((r) => newer(r, changed.get(r.id)));
  const inArea = all.filter((r) => area === '' || r.area === area);
  const ofKind = inArea.filter((r) => kind === '' || r.kind === kind);
  const shown = ofKind.filter((r) => stateMatches(state, r.state));
  const done = (r: Rec, message: string) => {
    setChanged((m) => new Map(m).set(r.id, r));
    setStatus(message);
    list.reload();
    statusRef.current?.focus();
  };
  return (
    <>
      <div class="page-head">
        <h1>Recommendations</h1>
        <fieldset class="segmented">
          <legend>Area</legend>
          {AREAS.map((a) => (
            <label key={a.key}>
              <input
                type="radio"
                name="area"
                value={a.key}
                checked={a.key === area}
                onChange={() => setParams({ area: a.key || undefined }, true)}
              />
              {a.label}
            </label>
          ))}
        </fieldset>
        <label>
          Kind{' '}
          <select
            value={kind}
            onChange={(e) => setParams({ kind: (e.target as HTMLSelectElement).value || undefined }, true)}
          >
            <option value="">all kinds ({count(inArea.length)})</option>
            {(Object.keys(KIND_LABEL) as Kind[]).map((k) => (
              <option key={k} value={k}>
                {KIND_LABEL[k]} ({count(inArea.filter((r) => r.kind === k).length)})
              </option>
            ))}
          </select>
        </label>
        <label>
          State{' '}
          <select
            value={state}
            onChange={(e) => setParams({ state: (e.target as HTMLSelectElement).value || undefined }, true)}
          >
            <option value="">
              all but dismissed ({count(ofKind.filter((r) => r.state !== 'dismissed').length)})
            </option>
            <option value="any">any state ({count(ofKind.length)})</option>
            {(Object.keys(STATE_LABEL) as State[]).map((s) => (
              <option key={s} value={s}>
                {STATE_LABEL[s]} ({count(ofKind.filter((r) => r.state === s).length)})
              </option>
            ))}
          </select>
        </label>
      </div>
      <p role="status" class="small" tabIndex={-1} ref={statusRef}>
        {status}
      </p>
      <Panel title="Ranked by gain" id="ranked">
        <Async state={list}>
          {(a) => (
            <>
              {shown.length > 0 ? <Summary list={shown} /> : null}
              {shown.length === 0 ? (
                a.recommendations.length === 0 ? (
                  <AdviceEmpty />
                ) : (
                  <p class="muted">
                    None of the {count(a.recommendations.length)} recommendations of this window match these
                    filters;{' '}
                    <a href={href('/recommendations', { area: undefined, kind: undefined, state: 'any' })}>
                      show them all
                    </a>
                    .
                  </p>
                )
              ) : (
                <ol class="cards">
                  {shown.map((r) => (
                    <RecCard
                      key={r.id}
                      r={r}
                      rank={a.recommendations.findIndex((x) => x.id === r.id) + 1}
                      query={{ ...w, service }}
                      onDone={done}
                    />
                  ))}
                </ol>
              )}
              <Notes answer={a} area={area} service={service} />
            </>
          )}
        </Async>
      </Panel>
    </>
  );
}

/** What could not be checked, and where the hosts that need no change are. */
function Notes(props: { answer: RecommendationListAnswer; area: Area | ''; service: string | undefined }) {
  const { answer } = props;
  return (
    <>
      {props.area === '' || props.area === 'host' ? (
        <p class="small muted">
          {props.service
            ? `Hosts have no service: clear the service filter to see their right-sizing. `
            : 'A host whose size fits its load, or with under a day of history, has no item here. '}
          Each host's sizing and cost: <a href={href('/resources')}>Resources</a>.
        </p>
      ) : null}
      {answer.notes.length > 0 ? (
        <>
          <h3>Not checked</h3>
          <ul>
            {answer.notes.map((n) => (
              <li key={n} class="small">
                {n}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}

function Summary(props: { list: Rec[] }) {
  const open = props.list.filter((r) => r.state === 'open');
  const timed = open.filter((r) => r.gain.timeSavedSecondsPerHour !== null);
  const saved = timed.reduce((s, r) => s + (r.gain.timeSavedSecondsPerHour ?? 0), 0);
  const priced = open.filter((r) => r.gain.moneyPerMonth !== null);
  const currency = priced.find((r) => r.gain.currency)?.gain.currency ?? '';
  const perMonth = priced.reduce((s, r) => s + (r.gain.moneyPerMonth ?? 0), 0);
  const sev = (s: Rec['severity']) => open.filter((r) => r.severity === s).length;
  return (
    <div class="stats">
      <Stat label="shown" value={count(props.list.length)} />
      <Stat label="open" value={count(open.length)} />
      {timed.length > 0 ? (
        <Stat
          label={`saved per hour by the ${timed.length} open with a time estimate`}
          value={ms(saved * 1000)}
          tone={saved > 0 ? 'good' : undefined}
        />
      ) : null}
      {priced.length > 0 ? (
        <Stat
          label={`per month by the ${priced.length} open with a price`}
          value={money(perMonth, currency)}
          tone={perMonth > 0 ? 'good' : undefined}
        />
      ) : null}
      <Stat
        label="critical (open)"
        value={count(sev('critical'))}
        tone={sev('critical') ? 'bad' : undefined}
      />
      <Stat label="warning (open)" value={count(sev('warning'))} tone={sev('warning') ? 'warn' : undefined} />
    </div>
  );
}

/** The gain's figures, each in its unit (those the gain has). */
export function gainFigures(g: Rec['gain']): { label: string; value: string }[] {
  const out: { label: string; value: string }[] = [];
  const signed = (v: number, plus: string, minus: string) => (v >= 0 ? plus : minus);
  if (g.timeSavedSecondsPerHour !== null)
    out.push({ label: 'Time saved per hour', value: ms(g.timeSavedSecondsPerHour * 1000) });
  if (g.msPerRequest !== null) out.push({ label: 'Per request', value: ms(g.msPerRequest) });
  if (g.databaseSecondsPerHour !== null)
    out.push({ label: 'Database time per hour', value: ms(g.databaseSecondsPerHour * 1000) });
  if (g.cpuSecondsPerHour !== null)
    out.push({
      label: 'CPU per hour',
      value: `${num(Math.abs(g.cpuSecondsPerHour), 1)} CPU-seconds ${signed(g.cpuSecondsPerHour, 'freed', 'added')}`,
    });
  if (g.moneyPerMonth !== null)
    out.push({
      label: 'Money per month',
      value: `${money(Math.abs(g.moneyPerMonth), g.currency ?? '')} ${signed(g.moneyPerMonth, 'saved', 'more')}`,
    });
  if (g.hitRatioPoints !== null)
    out.push({
      label: 'Hit ratio',
      value: `${signed(g.hitRatioPoints, '+', '−')}${num(Math.abs(g.hitRatioPoints), 1)} points`,
    });
  if (g.memoryBytes !== null)
    out.push({
      label: 'Memory',
      value: `${bytes3(Math.abs(g.memoryBytes))} ${signed(g.memoryBytes, 'more', 'freed')}`,
    });
  return out;
}

/** An outcome figure in its unit (`ms`, or `%` 0..100). */
function outcomeValue(v: number | null, unit: 'ms' | '%'): string {
  if (v === null) return '–';
  return unit === 'ms' ? ms(v) : `${num(v, 2)}%`;
}

/** The window query the POSTs repeat, so the server finds the recommendation in the same computation. */
type WindowArgs = { window?: string; from?: string; to?: string; service?: string | undefined };

function RecCard(props: {
  r: Rec;
  rank: number;
  query: WindowArgs;
  onDone: (r: Rec, message: string) => void;
}) {
  const { r } = props;
  const titleId = `rec-${r.id}-title`;
  const links = targetLinks(r);
  const figures = gainFigures(r.gain);
  return (
    <li class="advice rec" id={`rec-${r.id}`}>
      <p>
        <span class="rank">#{props.rank}</span>
        <span class={`badge ${SEVERITY_TONE[r.severity]}`}>{r.severity}</span>{' '}
        <span class="badge muted">{KIND_LABEL[r.kind] ?? r.kind}</span>{' '}
        <span class={`badge ${STATE_TONE[r.state]}`}>{STATE_LABEL[r.state] ?? r.state}</span>{' '}
        <strong id={titleId}>{r.title}</strong>
      </p>
      {figures.length > 0 ? (
        <ul class="gain-figures" aria-label="Expected gain">
          {figures.map((f) => (
            <li key={f.label}>
              <span class="muted">{f.label}</span> <strong class="good">{f.value}</strong>
            </li>
          ))}
          <li>
            <span class="muted">Confidence</span> {r.gain.confidence}
          </li>
        </ul>
      ) : null}
      <p>
        <strong>Expected gain:</strong> {r.gain.description}
        {figures.length === 0 ? ` (confidence ${r.gain.confidence})` : ''}
      </p>
      {r.gain.endpoints.length > 0 ? (
        <ul class="plain small" aria-label="Endpoints it changes">
          {r.gain.endpoints.map((e) => (
            <li key={`${e.service} ${e.endpoint}`}>
              <code>{e.endpoint}</code> ({e.service}): p95 {ms(e.p95Ms)} → {ms(e.expectedP95Ms)} expected (
              {e.expectedP95Ms <= e.p95Ms ? '−' : '+'}
              {ms(Math.abs(e.p95Ms - e.expectedP95Ms))}), {count(e.requestsPerHour)} requests per hour; the
              statement is {pct(e.statementShare)} of its time{e.dominant ? ', the largest share' : ''}
            </li>
          ))}
        </ul>
      ) : null}
      {r.gain.arithmetic.length > 0 ? (
        <details>
          <summary>How the gain is computed</summary>
          <ol class="small">
            {r.gain.arithmetic.map((line, i) => (
              <li key={i}>{line}</li>
            ))}
          </ol>
          <p class="small muted">
            Confidence {r.gain.confidence}: {r.gain.confidenceReason}
          </p>
        </details>
      ) : null}
      <p>
        <strong>Apply ({r.apply.kind}):</strong> {r.apply.how}
      </p>
      {r.apply.change ? (
        <CopyCode code={r.apply.change} label={`the change of recommendation #${props.rank}`} wrap />
      ) : null}
      {r.alternatives.length > 0 ? (
        <details>
          <summary>Alternatives ({r.alternatives.length})</summary>
          <ul class="plain">
            {r.alternatives.map((alt, i) => (
              <li key={i}>
                <p>
                  <strong>{alt.title}</strong> — {alt.gain.description}
                </p>
                <p>
                  <strong>Apply ({alt.apply.kind}):</strong> {alt.apply.how}
                </p>
                {alt.apply.change ? (
                  <CopyCode
                    code={alt.apply.change}
                    label={`alternative ${i + 1} of recommendation #${props.rank}`}
                    wrap
                  />
                ) : null}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <div class="evidence-links">
        {links.map((l) => (
          <a key={l.href} href={l.href}>
            {l.label} →
          </a>
        ))}
        {r.related.map((id) => (
          <a key={id} href={`#rec-${id}`}>
            Related {id} →
          </a>
        ))}
        <details>
          <summary>Evidence</summary>
          <Evidence r={r} />
        </details>
      </div>
      <StateView r={r} />
      <Actions r={r} rank={props.rank} titleId={titleId} query={props.query} onDone={props.onDone} />
    </li>
  );
}

function Evidence(props: { r: Rec }) {
  const e = props.r.evidence;
  return (
    <>
      <p class="small">
        Window {time(e.window.from)} – {time(e.window.to)}
        {e.fingerprint ? (
          <>
            ; statement fingerprint <code>{e.fingerprint}</code>
          </>
        ) : null}
        {e.traceIds.length > 0 ? <>; {count(e.traceIds.length)} example traces</> : null}
      </p>
      {e.planExcerpt ? (
        <>
          <p class="small">Plan:</p>
          <pre>
            <code>{e.planExcerpt}</code>
          </pre>
        </>
      ) : null}
      {e.series.length > 0 ? (
        <ul class="plain small">
          {e.series.map((s) => (
            <li key={s.query}>
              {s.name}: <code>{s.query}</code>
            </li>
          ))}
        </ul>
      ) : null}
      <EvidenceList evidence={e.measured} />
    </>
  );
}

/** The state, why, and once applied the outcome: before → after, the verdict, when it is judged. */
function StateView(props: { r: Rec }) {
  const { r } = props;
  if (r.state === 'open') return null;
  const o = r.outcome;
  return (
    <div class="rec-state">
      <p class="small">
        {STATE_LABEL[r.state]}
        {r.stateChangedAt ? ` ${relative(r.stateChangedAt)} (${time(r.stateChangedAt)})` : ''}
        {r.stateReason ? (
          <>
            : <q>{r.stateReason}</q>
          </>
        ) : null}
      </p>
      {r.state !== 'dismissed' ? (
        o ? (
          <>
            <p>
              <strong>Outcome:</strong> {o.figure} {outcomeValue(o.before, o.unit)} →{' '}
              {o.after === null ? 'not measured yet' : outcomeValue(o.after, o.unit)}
              {o.samplesAfter !== null
                ? ` (${count(o.samplesBefore)} → ${count(o.samplesAfter)} samples)`
                : ` (${count(o.samplesBefore)} samples before)`}
            </p>
            <p class="small">
              {o.verdict}; judged after {time(o.judgeableAt)}
              {o.after === null ? ` (${relative(o.judgeableAt)})` : ''}.
            </p>
            <p class="small muted">Rule: {o.rule}</p>
          </>
        ) : (
          <p class="small muted">This kind has no figure that siperf measures again after it is applied.</p>
        )
      ) : null}
    </div>
  );
}

/** "Mark applied" and "Dismiss", each opening a form with an optional note (Escape or Cancel closes it). */
function Actions(props: {
  r: Rec;
  rank: number;
  titleId: string;
  query: WindowArgs;
  onDone: (r: Rec, message: string) => void;
}) {
  const { r } = props;
  const [form, setForm] = useState<'applied' | 'dismiss' | undefined>(undefined);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const applyButton = useRef<HTMLButtonElement>(null);
  const dismissButton = useRef<HTMLButtonElement>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (form) input.current?.focus();
  }, [form]);
  const canApply = r.state === 'open' || r.state === 'dismissed';
  const canDismiss = r.state !== 'dismissed';
  const formId = `rec-${r.id}-form`;
  const noteId = `rec-${r.id}-note`;
  const open = (which: 'applied' | 'dismiss') => {
    setError(undefined);
    setForm(form === which ? undefined : which);
  };
  const close = () => {
    const back = form === 'applied' ? applyButton.current : dismissButton.current;
    setForm(undefined);
    setNote('');
    setError(undefined);
    back?.focus();
  };
  const submit = (e: Event) => {
    e.preventDefault();
    if (!form || busy) return;
    setBusy(true);
    const text = note.trim();
    const body = form === 'applied' ? (text ? { note: text } : {}) : text ? { reason: text } : {};
    post<RecommendationAnswer>(`/api/v1/recommendations/{id}/${form}`, body, { id: r.id }, props.query).then(
      (answer) => {
        setBusy(false);
        setForm(undefined);
        setNote('');
        props.onDone(
          answer.recommendation,
          `${form === 'applied' ? 'Marked applied' : 'Dismissed'}: #${props.rank} ${r.title}`,
        );
      },
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof ApiError ? (err.problem.detail ?? err.message) : String(err));
      },
    );
  };
  if (!canApply && !canDismiss) return null;
  return (
    <>
      <div class="row-actions">
        {canApply ? (
          <button
            type="button"
            ref={applyButton}
            aria-describedby={props.titleId}
            aria-expanded={form === 'applied'}
            aria-controls={form === 'applied' ? formId : undefined}
            onClick={() => open('applied')}
          >
            Mark applied
          </button>
        ) : null}
        {canDismiss ? (
          <button
            type="button"
            ref={dismissButton}
            aria-describedby={props.titleId}
            aria-expanded={form === 'dismiss'}
            aria-controls={form === 'dismiss' ? formId : undefined}
            onClick={() => open('dismiss')}
          >
            Dismiss
          </button>
        ) : null}
      </div>
      {form ? (
        <form
          id={formId}
          class="rec-form"
          onSubmit={submit}
          onKeyDown={(e) => {
            if (e.key === 'Escape') close();
          }}
          aria-label={`${form === 'applied' ? 'Mark applied' : 'Dismiss'}: recommendation #${props.rank}`}
        >
          <label for={noteId}>{form === 'applied' ? 'What was changed (optional)' : 'Why (optional)'}</label>
          <input
            id={noteId}
            ref={input}
            type="text"
            maxLength={1000}
            value={note}
            onInput={(e) => setNote((e.target as HTMLInputElement).value)}
          />
          <button type="submit" class="primary" disabled={busy}>
            {form === 'applied' ? 'Confirm: mark applied' : 'Confirm: dismiss'}
          </button>
          <button type="button" onClick={close}>
            Cancel
          </button>
          {error ? (
            <p class="bad small" role="alert">
              {error}
            </p>
          ) : null}
        </form>
      ) : null}
    </>
  );
}

/** What makes recommendations appear: traces with database spans, configured pools, caches, hosts. */
function AdviceEmpty() {
  const origin = window.location.origin;
  return (
    <div class="empty">
      <p>
        <strong>Nothing to recommend in this time range.</strong> Recommendations come from what siperf sees:
      </p>
      <ul>
        <li>
          traces (N+1 calls, slow and sequential statements, regressions after a <code>service.version</code>{' '}
          change, the spans where errors start): send them with any OpenTelemetry SDK to <code>{origin}</code>
          , or <code>init()</code> of <code>@siperf/node</code>,
        </li>
        <li>
          plans and indexes: set <code>pools</code> (<code>SIPERF_POOLS='main=postgresql://app@db/shop'</code>
          ) so the advisor can EXPLAIN the costly statements,
        </li>
        <li>
          caches with traffic: a server cache (<code>POST /api/v1/cache-db/caches</code>) or an application's
          (<code>@siperf/node/cache</code>), see <a href={href('/caches')}>Caches</a>,
        </li>
        <li>
          hosts' CPU and memory over a day or more (the host sampler or <code>nodeExporterTargets</code>), see{' '}
          <a href={href('/resources')}>Resources</a>.
        </li>
      </ul>
    </div>
  );
}
