/**
 * Business transactions (`/transactions`): per name the success rate, p50/p95, abandoned and in-progress
 * counts (`GET /api/v1/apm/transactions`), and for the chosen one (`tx=<name>` in the URL, else the
 * busiest) its steps as a funnel with each step's failure rate and share of the time.
 *
 * The answer lists steps by p95 and counts them over completed transactions only, so the funnel orders
 * them by how many transactions ran them (most first), which is the order of a funnel, and the steps
 * reached by abandoned transactions cannot be shown.
 * @module
 */
import type { TransactionStats } from '@siperf/server/schemas';
import { get } from '../api.ts';
import { Async, EmptyState, Panel, Stat } from '../components/common.tsx';
import { CopyCode } from '../components/copy-code.tsx';
import { StackedBar } from '../components/stacked-bar.tsx';
import { Table } from '../components/table.tsx';
import { count, ms, pct, time } from '../format.ts';
import { useApi } from '../hooks.ts';
import { href, useLocation, windowQuery } from '../router.ts';
import './transactions.css';

/** How to send business transactions: @siperf/node, or the REST calls for any other client. */
function TransactionsHowTo() {
  const origin = window.location.origin;
  return (
    <EmptyState what="business transactions">
      <p>
        A business transaction is a workflow across requests and jobs (sign-up, checkout). In a Node.js
        service with @siperf/node:
      </p>
      <CopyCode
        label="the BusinessTransaction example"
        code={`import { BusinessTransaction } from '@siperf/node';

const tx = BusinessTransaction.start('checkout');
await tx.step('cart', () => loadCart(user));      // timed; a throw marks the step failed
await tx.step('pay', () => charge(card, total));
tx.addStep('email', 120, true);                    // or record a step you timed: ms, success
tx.end(true);                                      // the outcome
// Elsewhere (another service, a job): BusinessTransaction.fromContext() continues it.`}
      />
      <p>Any other client, over HTTP:</p>
      <CopyCode
        label="the curl example"
        code={`ID=$(curl -s ${origin}/api/v1/apm/transactions/start -H 'content-type: application/json' \\
  -d '{"name":"checkout","service":"shop"}' | sed 's/.*"id":"\\([^"]*\\)".*/\\1/')
curl -s ${origin}/api/v1/apm/transactions/$ID/steps -H 'content-type: application/json' \\
  -d '{"name":"pay","durationMs":840,"success":true}'
curl -s ${origin}/api/v1/apm/transactions/$ID/end -H 'content-type: application/json' -d '{"success":true}'`}
      />
    </EmptyState>
  );
}

const rateTone = (r: number) => (r >= 0.99 ? 'good' : r >= 0.9 ? 'warn' : 'bad');

/** The chosen transaction: its figures, its steps as a funnel, and where its time goes. */
function Funnel(props: { t: TransactionStats; abandonAfterMs: number }) {
  const t = props.t;
  const started = t.count + t.abandoned + t.inProgress;
  // Funnel order: the steps most transactions ran first; ties keep the answer's order.
  const steps = t.steps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => b.s.count - a.s.count || a.i - b.i)
    .map((x) => x.s);
  const shared = steps.reduce((s, x) => s + x.shareOfTime, 0);
  const bar = (n: number, failed: number, label: string) => (
    <StackedBar
      label={label}
      total={started}
      legend={false}
      parts={[
        { label: 'succeeded', value: n - failed, color: '--c1', text: count(n - failed) },
        { label: 'failed', value: failed, color: '--bad', text: count(failed) },
      ]}
    />
  );
  return (
    <>
      <div class="stats">
        <Stat label="started in the window" value={count(started)} />
        <Stat label="completed" value={count(t.count)} />
        <Stat
          label="success rate (of completed)"
          value={pct(t.successRate)}
          tone={t.count > 0 ? rateTone(t.successRate) : undefined}
        />
        <Stat label="p50 / p95 duration" value={`${ms(t.p50Ms)} / ${ms(t.p95Ms)}`} />
        <Stat
          label={`abandoned (idle over ${ms(props.abandonAfterMs)})`}
          value={count(t.abandoned)}
          tone={t.abandoned > 0 ? 'warn' : undefined}
        />
        <Stat label="in progress" value={count(t.inProgress)} />
      </div>
      <div class="table-wrap">
        <table class="tx-funnel">
          <caption>
            Funnel of {t.name}: how many transactions reached each stage, of {count(started)} started. Steps
            are counted in completed transactions and ordered by how many ran them (the API gives no step
            order).
          </caption>
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <th scope="col" class="tx-bar-col">
                Reached
              </th>
              <th scope="col" class="num">
                Count
              </th>
              <th scope="col" class="num">
                Failure rate
              </th>
              <th scope="col" class="num">
                Share of time
              </th>
              <th scope="col" class="num">
                Mean
              </th>
              <th scope="col" class="num">
                p95
              </th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Started</th>
              <td>{bar(started, 0, `Started: ${started}`)}</td>
              <td class="num">{count(started)}</td>
              <td class="num muted">–</td>
              <td class="num muted">–</td>
              <td class="num muted">–</td>
              <td class="num muted">–</td>
            </tr>
            {steps.map((s) => (
              <tr key={s.step}>
                <th scope="row">
                  {s.step}
                  {s.step === t.slowestStep ? <span class="badge warn tx-slowest">slowest</span> : null}
                </th>
                <td>{bar(s.count, s.failures, `Step ${s.step}: ${s.count} runs, ${s.failures} failed`)}</td>
                <td class="num">{count(s.count)}</td>
                <td class="num">
                  <span class={s.failureRate > 0.05 ? 'bad' : s.failureRate > 0 ? 'warn' : undefined}>
                    {pct(s.failureRate)}
                  </span>
                </td>
                <td class="num">{pct(s.shareOfTime)}</td>
                <td class="num">{ms(s.meanMs)}</td>
                <td class="num">{ms(s.p95Ms)}</td>
              </tr>
            ))}
            <tr>
              <th scope="row">Completed</th>
              <td>
                {bar(
                  t.count,
                  t.count - t.successes,
                  `Completed: ${t.count}, ${t.count - t.successes} failed`,
                )}
              </td>
              <td class="num">{count(t.count)}</td>
              <td class="num">{t.count > 0 ? pct(1 - t.successRate) : '–'}</td>
              <td class="num muted">–</td>
              <td class="num muted">–</td>
              <td class="num">{ms(t.p95Ms)}</td>
            </tr>
          </tbody>
        </table>
      </div>
      <p class="muted small">
        <span class="swatch tx-ok" /> succeeded <span class="swatch tx-failed" /> failed. Not yet completed:{' '}
        {count(t.inProgress)} in progress, {count(t.abandoned)} abandoned.
      </p>
      {steps.length > 0 && t.count > 0 ? (
        <>
          <h3 class="tx-h3">Where the time goes</h3>
          <StackedBar
            label={`Time of ${t.name} by step`}
            height={18}
            parts={[
              ...steps.map((s, i) => ({
                label: s.step,
                value: s.shareOfTime,
                color: `--c${(i % 6) + 1}`,
                text: pct(s.shareOfTime),
              })),
              ...(shared < 1
                ? [{ label: 'between steps', value: 1 - shared, color: '--grid', text: pct(1 - shared) }]
                : []),
            ]}
          />
          {shared > 1.001 ? (
            <p class="muted small">
              The steps' times add up to {pct(shared)} of the transactions' time: some steps run at the same
              time.
            </p>
          ) : null}
        </>
      ) : null}
    </>
  );
}

