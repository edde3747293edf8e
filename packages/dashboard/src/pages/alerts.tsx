/**
 * Alerts: the state of every rule (GET /api/v1/alerts) with who it notifies and what became of the last
 * notice, the rules with create, edit and delete (`?edit=new` or `?edit=<id>` opens the form; the edited
 * rule is POSTed back whole, as the API takes a rule it answered), the transition history with its
 * deliveries, and silences (list and create; `?silence=<ruleId>` opens the form for one rule).
 * `?rule=<id>` — the link notifications carry (`<publicUrl>/alerts?rule=<id>`) — shows that rule first:
 * its state, condition, receivers and recent transitions.
 *
 * The form sends what was typed and lets the API judge it: a refused rule comes back as a problem
 * document whose `field` (`expr.name`, `receivers[1].url`, `threshold`) names the input, and its detail
 * is shown on that input (`aria-invalid`, `aria-describedby`), which gets the focus.
 * @module
 */
import type { AlertEvent, AlertRule, AlertRuleInput, AlertStatus, Silence } from '@siperf/server/schemas';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, del, get, post } from '../api.ts';
import { Async, Panel } from '../components/common.tsx';
import { detailOnField, Field, fieldId, invalidProps } from '../components/form-field.tsx';
import { Table } from '../components/table.tsx';
import { ms, num, pct, time } from '../format.ts';
import { useApi } from '../hooks.ts';
import { href, setParams, useLocation } from '../router.ts';
import { dur, relative } from '../units.ts';
import './ops-pages.css';

type Kind = AlertRuleInput['expr']['kind'];
const KINDS: { kind: Kind; label: string }[] = [
  { kind: 'resource', label: 'Resource utilisation (CPU, memory, disk)' },
  { kind: 'exhaustion', label: 'Hours until a disk or memory is full' },
  { kind: 'endpoint', label: 'Endpoint p95, error rate or p95 regression' },
  { kind: 'metric', label: 'Any stored metric' },
];
const STATE_TONE: Record<AlertStatus['state'], string> = {
  firing: 'bad',
  pending: 'warn',
  resolved: 'good',
  inactive: 'muted',
};
const SEVERITY_TONE = { critical: 'bad', warning: 'warn', info: 'info' } as const;

/** How a rule's value reads: a ratio, hours, milliseconds or a plain number. */
function valueFormat(expr: AlertRuleInput['expr'] | undefined): (v: number) => string {
  if (!expr) return (v) => num(v, 3);
  switch (expr.kind) {
    case 'resource':
      return (v) => pct(v);
    case 'exhaustion':
      // The server answers 10^6 h when the forecast crosses nowhere within its horizon.
      return (v) => (v >= 1e6 ? 'no crossing' : `${num(v, 1)} h`);
    case 'endpoint':
      return expr.stat === 'p95Ms'
        ? (v) => ms(v)
        : expr.stat === 'errorRate'
          ? (v) => pct(v)
          : (v) => `${num(v, 2)}×`;
    default:
      return (v) => num(v, 3);
  }
}

const STAT_WORDS = { p95Ms: 'p95', errorRate: 'error rate', p95Regression: 'p95 over its baseline' } as const;

/** A rule's expression in words. */
function describe(expr: AlertRuleInput['expr']): string {
  switch (expr.kind) {
    case 'resource':
      return `${expr.resource} utilisation${expr.host ? ` of ${expr.host}` : ''}${expr.select ? ` (${expr.select})` : ''}`;
    case 'exhaustion':
      return `hours until ${expr.resource} is full${expr.host ? ` on ${expr.host}` : ''}${expr.select ? ` (${expr.select})` : ''}`;
    case 'endpoint':
      return `${STAT_WORDS[expr.stat]} of ${expr.endpoint ?? 'the worst endpoint'}${expr.service ? ` (${expr.service})` : ''}`;
    case 'metric':
      return `${expr.stat ?? 'mean'} of ${expr.name}${expr.host ? ` on ${expr.host}` : ''}`;
  }
}

