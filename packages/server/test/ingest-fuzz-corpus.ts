/**
 * Mutated ingest bodies for fuzzing (the test replays a few hundred, `bench:overload` at least 10,000):
 * real OTLP protobuf/JSON (traces and metrics) and Zipkin bodies — built here, plus the shared fixtures
 * when present — then bit flips, truncations, length fields that lie, huge repeated fields, deep nesting,
 * and wrong content types and encodings. Deterministic for a seed.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateSync, gzipSync } from 'node:zlib';
import { otlpTypes } from '../src/ingest/otlp-protobuf.ts';

/** One request to send. */
export interface FuzzBody {
  path: '/v1/traces' | '/v1/metrics' | '/api/v2/spans';
  contentType: string;
  contentEncoding: string | undefined;
  body: Buffer;
  /** The mutation applied, for a failure message. */
  mutation: string;
}

/** mulberry32: a small seeded PRNG. */
export function seededRandom(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (n: number): string => randomBytes(n).toString('hex');

function traceRequest(spans: number): Record<string, unknown> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const traceId = hex(16);
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'fuzz' } },
            { key: 'host.name', value: { stringValue: 'fuzz-1' } },
          ],
        },
        scopeSpans: [
          {
            scope: { name: 'fuzz', version: '1' },
            spans: Array.from({ length: spans }, (_, i) => ({
              traceId,
              spanId: hex(8),
              name: i === 0 ? 'GET /users/{id}' : 'SELECT users',
              kind: i === 0 ? 2 : 3,
              startTimeUnixNano: String(now - 50_000_000n + BigInt(i) * 1000n),
              endTimeUnixNano: String(now - 10_000_000n),
              attributes: [
                { key: 'http.request.method', value: { stringValue: 'GET' } },
                { key: 'http.route', value: { stringValue: '/users/{id}' } },
                { key: 'http.response.status_code', value: { intValue: 200 } },
                { key: 'db.system', value: { stringValue: 'postgresql' } },
                { key: 'db.statement', value: { stringValue: `SELECT * FROM users WHERE id = ${i}` } },
                { key: 'list', value: { arrayValue: { values: [{ intValue: 1 }, { doubleValue: 2.5 }] } } },
              ],
              events: [{ timeUnixNano: String(now - 20_000_000n), name: 'exception', attributes: [] }],
              status: { code: i % 7 === 0 ? 2 : 0, message: '' },
            })),
          },
        ],
      },
    ],
  };
}

