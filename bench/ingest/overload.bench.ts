/**
 * bench:overload (issue 14, the event loop and overload). Three processes: the siperf server, a /healthz
 * prober, and this one, which drives the load.
 *
 * 1. capacity: closed loop, `--concurrency` clients posting 512-span OTLP protobuf bodies for
 *    `--capacity-seconds`; acknowledged spans/s is the sustained capacity.
 * 2. overload: open loop at 3× that rate for `--duration` s (60 by default), at most 512 requests in
 *    flight; a 503 is not retried. Goodput = acknowledged spans/s.
 * 3. fuzz: `--fuzz` (10,000) mutated OTLP/Zipkin bodies (packages/server/test/ingest-fuzz-corpus.ts),
 *    8 at a time: no 5xx other than 503, the server alive.
 * Then the server stops and the spans stored for the bench's service are counted against those
 * acknowledged. /healthz p99 and max (all phases), goodput / capacity, lost spans and the server's peak
 * RSS (VmHWM, worker threads included) are printed against their targets.
 *
 *   npm run build && npm run bench:overload -- [--duration 60] [--capacity-seconds 15] [--fuzz 10000] [--source=1]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { otlpTypes } from '../../packages/server/src/ingest/otlp-protobuf.ts';
import { fuzzBodies } from '../../packages/server/test/ingest-fuzz-corpus.ts';
import { gitCommit, numberOption, option, writeResults } from '../lib/run-info.ts';

const ROLE = option('role', 'BENCH_ROLE', 'driver');
const DURATION_S = numberOption('duration', 'BENCH_DURATION_S', 60);
const CAPACITY_S = numberOption('capacity-seconds', 'BENCH_CAPACITY_S', 15);
const CONCURRENCY = numberOption('concurrency', 'BENCH_CONCURRENCY', 8, true);
const FUZZ = numberOption('fuzz', 'BENCH_FUZZ', 10_000, true);
const OVERLOAD_FACTOR = 3;
const MAX_IN_FLIGHT = 512;
const SPANS_PER_BODY = 512;
const SERVICE = 'overload-bench';
const TARGETS = { healthP99Ms: 100, healthMaxMs: 500, goodputRatio: 0.9, lostSpans: 0, peakRssMb: 400 };
const SELF = fileURLToPath(import.meta.url);

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

function child(role: string, args: string[] = []): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', SELF, `--role=${role}`, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}
/** The next JSON line a child prints that has `key` (the server's log lines go to stdout too). */
function nextLine(p: ChildProcess, key: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: p.stdout! });
    const onExit = (code: number | null): void => reject(new Error(`child exited with ${code}`));
    rl.on('line', (line) => {
      let parsed: any;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      if (parsed?.[key] === undefined) return;
      rl.close();
      p.off('exit', onExit);
      resolve(parsed);
    });
    p.once('exit', onExit);
  });
}

/** A child's peak resident set so far (VmHWM), MiB: which phase raised the peak. */
function peakRssOf(p: ChildProcess): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return Number.NaN;
  }
}

// ------------------------------------------------------------------------------------------- server

async function runServer(): Promise<void> {
  // The compiled server, what `npm start` runs (`--source=1`: the TypeScript sources through tsx, whose
  // transpiler and module cache in the main thread and each decode worker add to the RSS measured).
  const fromSource = option('source', 'BENCH_SOURCE', '') === '1';
  const dir = fromSource ? '../../packages/server/src' : '../../packages/server/dist';
  const ext = fromSource ? 'ts' : 'js';
  const { startServer } = (await import(
    `${dir}/app.${ext}`
  )) as typeof import('../../packages/server/src/app.ts');
  const { loadConfig } = (await import(
    `${dir}/config.${ext}`
  )) as typeof import('../../packages/server/src/config.ts');
  const dataDir = option('data-dir', 'BENCH_DATA_DIR', '');
  // SIPERF_* settings in the environment apply, as they do to `npm start`.
  const config = loadConfig({ flags: { port: 0, dataDir, logLevel: 'error' }, env: process.env });
  const server = await startServer(config);
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  // --memory-log=1: where the server's memory is, every 5 s, on stderr (V8 heap, buffers, the rest native).
  if (option('memory-log', 'BENCH_MEMORY_LOG', '') === '1') {
    const mb = (n: number): string => (n / 1048576).toFixed(0);
    setInterval(() => {
      const m = process.memoryUsage();
      process.stderr.write(
        `memory: rss ${mb(m.rss)} MiB, heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, external ${mb(m.external)} (array buffers ${mb(m.arrayBuffers)})\n`,
      );
    }, 5000).unref();
  }
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  await server.stop();
  const status = readFileSync('/proc/self/status', 'utf8');
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  // stdin stays open and would keep the process (and so the driver) alive: leave once the line is out.
  process.stdout.write(`${JSON.stringify({ peakRssMb: hwmKb / 1024 })}\n`, () => process.exit(0));
}