export default function Transactions() {
  const { params } = useLocation();
  const w = windowQuery(params);
  const service = params.get('service') ?? undefined;
  const state = useApi(
    () => get('/api/v1/apm/transactions', { ...w, service }),
    [w.window, w.from, w.to, service],
  );
  const chosen = params.get('tx');
  return (
    <div class="tx-page">
      <h1>Business transactions</h1>
      <Async state={state}>
        {(a) => {
          if (a.transactions.length === 0)
            return (
              <Panel title="No data yet" id="none">
                <TransactionsHowTo />
              </Panel>
            );
          const t = a.transactions.find((x) => x.name === chosen) ?? a.transactions[0]!;
          const done = a.transactions.reduce((s, x) => s + x.count, 0);
          const ok = a.transactions.reduce((s, x) => s + x.successes, 0);
          return (
            <>
              <div class="stats">
                <Stat label="transaction names" value={count(a.transactions.length)} />
                <Stat label="completed" value={count(done)} />
                <Stat
                  label="success rate"
                  value={done > 0 ? pct(ok / done) : '–'}
                  tone={done > 0 ? rateTone(ok / done) : undefined}
                />
                <Stat label="abandoned" value={count(a.transactions.reduce((s, x) => s + x.abandoned, 0))} />
                <Stat
                  label="in progress"
                  value={count(a.transactions.reduce((s, x) => s + x.inProgress, 0))}
                />
              </div>
              <Panel title="Transactions" id="list">
                <Table<TransactionStats>
                  id="tx"
                  caption={`Per name, ${time(a.from)} to ${time(a.to)}; durations of completed transactions`}
                  rows={a.transactions}
                  rowKey={(x) => x.name}
                  sort="count"
                  columns={[
                    {
                      key: 'name',
                      label: 'Name',
                      value: (x) => x.name,
                      render: (x) => (
                        <a
                          href={href('/transactions', { tx: x.name })}
                          aria-current={x.name === t.name ? 'true' : undefined}
                        >
                          {x.name}
                        </a>
                      ),
                    },
                    {
                      key: 'count',
                      label: 'Completed',
                      numeric: true,
                      value: (x) => x.count,
                      render: (x) => count(x.count),
                    },
                    {
                      key: 'success',
                      label: 'Success rate',
                      numeric: true,
                      value: (x) => x.successRate,
                      render: (x) =>
                        x.count > 0 ? <span class={rateTone(x.successRate)}>{pct(x.successRate)}</span> : '–',
                    },
                    {
                      key: 'p50',
                      label: 'p50',
                      numeric: true,
                      value: (x) => x.p50Ms,
                      render: (x) => ms(x.p50Ms),
                    },
                    {
                      key: 'p95',
                      label: 'p95',
                      numeric: true,
                      value: (x) => x.p95Ms,
                      render: (x) => ms(x.p95Ms),
                    },
                    {
                      key: 'abandoned',
                      label: 'Abandoned',
                      numeric: true,
                      value: (x) => x.abandoned,
                      render: (x) => (
                        <span class={x.abandoned > 0 ? 'warn' : undefined}>{count(x.abandoned)}</span>
                      ),
                    },
                    {
                      key: 'inProgress',
                      label: 'In progress',
                      numeric: true,
                      value: (x) => x.inProgress,
                      render: (x) => count(x.inProgress),
                    },
                    { key: 'steps', label: 'Steps', numeric: true, value: (x) => x.steps.length },
                    {
                      key: 'slowest',
                      label: 'Slowest step (p95)',
                      value: (x) => x.slowestStep ?? '',
                      render: (x) => x.slowestStep ?? '–',
                    },
                  ]}
                />
              </Panel>
              <Panel title={`${t.name}: steps`} id="funnel">
                <Funnel t={t} abandonAfterMs={a.abandonAfterMs} />
              </Panel>
            </>
          );
        }}
      </Async>
    </div>
  );
}