function metricsRequest(points: number): Record<string, unknown> {
  const now = String(BigInt(Date.now()) * 1_000_000n);
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz' } }] },
        scopeMetrics: [
          {
            scope: { name: 'fuzz' },
            metrics: [
              {
                name: 'requests',
                unit: '1',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: Array.from({ length: points }, (_, i) => ({
                    timeUnixNano: now,
                    startTimeUnixNano: now,
                    asInt: String(i),
                    attributes: [{ key: 'route', value: { stringValue: `/r/${i}` } }],
                  })),
                },
              },
              {
                name: 'latency',
                unit: 'ms',
                histogram: {
                  aggregationTemporality: 1,
                  dataPoints: [
                    {
                      timeUnixNano: now,
                      startTimeUnixNano: now,
                      count: '3',
                      sum: 12.5,
                      bucketCounts: ['1', '1', '1'],
                      explicitBounds: [1, 10],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

function zipkinBody(spans: number): unknown[] {
  const traceId = hex(16);
  const ts = Date.now() * 1000;
  return Array.from({ length: spans }, (_, i) => ({
    traceId,
    id: hex(8),
    ...(i > 0 ? { parentId: hex(8) } : {}),
    name: 'get /users',
    kind: i === 0 ? 'SERVER' : 'CLIENT',
    timestamp: ts + i,
    duration: 1500,
    localEndpoint: { serviceName: 'fuzz-zipkin', ipv4: '10.0.0.1', port: 8080 },
    tags: { 'http.method': 'GET', 'http.path': '/users', 'http.status_code': '200' },
  }));
}

interface Seed {
  path: FuzzBody['path'];
  protobuf: boolean;
  body: Buffer;
}

/** The unmutated bodies: built here, plus the shared OTLP and Zipkin fixtures when `../shared` exists. */
export function seedBodies(): Seed[] {
  const types = otlpTypes();
  const pb = (type: typeof types.traceRequest, obj: Record<string, unknown>): Buffer => {
    // protobufjs wants bytes for ids: convert hex ids of the JSON shape.
    const fixIds = (v: unknown, key = ''): unknown => {
      if (Array.isArray(v)) return v.map((x) => fixIds(x));
      if (v && typeof v === 'object') {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fixIds(x, k)]));
      }
      if (typeof v === 'string' && /^(traceId|spanId|parentSpanId)$/.test(key)) return Buffer.from(v, 'hex');
      return v;
    };
    return Buffer.from(type.encode(type.fromObject(fixIds(obj) as Record<string, unknown>)).finish());
  };
  const seeds: Seed[] = [];
  for (const n of [1, 8, 64]) {
    const t = traceRequest(n);
    seeds.push({ path: '/v1/traces', protobuf: false, body: Buffer.from(JSON.stringify(t)) });
    seeds.push({ path: '/v1/traces', protobuf: true, body: pb(types.traceRequest, t) });
    const m = metricsRequest(n);
    seeds.push({ path: '/v1/metrics', protobuf: false, body: Buffer.from(JSON.stringify(m)) });
    seeds.push({ path: '/v1/metrics', protobuf: true, body: pb(types.metricsRequest, m) });
    seeds.push({ path: '/api/v2/spans', protobuf: false, body: Buffer.from(JSON.stringify(zipkinBody(n))) });
  }
  const shared = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));
  const add = (dir: string, ext: string, path: FuzzBody['path'], protobuf: boolean): void => {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith(ext) && !f.includes('manifest')) {
        seeds.push({ path, protobuf, body: readFileSync(`${dir}/${f}`) });
      }
    }
  };
  add(`${shared}otlp/protobuf`, '.pb', '/v1/traces', true);
  add(`${shared}otlp/jaeger`, '.json', '/v1/traces', false);
  add(`${shared}zipkin/zipkin`, '.json', '/api/v2/spans', false);
  return seeds;
}

/** A protobuf varint. */
function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** Nested `arrayValue` n levels deep, as OTLP/JSON text or protobuf `AnyValue` bytes. */
function deepJson(n: number): string {
  return `{"key":"deep","value":${'{"arrayValue":{"values":['.repeat(n)}{"intValue":1}${']}}'.repeat(n)}}`;
}
function deepProtobufSpan(n: number): Buffer {
  // AnyValue { arrayValue(5): ArrayValue { values(1): AnyValue ... } }, innermost int_value(3) = 1.
  let inner: Buffer = Buffer.from([0x18, 0x01]);
  for (let i = 0; i < n; i++) {
    const arrayValue = Buffer.concat([Buffer.from([0x0a]), varint(inner.length), inner]);
    inner = Buffer.concat([Buffer.from([0x2a]), varint(arrayValue.length), arrayValue]);
  }
  // KeyValue { key(1): "d", value(2): AnyValue } in Span.attributes(9), Span in ScopeSpans.spans(2), in ResourceSpans.scopeSpans(2).
  const kv = Buffer.concat([Buffer.from([0x0a, 0x01, 0x64, 0x12]), varint(inner.length), inner]);
  const span = Buffer.concat([Buffer.from([0x4a]), varint(kv.length), kv]);
  const scope = Buffer.concat([Buffer.from([0x12]), varint(span.length), span]);
  const rs = Buffer.concat([Buffer.from([0x12]), varint(scope.length), scope]);
  return Buffer.concat([Buffer.from([0x0a]), varint(rs.length), rs]);
}