export default function Alerts() {
  const { params } = useLocation();
  const states = useApi(() => get('/api/v1/alerts'), []);
  const rules = useApi(() => get('/api/v1/alerts/rules'), []);
  const history = useApi(() => get('/api/v1/alerts/history', { limit: 200 }), []);
  const silences = useApi(() => get('/api/v1/alerts/silences'), []);
  const editing = params.get('edit');
  const focus = params.get('rule');
  const silenceFor = params.get('silence');
  const [notice, setNotice] = useState<string | undefined>();
  const byId = new Map((rules.data?.rules ?? []).map((r) => [r.id, r]));
  const reloadAll = () => {
    states.reload();
    rules.reload();
    history.reload();
    silences.reload();
  };
  return (
    <>
      <div class="page-head">
        <h1>Alerts</h1>
        <p role="status" class="good small">
          {notice ?? ''}
        </p>
      </div>
      {focus ? (
        <RuleFocus
          id={focus}
          rule={byId.get(focus)}
          loaded={rules.data !== undefined}
          state={states.data?.alerts.filter((a) => a.ruleId === focus) ?? []}
          events={(history.data?.events ?? []).filter((e) => e.ruleId === focus).slice(0, 10)}
        />
      ) : null}
      <Panel title="Now" id="states">
        <Async state={states}>{(a) => <States alerts={a.alerts} rules={byId} />}</Async>
      </Panel>
      <Panel
        title="Rules"
        id="rules"
        actions={
          editing ? null : (
            <button type="button" class="primary" onClick={() => setParams({ edit: 'new' })}>
              New rule
            </button>
          )
        }
      >
        {editing ? (
          rules.data || editing === 'new' ? (
            <RuleForm
              key={editing}
              rule={editing === 'new' ? undefined : byId.get(editing)}
              missing={editing !== 'new' && !byId.has(editing)}
              onDone={(saved) => {
                setParams({ edit: undefined });
                if (saved) {
                  setNotice(`Saved rule “${saved.name}”.`);
                  reloadAll();
                }
              }}
            />
          ) : (
            <p class="muted">Loading…</p>
          )
        ) : null}
        <Async state={rules}>
          {(a) => (
            <RulesTable
              rules={a.rules}
              onDeleted={(r) => {
                setNotice(`Deleted rule “${r.name}”.`);
                reloadAll();
              }}
            />
          )}
        </Async>
      </Panel>
      <Panel title="Silences" id="silences">
        <Async state={silences}>{(a) => <Silences silences={a.silences} rules={byId} />}</Async>
        <SilenceForm
          key={silenceFor ?? ''}
          rules={rules.data?.rules ?? []}
          ruleId={silenceFor ?? undefined}
          onSaved={(s) => {
            setParams({ silence: undefined });
            setNotice(`Silenced until ${time(s.endsAt)}.`);
            reloadAll();
          }}
        />
      </Panel>
      <Panel title="History" id="history">
        <Async state={history}>{(a) => <History events={a.events} rules={byId} />}</Async>
      </Panel>
    </>
  );
}

const DELIVERY: Record<NonNullable<AlertStatus['delivery']>, { tone: string; text: string }> = {
  delivered: { tone: 'good', text: 'delivered' },
  failed: { tone: 'bad', text: 'delivery failed' },
  'no-receiver': { tone: 'bad', text: 'nobody notified' },
  silenced: { tone: 'muted', text: 'silenced' },
};

/** Who a rule's notices go to, and what became of the last one. */
function Delivery(props: { a: AlertStatus }) {
  const { a } = props;
  const d = a.delivery ? DELIVERY[a.delivery] : undefined;
  return (
    <>
      {d ? <span class={`badge ${d.tone}`}>{d.text}</span> : null}{' '}
      <span class={a.receivers === 0 ? 'muted small' : 'small'}>
        {a.receivers === 0 ? 'no receiver' : `${a.receivers} ${a.receivers === 1 ? 'receiver' : 'receivers'}`}
      </span>
    </>
  );
}

function States(props: { alerts: AlertStatus[]; rules: Map<string, AlertRule> }) {
  if (props.alerts.length === 0)
    return (
      <p class="muted">
        No rule is evaluated. Create one below, or turn the built-in rules back on (
        <code>alertDefaultRules</code>).
      </p>
    );
  const order = { firing: 0, pending: 1, resolved: 2, inactive: 3 } as const;
  return (
    <Table
      id="states"
      caption="Every rule's state, evaluated every 30 s (alertEvaluationIntervalMs)"
      rows={props.alerts.map((a, i) => ({ ...a, i }))}
      rowKey={(a) => `${a.ruleId}${a.i}`}
      sort="state"
      dir="asc"
      columns={[
        {
          key: 'state',
          label: 'State',
          value: (a) =>
            order[a.state] * 10 + (a.severity === 'critical' ? 0 : a.severity === 'warning' ? 1 : 2),
          render: (a) => (
            <a href={href('/alerts', { rule: a.ruleId })} class="plain-link">
              <span class={`badge ${STATE_TONE[a.state]}`}>{a.state}</span>
            </a>
          ),
        },
        { key: 'name', label: 'Rule', value: (a) => a.name },
        {
          key: 'severity',
          label: 'Severity',
          value: (a) => a.severity,
          render: (a) => <span class={`badge ${SEVERITY_TONE[a.severity]}`}>{a.severity}</span>,
        },
        {
          key: 'value',
          label: 'Value / threshold',
          numeric: true,
          value: (a) => a.value,
          render: (a) => {
            const r = props.rules.get(a.ruleId);
            const f = valueFormat(r?.expr);
            return a.error ? (
              <span class="bad" title={a.error}>
                evaluation failed
              </span>
            ) : (
              <>
                {a.value === null ? <span class="muted">no data</span> : f(a.value)}{' '}
                <span class="muted">
                  {r?.op ?? '>'} {f(a.threshold)}
                </span>
              </>
            );
          },
        },
        {
          key: 'delivery',
          label: 'Notifications',
          value: (a) => `${a.delivery ?? ''}${a.receivers}`,
          render: (a) => <Delivery a={a} />,
        },
        {
          key: 'since',
          label: 'Since',
          value: (a) => (a.since ? Date.parse(a.since) : 0),
          render: (a) => (a.since ? <span title={time(a.since)}>{relative(a.since)}</span> : '–'),
        },
        {
          key: 'labels',
          label: 'Labels',
          value: (a) => Object.entries(a.labels).join(' '),
          render: (a) => (
            <span class="small">
              {Object.entries(a.labels).map(([k, v]) => (
                <span key={k} class="chip">
                  {k}={v}
                </span>
              ))}
              {a.error ? <span class="bad">{a.error}</span> : null}
            </span>
          ),
        },
        {
          key: 'actions',
          label: 'Actions',
          sortable: false,
          value: () => '',
          render: (a) =>
            a.state === 'firing' || a.state === 'pending' ? (
              <button type="button" onClick={() => setParams({ silence: a.ruleId })}>
                Silence…
              </button>
            ) : null,
        },
      ]}
    />
  );
}

