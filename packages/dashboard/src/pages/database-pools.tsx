/**
 * The server's database pools (`GET /api/v1/cache-db/pools`: the `pools` setting) with their figures
 * (connections, acquisitions, waits and holds, as HikariCP reports them) and the sizing advice by Little's
 * law, whose arithmetic is shown line by line.
 * @module
 */
import type { PoolFigures } from '@siperf/server/schemas';
import { Stat } from '../components/common.tsx';
import { StackedBar } from '../components/stacked-bar.tsx';
import { count, ms, num, time } from '../format.ts';

/** How to configure pools: the empty state of the pools panel. */
export function PoolsHowTo() {
  return (
    <div class="empty">
      <p>
        <strong>No pool is configured.</strong> Plans, index suggestions and pool sizing need the databases:
        set <code>pools</code> to <code>name=url</code> pairs (comma separated), then restart.
      </p>
      <pre>
        <code>
          {`SIPERF_POOLS='main=postgresql://app@db.internal/shop,orders=mysql://app@db2/orders' npx siperf serve\n# or in the config file (--config siperf.json): { "pools": "main=postgresql://app@db.internal/shop" }`}
        </code>
      </pre>
      <p class="muted small">
        Give the pool's role SELECT only. The server opens at most 4 connections a pool; statements it
        explains run in a read-only transaction that is rolled back. For index gains checked with hypothetical
        indexes, install HypoPG and run <code>CREATE EXTENSION hypopg</code> in that database.
      </p>
    </div>
  );
}

const ACTION_TONE = { increase: 'warn', decrease: 'warn', keep: 'good' } as const;

/** One pool: its connections, waits and holds, and the sizing advice. */
export function PoolCard(props: { p: PoolFigures }) {
  const { p } = props;
  const s = p.stats;
  const z = p.sizing;
  return (
    <article class="db-pool" aria-labelledby={`pool-${p.name}`}>
      <h3 id={`pool-${p.name}`}>
        {p.name} <span class="muted small">{p.driver}</span>
      </h3>
      {p.error ? (
        <p class="bad" role="alert">
          Could not read the pool: {p.error}
        </p>
      ) : null}
      {s ? (
        <>
          <StackedBar
            label={`Connections of ${p.name} (at most ${s.max})`}
            total={s.max}
            parts={[
              { label: 'active', value: s.active, color: '--c1', text: count(s.active) },
              { label: 'idle', value: s.idle, color: '--c4', text: count(s.idle) },
              {
                label: 'not open',
                value: Math.max(0, s.max - s.total),
                color: '--grid',
                text: count(Math.max(0, s.max - s.total)),
              },
            ]}
          />
          <div class="stats">
            <Stat label={`connections open, of ${s.max}`} value={count(s.total)} />
            <Stat
              label="callers waiting"
              value={count(s.pending)}
              tone={s.pending > 0 ? 'warn' : undefined}
            />
            <Stat label="acquisitions per second" value={`${num(s.acquisitionsPerSecond, 2)}/s`} />
            <Stat label="acquire wait, p95" value={ms(s.acquireWait.p95Ms)} />
            <Stat label="held, mean / p95" value={`${ms(s.hold.meanMs)} / ${ms(s.hold.p95Ms)}`} />
            <Stat label="timeouts" value={count(s.timeouts)} tone={s.timeouts > 0 ? 'bad' : undefined} />
            <Stat label="errors" value={count(s.errors)} tone={s.errors > 0 ? 'bad' : undefined} />
          </div>
          <p class="muted small">
            {count(s.acquired)} acquisitions since {time(s.since)}; statement timeout{' '}
            {ms(s.statementTimeoutMs)}, acquire timeout {ms(s.acquireTimeoutMs)}; new connection in{' '}
            {ms(s.create.meanMs)} on average.
          </p>
        </>
      ) : null}
      {z ? (
        <div class="db-sizing">
          <p>
            <span class={`badge ${ACTION_TONE[z.action]}`}>{z.action}</span>{' '}
            {z.action === 'keep' ? (
              <>
                Keep <strong>{z.current}</strong> connections.
              </>
            ) : (
              <>
                {z.action === 'increase' ? 'Increase' : 'Decrease'} from <strong>{z.current}</strong> to{' '}
                <strong>{z.recommended}</strong> connections.
              </>
            )}
          </p>
          <ul class="small">
            {z.reasoning.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </div>
      ) : s ? (
        <p class="muted small">No sizing advice yet.</p>
      ) : null}
    </article>
  );
}