/** Mutations applied to a seed; each returns the new body and may change the headers. */
const MUTATIONS: {
  name: string;
  apply(seed: Seed, rnd: () => number, out: FuzzBody): void;
}[] = [
  {
    name: 'bit flips',
    apply(seed, rnd, out) {
      const b = Buffer.from(seed.body);
      const flips = 1 + Math.floor(rnd() * 16);
      for (let i = 0; i < flips; i++) {
        const at = Math.floor(rnd() * b.length);
        b[at] = b[at]! ^ (1 << Math.floor(rnd() * 8));
      }
      out.body = b;
    },
  },
  {
    name: 'truncation',
    apply(seed, rnd, out) {
      out.body = seed.body.subarray(0, Math.floor(rnd() * seed.body.length));
    },
  },
  {
    name: 'length-field lie',
    apply(seed, rnd, out) {
      // Overwrite a byte after a field tag with a large varint (protobuf) or a number with a huge one (JSON).
      const b = Buffer.from(seed.body);
      if (seed.protobuf) {
        const at = Math.floor(rnd() * Math.max(1, b.length - 6));
        const lie = varint(Math.floor(rnd() * 2 ** 31));
        lie.copy(b, at + 1, 0, Math.min(lie.length, b.length - at - 1));
        out.body = b;
      } else {
        out.body = Buffer.from(
          seed.body.toString('utf8').replace(/\d+/, '9'.repeat(1 + Math.floor(rnd() * 400))),
        );
      }
    },
  },
  {
    name: 'huge repeated field',
    apply(seed, rnd, out) {
      // The body repeated: protobuf concatenation merges repeated fields; JSON gets a huge array.
      const times = 50 + Math.floor(rnd() * 400);
      if (seed.protobuf) out.body = Buffer.concat(Array.from({ length: times }, () => seed.body));
      else if (seed.path === '/api/v2/spans') {
        const one = seed.body
          .toString('utf8')
          .replace(/^\s*\[/, '')
          .replace(/\]\s*$/, '');
        out.body = Buffer.from(`[${Array.from({ length: times }, () => one).join(',')}]`);
      } else {
        out.body = Buffer.from(
          `{"resourceSpans":[${Array.from({ length: times }, () => '{"scopeSpans":[{"spans":[{"name":"x","attributes":[]}]}]}').join(',')}]}`,
        );
      }
    },
  },
  {
    name: 'deep nesting',
    apply(seed, rnd, out) {
      const depth = 100 + Math.floor(rnd() * 20_000);
      if (seed.protobuf && seed.path === '/v1/traces') out.body = deepProtobufSpan(Math.min(depth, 3000));
      else if (seed.path === '/api/v2/spans')
        out.body = Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`);
      else {
        out.body = Buffer.from(
          `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${hex(16)}","spanId":"${hex(8)}","name":"d","startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[${deepJson(depth)}]}]}]}]}`,
        );
      }
    },
  },
  {
    name: 'wrong content type',
    apply(_seed, rnd, out) {
      out.contentType = ['text/plain', 'application/x-protobuf', 'application/json', 'application/jsonx', ''][
        Math.floor(rnd() * 5)
      ]!;
    },
  },
  {
    name: 'wrong or lying encoding',
    apply(seed, rnd, out) {
      const pickEncoding = Math.floor(rnd() * 5);
      if (pickEncoding === 0)
        out.contentEncoding = 'gzip'; // says gzip, is not
      else if (pickEncoding === 1) out.contentEncoding = 'br';
      else if (pickEncoding === 2) {
        out.contentEncoding = 'gzip';
        const z = gzipSync(seed.body);
        out.body = z.subarray(0, Math.floor(z.length * rnd())); // truncated gzip
      } else if (pickEncoding === 3) {
        out.contentEncoding = 'deflate';
        out.body = gzipSync(seed.body); // gzip sent as deflate
      } else {
        out.contentEncoding = 'gzip';
        out.body = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20)); // a small bomb: 8 MiB of spaces
      }
    },
  },
  {
    name: 'gzip of a mutated body',
    apply(seed, rnd, out) {
      const b = Buffer.from(seed.body);
      for (let i = 0; i < 4; i++) {
        const at = Math.floor(rnd() * b.length);
        b[at] = Math.floor(rnd() * 256);
      }
      out.contentEncoding = rnd() < 0.5 ? 'gzip' : 'deflate';
      out.body = out.contentEncoding === 'gzip' ? gzipSync(b) : deflateSync(b);
    },
  },
];

/** `count` mutated bodies, the same for the same seed (apart from random ids in the built seeds). */
export function* fuzzBodies(count: number, seed: number): Generator<FuzzBody> {
  const rnd = seededRandom(seed);
  const seeds = seedBodies();
  for (let i = 0; i < count; i++) {
    const s = seeds[Math.floor(rnd() * seeds.length)]!;
    const m = MUTATIONS[Math.floor(rnd() * MUTATIONS.length)]!;
    const out: FuzzBody = {
      path: s.path,
      contentType: s.protobuf ? 'application/x-protobuf' : 'application/json',
      contentEncoding: undefined,
      body: s.body,
      mutation: m.name,
    };
    m.apply(s, rnd, out);
    yield out;
  }
}