// ------------------------------------------------------------------------------------------- prober

async function runProbe(): Promise<void> {
  const url = option('url', 'BENCH_URL', '');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  // Latencies by phase: the driver writes `phase <name>` lines, then `stop`.
  const byPhase = new Map<string, number[]>([['start', []]]);
  let phase = 'start';
  let failures = 0;
  let stop = false;
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'stop') stop = true;
    else if (line.startsWith('phase ')) {
      phase = line.slice(6);
      if (!byPhase.has(phase)) byPhase.set(phase, []);
    }
  });
  process.stdout.write('{"ready":true}\n');
  while (!stop) {
    const t0 = performance.now();
    const ok = await new Promise<boolean>((resolve) => {
      http
        .get(`${url}/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
        })
        .on('error', () => resolve(false));
    });
    byPhase.get(phase)!.push(performance.now() - t0);
    if (!ok) failures++;
    await sleep(20);
  }
  const summary = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const p = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { n: sorted.length, p50: p(0.5), p99: p(0.99), max: sorted.at(-1) ?? 0 };
  };
  const phases = Object.fromEntries([...byPhase].map(([name, xs]) => [name, summary(xs)]));
  process.stdout.write(
    `${JSON.stringify({ ...summary([...byPhase.values()].flat()), failures, phases })}\n`,
    () => process.exit(0),
  );
  agent.destroy();
}

// ------------------------------------------------------------------------------------------- bodies

interface Template {
  buf: Buffer;
  /** Offsets of every occurrence of every id; each gets the request number in its first 4 bytes. */
  idOffsets: number[];
}

/** 512 spans in 64 traces of 8, as OTLP protobuf; ids are patched per request so every body is new. */
function buildTemplate(): Template {
  const types = otlpTypes();
  const now = BigInt(Date.now()) * 1_000_000n;
  const ids: Buffer[] = [];
  const id = (n: number): Buffer => {
    const b = randomBytes(n);
    b[0] = b[0]! | 1;
    ids.push(b);
    return b;
  };
  const spans: Record<string, unknown>[] = [];
  for (let t = 0; t < SPANS_PER_BODY / 8; t++) {
    const traceId = id(16);
    const root = id(8);
    for (let k = 0; k < 8; k++) {
      const start = now - 5_000_000_000n + BigInt(t * 1000 + k);
      spans.push({
        traceId,
        spanId: k === 0 ? root : id(8),
        parentSpanId: k === 0 ? Buffer.alloc(0) : root,
        name: k === 0 ? 'GET /api/orders/{id}' : k < 5 ? 'SELECT orders' : 'render',
        kind: k === 0 ? 2 : k < 5 ? 3 : 1,
        startTimeUnixNano: start,
        endTimeUnixNano: start + 2_000_000n,
        attributes: [
          { key: 'http.request.method', value: { stringValue: 'GET' } },
          { key: 'http.route', value: { stringValue: '/api/orders/{id}' } },
          { key: 'http.response.status_code', value: { intValue: 200 } },
          ...(k > 0 && k < 5
            ? [
                { key: 'db.system.name', value: { stringValue: 'postgresql' } },
                { key: 'db.query.text', value: { stringValue: 'SELECT * FROM orders WHERE id = $1' } },
              ]
            : []),
        ],
      });
    }
  }
  const message = types.traceRequest.fromObject({
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: SERVICE } },
            { key: 'host.name', value: { stringValue: 'bench-1' } },
          ],
        },
        scopeSpans: [{ scope: { name: 'bench' }, spans }],
      },
    ],
  });
  const buf = Buffer.from(types.traceRequest.encode(message).finish());
  const idOffsets: number[] = [];
  for (const b of ids) {
    for (let at = buf.indexOf(b); at >= 0; at = buf.indexOf(b, at + 1)) idOffsets.push(at);
  }
  return { buf, idOffsets };
}

let requestNo = 0;
function freshBody(t: Template): Buffer {
  const b = Buffer.from(t.buf);
  const n = ++requestNo;
  for (const at of t.idOffsets) b.writeUInt32BE(n, at);
  return b;
}

// ------------------------------------------------------------------------------------------- driver

interface Reply {
  status: number;
  body: Buffer;
}

function post(
  agent: http.Agent,
  base: URL,
  path: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<Reply> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: base.hostname,
        port: Number(base.port),
        path,
        method: 'POST',
        agent,
        headers: { ...headers, 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', () => resolve({ status: -1, body: Buffer.alloc(0) }));
      },
    );
    req.on('error', () => resolve({ status: -1, body: Buffer.alloc(0) }));
    req.end(body);
  });
}

async function main(): Promise<void> {
  const benchStart = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'siperf-bench-overload-'));
  const server = child('server', [
    `--data-dir=${dataDir}`,
    `--memory-log=${option('memory-log', 'BENCH_MEMORY_LOG', '')}`,
    `--source=${option('source', 'BENCH_SOURCE', '')}`,
  ]);
  const { url } = await nextLine(server, 'url');
  const base = new URL(url);
  const probe = child('probe', [`--url=${url}`]);
  await nextLine(probe, 'ready');
  out(
    `server ${url} (its own process, ${option('source', 'BENCH_SOURCE', '') === '1' ? 'from source through tsx' : 'compiled'}), /healthz probed every 20 ms from another process`,
  );

  const template = buildTemplate();
  const types = otlpTypes();
  let acked = 0;
  const statuses: Record<string, number> = {};
  const count = (s: number): void => {
    statuses[s] = (statuses[s] ?? 0) + 1;
  };
  const ack = (res: Reply): number => {
    if (res.status !== 200) return 0;
    const r = types.traceResponse.decode(res.body) as { partialSuccess?: { rejectedSpans?: unknown } };
    const n = SPANS_PER_BODY - Number(r.partialSuccess?.rejectedSpans ?? 0);
    acked += n;
    return n;
  };
  const headers = { 'content-type': 'application/x-protobuf' };

  probe.stdin!.write('phase capacity\n');
  // 1. Capacity, after a warm-up (workers started, JIT, DuckDB's first appends).
  const capAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const warmEnd = performance.now() + 5000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < warmEnd) {
        const res = await post(capAgent, base, '/v1/traces', freshBody(template), headers);
        count(res.status);
        ack(res);
      }
    }),
  );
  let capSpans = 0;
  const capStart = performance.now();
  const capEnd = capStart + CAPACITY_S * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < capEnd) {
        const res = await post(capAgent, base, '/v1/traces', freshBody(template), headers);
        count(res.status);
        capSpans += ack(res);
        if (res.status !== 200) await sleep(50);
      }
    }),
  );
  const capacity = capSpans / ((performance.now() - capStart) / 1000);
  capAgent.destroy();
  out(
    `capacity: ${fmt(capacity)} spans/s acknowledged (${CONCURRENCY} clients, ${CAPACITY_S} s); server peak RSS so far ${fmt(peakRssOf(server))} MiB`,
  );

  probe.stdin!.write('phase overload\n');
  // 2. Overload: open loop at 3× capacity.
  const rate = (OVERLOAD_FACTOR * capacity) / SPANS_PER_BODY; // requests/s
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  let inFlight = 0;
  let maxInFlight = 0;
  let notSent = 0;
  let sent = 0;
  let overloadSpans = 0;
  const overloadStatuses: Record<string, number> = {};
  const pending = new Set<Promise<void>>();
  const oStart = performance.now();
  const oEnd = oStart + DURATION_S * 1000;
  while (performance.now() < oEnd) {
    const due = Math.floor(((performance.now() - oStart) / 1000) * rate);
    while (sent + notSent < due) {
      if (inFlight >= MAX_IN_FLIGHT) {
        notSent++;
        continue;
      }
      sent++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const p = post(agent, base, '/v1/traces', freshBody(template), headers).then((res) => {
        inFlight--;
        count(res.status);
        overloadStatuses[res.status] = (overloadStatuses[res.status] ?? 0) + 1;
        // Acknowledged after the window still counts as stored, but not as goodput.
        const n = ack(res);
        if (performance.now() <= oEnd) overloadSpans += n;
      });
      pending.add(p);
      p.finally(() => pending.delete(p));
    }
    await sleep(5);
  }
  const goodput = overloadSpans / DURATION_S;
  await Promise.all(pending);
  agent.destroy();
  out(
    `overload: ${fmt(rate, 1)} requests/s offered (${OVERLOAD_FACTOR}× capacity) for ${DURATION_S} s, ` +
      `${fmt(sent)} sent, ${fmt(notSent)} not sent (${MAX_IN_FLIGHT} in flight), peak in flight ${maxInFlight}; ` +
      `statuses ${JSON.stringify(overloadStatuses)}; goodput ${fmt(goodput)} spans/s; server peak RSS so far ${fmt(peakRssOf(server))} MiB`,
  );

  probe.stdin!.write('phase fuzz\n');
  // 3. Fuzz.
  const fuzzAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const fuzzStatuses: Record<string, number> = {};
  const fuzzFailures: string[] = [];
  const bodies = fuzzBodies(FUZZ, 14);
  const fStart = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let next = bodies.next(); !next.done; next = bodies.next()) {
        const f = next.value;
        const h: Record<string, string> = {};
        if (f.contentType) h['content-type'] = f.contentType;
        if (f.contentEncoding) h['content-encoding'] = f.contentEncoding;
        const res = await post(fuzzAgent, base, f.path, f.body, h);
        fuzzStatuses[res.status] = (fuzzStatuses[res.status] ?? 0) + 1;
        if ((res.status >= 500 && res.status !== 503) || res.status < 0) {
          if (fuzzFailures.length < 5)
            fuzzFailures.push(`${f.mutation} ${f.path}: ${res.status} ${res.body.toString().slice(0, 200)}`);
        }
      }
    }),
  );
  fuzzAgent.destroy();
  out(
    `fuzz: ${fmt(FUZZ)} mutated bodies in ${fmt((performance.now() - fStart) / 1000, 1)} s, statuses ${JSON.stringify(fuzzStatuses)}`,
  );
  for (const f of fuzzFailures) out(`  ${f}`);

  // 4. Stop, count.
  probe.stdin!.write('stop\n');
  const health = await nextLine(probe, 'p99');
  server.stdin!.write('stop\n');
  const { peakRssMb } = await nextLine(server, 'peakRssMb');
  for (const [name, ph] of Object.entries(
    health.phases as Record<string, { n: number; p50: number; p99: number; max: number }>,
  ))
    out(
      `/healthz during ${name}: ${ph.n} probes, p50 ${fmt(ph.p50, 1)} ms, p99 ${fmt(ph.p99, 1)} ms, max ${fmt(ph.max, 1)} ms`,
    );
  const instance = await DuckDBInstance.create(join(dataDir, 'siperf.duckdb'), { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  const stored = Number(
    (
      await conn.runAndReadAll(`SELECT count(*) AS n FROM spans WHERE service = '${SERVICE}'`)
    ).getRowObjects()[0]!.n,
  );
  conn.closeSync();
  instance.closeSync();
  rmSync(dataDir, { recursive: true, force: true });
  const lost = Math.max(0, acked - stored);
  const fuzz5xx = Object.entries(fuzzStatuses)
    .filter(([s]) => (Number(s) >= 500 && Number(s) !== 503) || Number(s) < 0)
    .reduce((a, [, n]) => a + n, 0);

  const ratio = goodput / capacity;
  const pass = {
    healthP99: health.p99 <= TARGETS.healthP99Ms && health.failures === 0,
    healthMax: health.max <= TARGETS.healthMaxMs,
    goodput: ratio >= TARGETS.goodputRatio,
    lost: lost === TARGETS.lostSpans,
    rss: peakRssMb <= TARGETS.peakRssMb,
    fuzz: fuzz5xx === 0,
  };
  const v = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  out();
  out('figure                              value               target');
  out(
    `/healthz p99, ms (${health.n} probes)    ${fmt(health.p99, 1).padEnd(20)}≤ ${TARGETS.healthP99Ms}   ${v(pass.healthP99)}`,
  );
  out(
    `/healthz max, ms                    ${fmt(health.max, 1).padEnd(20)}≤ ${TARGETS.healthMaxMs}   ${v(pass.healthMax)}`,
  );
  out(
    `goodput / capacity                  ${`${fmt(ratio, 3)} (${fmt(goodput)} / ${fmt(capacity)})`.padEnd(20)}≥ ${TARGETS.goodputRatio}   ${v(pass.goodput)}`,
  );
  out(
    `acked spans lost                    ${`${fmt(lost)} (${fmt(stored)} stored / ${fmt(acked)} acked)`.padEnd(20)}= 0   ${v(pass.lost)}`,
  );
  out(
    `server peak RSS (VmHWM), MiB        ${fmt(peakRssMb).padEnd(20)}≤ ${TARGETS.peakRssMb}   ${v(pass.rss)}`,
  );
  out(`fuzz: 5xx other than 503            ${fmt(fuzz5xx).padEnd(20)}= 0   ${v(pass.fuzz)}`);
  out(
    `(/healthz failures ${health.failures}, p50 ${fmt(health.p50, 1)} ms; whole bench ${fmt((performance.now() - benchStart) / 1000)} s)`,
  );
  const file = writeResults('overload.json', {
    benchmark: 'overload',
    date: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    settings: {
      durationS: DURATION_S,
      capacityS: CAPACITY_S,
      concurrency: CONCURRENCY,
      fuzz: FUZZ,
      maxInFlight: MAX_IN_FLIGHT,
    },
    capacity,
    goodput,
    health,
    acked,
    stored,
    lost,
    peakRssMb,
    statuses,
    fuzzStatuses,
    targets: TARGETS,
    pass,
  });
  out(`results written to ${file}`);
  // The children have reported; nothing of theirs is needed any more.
  server.kill();
  probe.kill();
}

const run = ROLE === 'server' ? runServer : ROLE === 'probe' ? runProbe : main;
run().then(
  () => {
    if (ROLE === 'driver') process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