/** One rule, as a notification's link opens it: its state, condition, receivers and last transitions. */
function RuleFocus(props: {
  id: string;
  rule: AlertRule | undefined;
  loaded: boolean;
  state: AlertStatus[];
  events: AlertEvent[];
}) {
  const { rule } = props;
  if (!rule)
    return (
      <Panel title={`Rule ${props.id}`} id="rule">
        <p class="muted">{props.loaded ? `No rule ${props.id}: it was deleted or renamed.` : 'Loading…'}</p>
      </Panel>
    );
  const f = valueFormat(rule.expr);
  return (
    <Panel
      title={`Rule “${rule.name}”`}
      id="rule"
      actions={
        <span class="row-actions">
          <button type="button" onClick={() => setParams({ edit: rule.id })}>
            Edit
          </button>
          <button type="button" onClick={() => setParams({ silence: rule.id })}>
            Silence…
          </button>
          <a href={href('/alerts', { rule: undefined })}>All rules</a>
        </span>
      }
    >
      <p>
        Fires when {describe(rule.expr)} {rule.op} {f(rule.threshold)}
        {rule.forMs ? ` for ${dur(rule.forMs)}` : ''} (over {dur(rule.windowMs)}
        {rule.clear !== undefined ? `; clears at ${f(rule.clear)}` : ''}).{' '}
        <span class={`badge ${SEVERITY_TONE[rule.severity]}`}>{rule.severity}</span>
      </p>
      {props.state.map((a, i) => (
        <p key={i}>
          <span class={`badge ${STATE_TONE[a.state]}`}>{a.state}</span>
          {a.since ? ` since ${time(a.since)} (${relative(a.since)})` : ''}: value{' '}
          {a.value === null ? 'none (no data)' : f(a.value)}
          {a.lastEvaluated ? <span class="muted small"> at {time(a.lastEvaluated)}</span> : null}{' '}
          <Delivery a={a} />
          {Object.entries(a.labels).map(([k, v]) => (
            <span key={k} class="chip">
              {k}={v}
            </span>
          ))}
          {a.error ? <span class="bad"> {a.error}</span> : null}
        </p>
      ))}
      <p class="small">
        Notifies:{' '}
        {rule.receivers.length === 0
          ? 'its own receivers: none (the alertReceivers setting, when set, applies)'
          : rule.receivers
              .map((r) => (r.type === 'pagerduty' ? 'PagerDuty' : `${r.type} ${'url' in r ? r.url : ''}`))
              .join(', ')}
      </p>
      {props.events.length > 0 ? (
        <>
          <h3>Last transitions</h3>
          <ul class="plain small">
            {props.events.map((e, i) => (
              <li key={i}>
                {time(e.at)} <span class={`badge ${STATE_TONE[e.transition]}`}>{e.transition}</span>
                {e.value !== undefined ? ` at ${f(e.value)}` : ''}
                {e.silenced ? ' (silenced)' : ''}
                {e.deliveries.map((d, j) => (
                  <span key={j} class={d.ok ? 'good' : 'bad'}>
                    {' '}
                    · {d.ok ? '✓' : '✗'} {d.receiver}
                    {d.error ? `: ${d.error}` : ''}
                  </span>
                ))}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </Panel>
  );
}

function RulesTable(props: { rules: AlertRule[]; onDeleted: (r: AlertRule) => void }) {
  const [confirm, setConfirm] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  if (props.rules.length === 0) return <p class="muted">No rule yet: “New rule” makes one.</p>;
  return (
    <>
      {error ? (
        <p class="bad" role="alert">
          {error}
        </p>
      ) : null}
      <Table
        id="rules"
        caption="Rules: the condition, how long it must hold, and where notifications go"
        rows={props.rules}
        rowKey={(r) => r.id}
        sort="name"
        dir="asc"
        columns={[
          {
            key: 'name',
            label: 'Rule',
            value: (r) => r.name,
            render: (r) => (
              <>
                <strong>{r.name}</strong> <span class="muted small">{r.id}</span>
                {r.builtIn ? <span class="badge muted">built in</span> : null}
                {r.fromFile ? <span class="badge muted">from file</span> : null}
              </>
            ),
          },
          {
            key: 'condition',
            label: 'Fires when',
            value: (r) => describe(r.expr),
            render: (r) => {
              const f = valueFormat(r.expr);
              return (
                <>
                  {describe(r.expr)} {r.op} {f(r.threshold)}
                  {r.clear !== undefined ? <span class="muted small"> (clears at {f(r.clear)})</span> : null}
                </>
              );
            },
          },
          {
            key: 'for',
            label: 'For / window',
            value: (r) => r.forMs,
            render: (r) => `${r.forMs === 0 ? 'at once' : dur(r.forMs)} / ${dur(r.windowMs)}`,
          },
          {
            key: 'severity',
            label: 'Severity',
            value: (r) => r.severity,
            render: (r) => <span class={`badge ${SEVERITY_TONE[r.severity]}`}>{r.severity}</span>,
          },
          {
            key: 'receivers',
            label: 'Notifies',
            value: (r) => r.receivers.length,
            render: (r) =>
              r.receivers.length === 0 ? (
                <span class="muted">nobody</span>
              ) : (
                r.receivers.map((x) => x.type).join(', ')
              ),
          },
          {
            key: 'actions',
            label: 'Actions',
            value: () => '',
            render: (r) => (
              <span class="row-actions">
                <button type="button" onClick={() => setParams({ edit: r.id })} aria-label={`Edit ${r.name}`}>
                  Edit
                </button>
                {confirm === r.id ? (
                  <>
                    <button
                      type="button"
                      class="danger"
                      onClick={() => {
                        del('/api/v1/alerts/rules/{id}', { id: r.id }).then(
                          () => {
                            setConfirm(undefined);
                            setError(undefined);
                            props.onDeleted(r);
                          },
                          (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)),
                        );
                      }}
                    >
                      Delete “{r.name}”
                    </button>
                    <button type="button" onClick={() => setConfirm(undefined)}>
                      Keep
                    </button>
                  </>
                ) : (
                  <button
                    type="button"
                    class="danger"
                    onClick={() => setConfirm(r.id)}
                    aria-label={`Delete ${r.name}…`}
                  >
                    Delete…
                  </button>
                )}
              </span>
            ),
          },
        ]}
      />
    </>
  );
}

/** The form's text of a rule (every input is text; the API checks the values). */
interface Draft {
  id: string;
  name: string;
  kind: Kind;
  expr: Record<string, string>;
  op: '>' | '<';
  threshold: string;
  clear: string;
  forMs: string;
  windowMs: string;
  severity: string;
  labels: string;
  receivers: { type: string; url: string; routingKey: string }[];
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

function draftOf(r: AlertRule | undefined): Draft {
  if (!r)
    return {
      id: '',
      name: '',
      kind: 'resource',
      expr: { resource: 'cpu' },
      op: '>',
      threshold: '',
      clear: '',
      forMs: '300000',
      windowMs: '300000',
      severity: 'warning',
      labels: '',
      receivers: [],
    };
  const { kind, ...rest } = r.expr;
  return {
    id: r.id,
    name: r.name,
    kind,
    expr: Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, str(v)])),
    op: r.op,
    threshold: str(r.threshold),
    clear: str(r.clear),
    forMs: str(r.forMs),
    windowMs: str(r.windowMs),
    severity: r.severity,
    labels: Object.entries(r.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    receivers: r.receivers.map((x) => ({
      type: x.type,
      url: 'url' in x ? str(x.url) : '',
      routingKey: 'routingKey' in x ? str(x.routingKey) : '',
    })),
  };
}

/** A number when the text is one; the text itself otherwise (the API names what it expected). */
const numeric = (s: string): number | string | undefined => {
  const t = s.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
};

/** The members of each expression kind the form shows, and whether they are numbers. */
const EXPR_FIELDS: Record<Kind, { key: string; numeric?: boolean }[]> = {
  resource: [{ key: 'resource' }, { key: 'host' }, { key: 'select' }],
  exhaustion: [{ key: 'resource' }, { key: 'host' }, { key: 'select' }],
  endpoint: [
    { key: 'stat' },
    { key: 'service' },
    { key: 'endpoint' },
    { key: 'minRequests', numeric: true },
    { key: 'baselineMs', numeric: true },
    { key: 'minP95Ms', numeric: true },
  ],
  metric: [{ key: 'name' }, { key: 'stat' }, { key: 'host' }],
};

/** The body POSTed: the rule as typed (empty optional inputs left out), over the rule being edited. */
function bodyOf(d: Draft, original: AlertRule | undefined): Record<string, unknown> {
  const expr: Record<string, unknown> = { kind: d.kind };
  for (const f of EXPR_FIELDS[d.kind]) {
    const v = d.expr[f.key] ?? '';
    const value = f.numeric ? numeric(v) : v.trim() === '' ? undefined : v.trim();
    if (value !== undefined) expr[f.key] = value;
  }
  const labels: Record<string, string> = {};
  for (const line of d.labels.split('\n')) {
    if (line.trim() === '') continue;
    const at = line.indexOf('=');
    labels[(at < 0 ? line : line.slice(0, at)).trim()] = at < 0 ? '' : line.slice(at + 1).trim();
  }
  const receivers = d.receivers.map((x) =>
    x.type === 'pagerduty'
      ? { type: x.type, routingKey: x.routingKey.trim(), ...(x.url.trim() ? { url: x.url.trim() } : {}) }
      : { type: x.type, url: x.url.trim() },
  );
  const body: Record<string, unknown> = {
    ...(original ?? {}),
    name: d.name,
    expr,
    op: d.op,
    threshold: numeric(d.threshold),
    clear: numeric(d.clear),
    forMs: numeric(d.forMs),
    windowMs: numeric(d.windowMs),
    severity: d.severity,
    labels,
    receivers,
  };
  if (!original && d.id.trim()) body.id = d.id.trim();
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

/**
 * Where the form shows an error about `field`: the input of that path when there is one, else the
 * closest (an unknown member of `expr` on the kind, of a receiver on its type, any label on the labels).
 */
function placeOf(field: string | undefined, shown: Set<string>): string | undefined {
  if (!field) return undefined;
  if (shown.has(field)) return field;
  if (field.startsWith('labels')) return 'labels';
  const rec = /^receivers\[(\d+)\]/.exec(field);
  if (rec && shown.has(`receivers[${rec[1]}].type`)) return `receivers[${rec[1]}].type`;
  if (field.startsWith('receivers')) return 'receivers';
  if (field.startsWith('expr')) return 'expr.kind';
  return undefined;
}

/** The threshold's unit for a kind and statistic. */
function thresholdHint(d: Draft): string {
  switch (d.kind) {
    case 'resource':
      return 'a ratio 0..1 (0.9 is 90%)';
    case 'exhaustion':
      return 'hours (24 fires when full within a day)';
    case 'endpoint':
      return d.expr.stat === 'p95Ms'
        ? 'milliseconds'
        : d.expr.stat === 'errorRate'
          ? 'a ratio 0..1 (0.05 is 5%)'
          : 'a factor (1.5 is 50% slower than the baseline)';
    default:
      return "the metric's unit (counters as a rate per second)";
  }
}

const FORM = 'rule';

function RuleForm(props: {
  rule: AlertRule | undefined;
  missing: boolean;
  onDone: (saved?: AlertRule) => void;
}) {
  const [d, setD] = useState<Draft>(() => draftOf(props.rule));
  const [err, setErr] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<Draft>) => setD((x) => ({ ...x, ...patch }));
  const setExpr = (key: string, v: string) => setD((x) => ({ ...x, expr: { ...x.expr, [key]: v } }));
  const setReceiver = (i: number, patch: Partial<Draft['receivers'][number]>) =>
    setD((x) => ({ ...x, receivers: x.receivers.map((r, j) => (j === i ? { ...r, ...patch } : r)) }));

  // Paths of the inputs on screen, to place an error on the one it names.
  const shown = new Set([
    'id',
    'name',
    'expr.kind',
    ...EXPR_FIELDS[d.kind].map((f) => `expr.${f.key}`),
    'op',
    'threshold',
    'clear',
    'forMs',
    'windowMs',
    'severity',
    'labels',
    ...d.receivers.flatMap((r, i) => [
      `receivers[${i}].type`,
      `receivers[${i}].url`,
      ...(r.type === 'pagerduty' ? [`receivers[${i}].routingKey`] : []),
    ]),
  ]);
  const place = placeOf(err?.problem.field, shown);
  const errOn = (path: string) => (place === path && err ? detailOnField(err) : undefined);

  // After a refusal, the input at fault gets the focus.
  useEffect(() => {
    if (place) document.getElementById(fieldId(FORM, place))?.focus();
  }, [err]);

  if (props.missing)
    return (
      <p class="bad" role="alert">
        No rule with id {props.rule?.id ?? ''} (deleted?).{' '}
        <a href={href('/alerts', { edit: undefined })}>Back</a>
      </p>
    );

  const input = (
    path: string,
    value: string,
    onInput: (v: string) => void,
    extra: Record<string, unknown> = {},
    hasHint = false,
  ) => (
    <input
      {...invalidProps(FORM, path, errOn(path), hasHint)}
      value={value}
      onInput={(e) => onInput((e.target as HTMLInputElement).value)}
      {...extra}
    />
  );
  const exprInput = (key: string, label: string, hint?: string, extra: Record<string, unknown> = {}) => (
    <Field form={FORM} path={`expr.${key}`} label={label} error={errOn(`expr.${key}`)} hint={hint}>
      {input(`expr.${key}`, d.expr[key] ?? '', (v) => setExpr(key, v), extra, hint !== undefined)}
    </Field>
  );
  const exprSelect = (key: string, label: string, options: string[]) => (
    <Field form={FORM} path={`expr.${key}`} label={label} error={errOn(`expr.${key}`)}>
      <select
        {...invalidProps(FORM, `expr.${key}`, errOn(`expr.${key}`))}
        value={d.expr[key] ?? ''}
        onChange={(e) => setExpr(key, (e.target as HTMLSelectElement).value)}
      >
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </Field>
  );

  return (
    <form
      class="rule-form"
      noValidate
      aria-labelledby="rule-form-h"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        post<AlertRule>('/api/v1/alerts/rules', bodyOf(d, props.rule)).then(
          (saved) => {
            setBusy(false);
            setErr(undefined);
            props.onDone(saved);
          },
          (e: unknown) => {
            setBusy(false);
            setErr(e instanceof ApiError ? e : new ApiError(0, { detail: String(e) }));
          },
        );
      }}
    >
      <h3 id="rule-form-h">{props.rule ? `Edit rule “${props.rule.name}”` : 'New rule'}</h3>
      {err ? (
        <div class="error" role="alert">
          <strong>The server refused the rule.</strong>{' '}
          {place ? (
            <a
              href={`#${fieldId(FORM, place)}`}
              onClick={(e) => {
                e.preventDefault();
                document.getElementById(fieldId(FORM, place))?.focus();
              }}
            >
              {err.problem.field}
            </a>
          ) : null}
          {place ? ': see the field.' : ` ${err.problem.detail ?? err.message}`}
        </div>
      ) : null}
      <div class="form-grid">
        <Field form={FORM} path="name" label="Name" error={errOn('name')}>
          {input('name', d.name, (v) => set({ name: v }), { autoComplete: 'off' })}
        </Field>
        <Field
          form={FORM}
          path="id"
          label="Id"
          error={errOn('id')}
          hint={
            props.rule
              ? 'the rule is replaced under this id'
              : 'optional: letters, digits, _ . - (default a new UUID)'
          }
        >
          {input('id', d.id, (v) => set({ id: v }), { readOnly: !!props.rule, autoComplete: 'off' }, true)}
        </Field>
        <Field form={FORM} path="severity" label="Severity" error={errOn('severity')}>
          <select
            {...invalidProps(FORM, 'severity', errOn('severity'))}
            value={d.severity}
            onChange={(e) => set({ severity: (e.target as HTMLSelectElement).value })}
          >
            <option value="info">info</option>
            <option value="warning">warning</option>
            <option value="critical">critical</option>
          </select>
        </Field>
      </div>
      <fieldset class="group">
        <legend>What is measured</legend>
        <div class="form-grid">
          <Field form={FORM} path="expr.kind" label="Expression" error={errOn('expr.kind')}>
            <select
              {...invalidProps(FORM, 'expr.kind', errOn('expr.kind'))}
              value={d.kind}
              onChange={(e) => {
                const kind = (e.target as HTMLSelectElement).value as Kind;
                const first: Record<Kind, Record<string, string>> = {
                  resource: { resource: 'cpu' },
                  exhaustion: { resource: 'disk' },
                  endpoint: { stat: 'p95Ms' },
                  metric: { stat: 'mean' },
                };
                set({ kind, expr: first[kind] });
              }}
            >
              {KINDS.map((k) => (
                <option key={k.kind} value={k.kind}>
                  {k.label}
                </option>
              ))}
            </select>
          </Field>
          {d.kind === 'resource' ? exprSelect('resource', 'Resource', ['cpu', 'memory', 'disk']) : null}
          {d.kind === 'exhaustion' ? exprSelect('resource', 'Resource', ['disk', 'memory']) : null}
          {d.kind === 'endpoint'
            ? exprSelect('stat', 'Statistic', ['p95Ms', 'errorRate', 'p95Regression'])
            : null}
          {d.kind === 'metric'
            ? exprInput('name', 'Metric name', 'as stored, e.g. http.server.active_requests')
            : null}
          {d.kind === 'metric' ? exprSelect('stat', 'Statistic', ['mean', 'max', 'last']) : null}
          {d.kind === 'endpoint' ? exprInput('service', 'Service', 'optional: service.name') : null}
          {d.kind === 'endpoint'
            ? exprInput('endpoint', 'Endpoint', 'optional: METHOD route (default the worst)')
            : null}
          {d.kind === 'endpoint'
            ? exprInput('minRequests', 'Minimum requests', 'in the window (and the baseline)', {
                inputMode: 'decimal',
              })
            : null}
          {d.kind === 'endpoint' && d.expr.stat === 'p95Regression'
            ? exprInput(
                'baselineMs',
                'Baseline, ms',
                d.expr.baselineMs ? `= ${dur(Number(d.expr.baselineMs))}` : 'default 1 day',
                {
                  inputMode: 'decimal',
                },
              )
            : null}
          {d.kind === 'endpoint' && d.expr.stat === 'p95Regression'
            ? exprInput('minP95Ms', 'Ignore p95 under, ms', 'default 100 ms', { inputMode: 'decimal' })
            : null}
          {d.kind !== 'endpoint'
            ? exprInput('host', 'Host', 'optional: host.name (default the last reporting)')
            : null}
          {d.kind === 'resource' || d.kind === 'exhaustion'
            ? exprInput('select', 'Series', 'optional: a mount point…')
            : null}
        </div>
      </fieldset>
      <fieldset class="group">
        <legend>When it fires</legend>
        <div class="form-grid">
          <Field form={FORM} path="op" label="Fires when the value is" error={errOn('op')}>
            <select
              {...invalidProps(FORM, 'op', errOn('op'))}
              value={d.op}
              onChange={(e) => set({ op: (e.target as HTMLSelectElement).value as '>' | '<' })}
            >
              <option value=">">above (&gt;) the threshold</option>
              <option value="<">below (&lt;) the threshold</option>
            </select>
          </Field>
          <Field
            form={FORM}
            path="threshold"
            label="Threshold"
            error={errOn('threshold')}
            hint={thresholdHint(d)}
          >
            {input('threshold', d.threshold, (v) => set({ threshold: v }), { inputMode: 'decimal' }, true)}
          </Field>
          <Field
            form={FORM}
            path="clear"
            label="Clears at"
            error={errOn('clear')}
            hint={`optional: ${d.op === '>' ? '≤' : '≥'} threshold (hysteresis)`}
          >
            {input('clear', d.clear, (v) => set({ clear: v }), { inputMode: 'decimal' }, true)}
          </Field>
          <Field
            form={FORM}
            path="forMs"
            label="Holds for, ms"
            error={errOn('forMs')}
            hint={msHint(d.forMs, 'fires at once')}
          >
            {input('forMs', d.forMs, (v) => set({ forMs: v }), { inputMode: 'numeric' }, true)}
          </Field>
          <Field
            form={FORM}
            path="windowMs"
            label="Over a window of, ms"
            error={errOn('windowMs')}
            hint={msHint(d.windowMs, 'default 5 min')}
          >
            {input('windowMs', d.windowMs, (v) => set({ windowMs: v }), { inputMode: 'numeric' }, true)}
          </Field>
        </div>
      </fieldset>
      <fieldset class="group">
        <legend>Notifications</legend>
        <div class="form-grid">
          <Field
            form={FORM}
            path="labels"
            label="Labels"
            error={errOn('labels')}
            hint="one key=value a line, added to notifications"
          >
            <textarea
              {...invalidProps(FORM, 'labels', errOn('labels'), true)}
              rows={3}
              value={d.labels}
              onInput={(e) => set({ labels: (e.target as HTMLTextAreaElement).value })}
            />
          </Field>
        </div>
        {d.receivers.map((r, i) => (
          <div class="form-grid receiver" key={i}>
            <Field
              form={FORM}
              path={`receivers[${i}].type`}
              label={`Receiver ${i + 1}`}
              error={errOn(`receivers[${i}].type`)}
            >
              <select
                {...invalidProps(FORM, `receivers[${i}].type`, errOn(`receivers[${i}].type`))}
                value={r.type}
                onChange={(e) => setReceiver(i, { type: (e.target as HTMLSelectElement).value })}
              >
                <option value="webhook">webhook (Alertmanager payload)</option>
                <option value="slack">Slack incoming webhook</option>
                <option value="pagerduty">PagerDuty Events API v2</option>
              </select>
            </Field>
            {r.type === 'pagerduty' ? (
              <Field
                form={FORM}
                path={`receivers[${i}].routingKey`}
                label="Routing key"
                error={errOn(`receivers[${i}].routingKey`)}
              >
                {input(`receivers[${i}].routingKey`, r.routingKey, (v) => setReceiver(i, { routingKey: v }), {
                  autoComplete: 'off',
                })}
              </Field>
            ) : null}
            <Field
              form={FORM}
              path={`receivers[${i}].url`}
              label={r.type === 'pagerduty' ? 'URL (optional)' : 'URL'}
              error={errOn(`receivers[${i}].url`)}
              hint={r.type === 'pagerduty' ? 'default: the PagerDuty Events API' : 'http(s)://…'}
            >
              {input(
                `receivers[${i}].url`,
                r.url,
                (v) => setReceiver(i, { url: v }),
                { inputMode: 'url', autoComplete: 'off' },
                true,
              )}
            </Field>
            <div class="field">
              <span aria-hidden="true">&nbsp;</span>
              <button
                type="button"
                onClick={() => setD((x) => ({ ...x, receivers: x.receivers.filter((_, j) => j !== i) }))}
                aria-label={`Remove receiver ${i + 1}`}
              >
                Remove
              </button>
            </div>
          </div>
        ))}
        <div class={`field${errOn('receivers') ? ' field-invalid' : ''}`}>
          <div>
            <button
              type="button"
              id={fieldId(FORM, 'receivers')}
              aria-describedby={errOn('receivers') ? `${fieldId(FORM, 'receivers')}-err` : undefined}
              onClick={() =>
                setD((x) => ({
                  ...x,
                  receivers: [...x.receivers, { type: 'webhook', url: '', routingKey: '' }],
                }))
              }
            >
              Add a receiver
            </button>
          </div>
          {errOn('receivers') ? (
            <small id={`${fieldId(FORM, 'receivers')}-err`} class="field-error">
              {errOn('receivers')}
            </small>
          ) : null}
        </div>
      </fieldset>
      <div class="row-actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : props.rule ? 'Save the rule' : 'Create the rule'}
        </button>
        <button type="button" onClick={() => props.onDone()}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function msHint(v: string, empty: string): string {
  const n = Number(v);
  if (v.trim() === '') return empty;
  return Number.isFinite(n) ? (n === 0 ? '0: at once' : `= ${dur(n)}`) : 'a number of milliseconds';
}

function Silences(props: { silences: Silence[]; rules: Map<string, AlertRule> }) {
  if (props.silences.length === 0) return <p class="muted">No silence is active.</p>;
  return (
    <Table
      id="silences"
      caption="Active silences: matching alerts change state but send nothing"
      rows={props.silences}
      rowKey={(s) => s.id}
      sort="ends"
      dir="asc"
      columns={[
        {
          key: 'matches',
          label: 'Matches',
          value: (s) => s.ruleId ?? '',
          render: (s) => (
            <>
              {s.ruleId ? `rule ${props.rules.get(s.ruleId)?.name ?? s.ruleId}` : 'any rule'}
              {Object.entries(s.labels).map(([k, v]) => (
                <span key={k} class="chip">
                  {k}={v}
                </span>
              ))}
            </>
          ),
        },
        {
          key: 'ends',
          label: 'Ends',
          value: (s) => s.endsAtMs,
          render: (s) => (
            <span title={time(s.endsAt)}>
              {relative(s.endsAt)} <span class="muted small">({time(s.endsAt)})</span>
            </span>
          ),
        },
        { key: 'comment', label: 'Comment', value: (s) => s.comment },
      ]}
    />
  );
}

const DURATIONS: [string, number][] = [
  ['15 minutes', 900_000],
  ['1 hour', 3_600_000],
  ['4 hours', 4 * 3_600_000],
  ['1 day', 86_400_000],
  ['1 week', 7 * 86_400_000],
];
const SFORM = 'silence';

function SilenceForm(props: {
  rules: AlertRule[];
  ruleId: string | undefined;
  onSaved: (s: Silence) => void;
}) {
  const [ruleId, setRuleId] = useState(props.ruleId ?? '');
  const [labels, setLabels] = useState('');
  const [durationMs, setDurationMs] = useState(3_600_000);
  const [comment, setComment] = useState('');
  const [err, setErr] = useState<ApiError | undefined>();
  const [open, setOpen] = useState(props.ruleId !== undefined);
  const fields = new Set(['ruleId', 'labels', 'durationMs', 'comment']);
  const f = err?.problem.field;
  const place = f ? (fields.has(f) ? f : f.startsWith('labels') ? 'labels' : undefined) : undefined;
  const errOn = (p: string) => (place === p && err ? detailOnField(err) : undefined);
  useEffect(() => {
    if (place) document.getElementById(fieldId(SFORM, place))?.focus();
  }, [err]);
  useEffect(() => {
    if (props.ruleId) document.getElementById(fieldId(SFORM, 'durationMs'))?.focus();
  }, []);
  if (!open)
    return (
      <p>
        <button type="button" onClick={() => setOpen(true)}>
          New silence…
        </button>
      </p>
    );
  return (
    <form
      noValidate
      aria-labelledby="silence-form-h"
      onSubmit={(e) => {
        e.preventDefault();
        const l: Record<string, string> = {};
        for (const line of labels.split('\n')) {
          if (line.trim() === '') continue;
          const at = line.indexOf('=');
          l[(at < 0 ? line : line.slice(0, at)).trim()] = at < 0 ? '' : line.slice(at + 1).trim();
        }
        post<Silence>('/api/v1/alerts/silences', {
          ...(ruleId ? { ruleId } : {}),
          labels: l,
          durationMs,
          ...(comment.trim() ? { comment: comment.trim() } : {}),
        }).then(
          (s) => {
            setErr(undefined);
            setOpen(false);
            props.onSaved(s);
          },
          (e: unknown) => setErr(e instanceof ApiError ? e : new ApiError(0, { detail: String(e) })),
        );
      }}
    >
      <h3 id="silence-form-h">New silence</h3>
      {err && !place ? (
        <div class="error" role="alert">
          {err.problem.detail ?? err.message}
        </div>
      ) : null}
      <div class="form-grid">
        <Field form={SFORM} path="ruleId" label="Rule" error={errOn('ruleId')}>
          <select
            {...invalidProps(SFORM, 'ruleId', errOn('ruleId'))}
            value={ruleId}
            onChange={(e) => setRuleId((e.target as HTMLSelectElement).value)}
          >
            <option value="">any rule (match by labels)</option>
            {props.rules.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </Field>
        <Field
          form={SFORM}
          path="labels"
          label="Labels"
          error={errOn('labels')}
          hint="one key=value a line; an alert needs all of them"
        >
          <textarea
            {...invalidProps(SFORM, 'labels', errOn('labels'), true)}
            rows={2}
            value={labels}
            onInput={(e) => setLabels((e.target as HTMLTextAreaElement).value)}
          />
        </Field>
        <Field form={SFORM} path="durationMs" label="For" error={errOn('durationMs')}>
          <select
            {...invalidProps(SFORM, 'durationMs', errOn('durationMs'))}
            value={String(durationMs)}
            onChange={(e) => setDurationMs(Number((e.target as HTMLSelectElement).value))}
          >
            {DURATIONS.map(([label, v]) => (
              <option key={v} value={String(v)}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        <Field form={SFORM} path="comment" label="Comment" error={errOn('comment')} hint="optional: why">
          <input
            {...invalidProps(SFORM, 'comment', errOn('comment'), true)}
            value={comment}
            onInput={(e) => setComment((e.target as HTMLInputElement).value)}
          />
        </Field>
      </div>
      <div class="row-actions">
        <button type="submit" class="primary">
          Silence
        </button>
        <button
          type="button"
          onClick={() => {
            setOpen(false);
            setErr(undefined);
            setParams({ silence: undefined });
          }}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}

function History(props: { events: AlertEvent[]; rules: Map<string, AlertRule> }) {
  if (props.events.length === 0)
    return <p class="muted">No rule has changed state since the server started.</p>;
  return (
    <Table
      id="history"
      caption={`The last ${props.events.length} transitions, newest first, with their notifications`}
      rows={props.events.map((e, i) => ({ ...e, i }))}
      rowKey={(e) => String(e.i)}
      sort="at"
      limit={100}
      columns={[
        { key: 'at', label: 'At', value: (e) => Date.parse(e.at), render: (e) => time(e.at) },
        { key: 'rule', label: 'Rule', value: (e) => e.name },
        {
          key: 'transition',
          label: 'To',
          value: (e) => e.transition,
          render: (e) => (
            <>
              <span class={`badge ${STATE_TONE[e.transition]}`}>{e.transition}</span>
              {e.silenced ? <span class="badge muted">silenced</span> : null}
            </>
          ),
        },
        {
          key: 'value',
          label: 'Value',
          numeric: true,
          value: (e) => e.value ?? null,
          render: (e) =>
            e.value === undefined ? (
              <span class="muted">no data</span>
            ) : (
              valueFormat(props.rules.get(e.ruleId)?.expr)(e.value)
            ),
        },
        {
          key: 'deliveries',
          label: 'Notifications',
          value: (e) => e.deliveries.filter((x) => !x.ok).length,
          render: (e) =>
            e.deliveries.length === 0 ? (
              <span class="muted">{e.silenced ? 'none (silenced)' : 'none'}</span>
            ) : (
              <ul class="plain">
                {e.deliveries.map((x, j) => (
                  <li key={j} class={x.ok ? 'good' : 'bad'}>
                    {x.ok ? '✓' : '✗'} {x.receiver}, {x.attempts} {x.attempts === 1 ? 'attempt' : 'attempts'}
                    {x.status !== undefined ? ` (HTTP ${x.status})` : ''}
                    {x.error ? `: ${x.error}` : ''}
                  </li>
                ))}
              </ul>
            ),
        },
      ]}
    />
  );
}
