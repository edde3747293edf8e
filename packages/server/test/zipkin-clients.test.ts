/**
 * Zipkin v2 JSON as real Zipkin clients write it, through `POST /api/v2/spans` and back out of the trace
 * and bottleneck APIs. Every expected number is computed by hand from the times written here.
 *
 * Shapes: Brave (`zipkin-reporter` JSON_V2: the server half of an RPC reuses the client's span id with
 * `"shared": true`; `localEndpoint` the same on every span of a tracer; brave-instrumentation-mysql8 names a
 * query span by its command and puts the SQL in `sql.query`), py_zipkin (Zipkin's own `yelp.json`), and
 * the status tags of the OpenTelemetry exporters (JS: `otel.status_code`, `error` only with a message;
 * Python: `error` empty without one; Collector: `error=true` and `otel.status_description`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixture, get, NEEDS_SHARED, post, startTestApp } from './helpers.ts';

type Node = {
  spanId: string;
  parentSpanId: string;
  service: string;
  name: string;
  kind: string;
  selfTimeMs: number;
  orphan: boolean;
  status: string;
  statusMessage: string;
  isError: boolean;
  attributes: Record<string, unknown>;
  children: Node[];
};

/** `service kind name` of each node, children indented under their parent, in start order. */
function outline(roots: Node[]): string[] {
  const out: string[] = [];
  const walk = (n: Node, depth: number) => {
    out.push(`${'  '.repeat(depth)}${n.service} ${n.kind} ${n.name}`);
    for (const c of n.children) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

function nodes(roots: Node[]): Node[] {
  const out: Node[] = [];
  const walk = (n: Node) => {
    out.push(n);
    n.children.forEach(walk);
  };
  roots.forEach(walk);
  return out;
}

/**
 * One request through Brave-instrumented services: frontend `GET /orders/42` (0–100 ms) calls backend
 * (client half 10–90 ms); backend's clock is 11 ms behind, so its server half reads 1–77 ms and its six
 * serial `select * from items where id = N` (8 ms each, 2 ms apart) read 9–17, 19–27, … 59–67 ms.
 * The frontend reports over IPv6; the backend sees the call coming from that address.
 */
function braveTrace(t0Us: number) {
  const traceId = '5af7183fb1d4cf5f';
  const front = { serviceName: 'frontend', ipv6: '2001:db8::1' };
  const back = { serviceName: 'backend', ipv4: '192.168.1.7', port: 9000 };
  const root = {
    traceId,
    id: '6b221d5bc9e6496c',
    kind: 'SERVER',
    name: 'get /orders/{id}',
    timestamp: t0Us,
    duration: 100_000,
    localEndpoint: front,
    remoteEndpoint: { ipv4: '203.0.113.9', port: 41234 },
    tags: { 'http.method': 'GET', 'http.path': '/orders/42' },
  };
  const client = {
    traceId,
    parentId: '6b221d5bc9e6496c',
    id: '352bff9a74ca9ad2',
    kind: 'CLIENT',
    name: 'get',
    timestamp: t0Us + 10_000,
    duration: 80_000,
    localEndpoint: front,
    remoteEndpoint: { serviceName: 'backend', ipv4: '192.168.1.7', port: 9000 },
    tags: { 'http.method': 'GET', 'http.path': '/api/items' },
  };
  const server = {
    traceId,
    parentId: '6b221d5bc9e6496c',
    id: '352bff9a74ca9ad2',
    kind: 'SERVER',
    name: 'get /api/items',
    timestamp: t0Us + 1_000,
    duration: 76_000,
    localEndpoint: back,
    remoteEndpoint: { ipv6: '2001:db8::1', port: 52314 },
    tags: { 'http.method': 'GET', 'http.path': '/api/items', 'mvc.controller.class': 'ItemsController' },
    shared: true,
  };
  const queries = [0, 1, 2, 3, 4, 5].map((i) => ({
    traceId,
    parentId: '352bff9a74ca9ad2',
    id: `a${i}b2c3d4e5f60718`,
    kind: 'CLIENT',
    name: 'select',
    timestamp: t0Us + 9_000 + 10_000 * i,
    duration: 8_000,
    localEndpoint: back,
    remoteEndpoint: { serviceName: 'mysql-shop', ipv4: '127.0.0.1', port: 3306 },
    tags: { 'sql.query': `select * from items where id = ${100 + i}` },
  }));
  return { traceId: traceId.padStart(32, '0'), root, client, server, queries };
}

/** A recent time in µs, on a whole ms as Brave's clock often is. */
const recentUs = () => (Date.now() - 60_000) * 1000;

describe('Zipkin shared spans (Brave)', () => {
  test('one tree as Zipkin builds it: the backend queries under the server half, with the self times and one skew entry by hand', async () => {
    const t = await startTestApp();
    try {
      const b = braveTrace(recentUs());
      // Brave's AsyncReporter sends what has finished: the queries end before the server span that runs them.
      let r = await post(t.app, '/api/v2/spans', JSON.stringify(b.queries), 'application/json');
      assert.equal(r.json.accepted, 6);
      r = await post(
        t.app,
        '/api/v2/spans',
        JSON.stringify([b.server, b.client, b.root]),
        'application/json',
      );
      assert.equal(r.json.accepted, 3);

      const { json: tree } = await get(t.app, `/api/v1/apm/traces/${b.traceId}`);
      assert.deepEqual(outline(tree.roots), [
        'frontend server get /orders/{id}',
        '  frontend client get',
        '    backend server get /api/items',
        '      backend client select',
        '      backend client select',
        '      backend client select',
        '      backend client select',
        '      backend client select',
        '      backend client select',
      ]);
      const all = nodes(tree.roots);
      const [, client, server, ...queries] = all as [Node, Node, Node, ...Node[]];
      assert.equal(client.spanId, '352bff9a74ca9ad2', 'the client half keeps the id it was sent with');
      assert.notEqual(server.spanId, client.spanId, 'the server half has an id of its own');
      assert.equal(server.parentSpanId, client.spanId);
      for (const q of queries) assert.equal(q.parentSpanId, server.spanId);
      assert.equal(
        all.filter((n) => n.orphan).length,
        0,
        'no orphan: the queries were sent before their parent',
      );
      // Self time: root 100 − client 80 = 20; client 80 − server clipped to 10–77 (67) = 13;
      // server 76 − six queries of 8 = 28; each query 8.
      assert.deepEqual(
        all.map((n) => n.selfTimeMs),
        [20, 13, 28, 8, 8, 8, 8, 8, 8],
      );
      // The clocks disagree only across the RPC: the server half starts 9 ms before the client half
      // (1 ms vs 10 ms). The queries are compared with their own server half, on the same clock.
      assert.deepEqual(tree.clockSkew, [
        {
          spanId: server.spanId,
          parentSpanId: client.spanId,
          service: 'backend',
          parentService: 'frontend',
          startsBeforeMs: 9,
          endsAfterMs: 0,
        },
      ]);
      assert.deepEqual(tree.services, ['backend', 'frontend']);
      assert.equal(tree.spanCount, 9);

      // The N+1 is the backend endpoint's: 6 calls, 48 ms per request; one batched call costs ~2 × 8 ms.
      const { json: bn } = await get(t.app, '/api/v1/apm/bottlenecks?window=15m');
      const n1 = bn.findings.filter((f: any) => f.type === 'n_plus_one');
      assert.equal(n1.length, 1);
      assert.equal(n1[0].endpointService, 'backend');
      assert.equal(n1[0].endpoint, 'get /api/items');
      assert.equal(n1[0].service, 'backend');
      assert.equal(n1[0].callsPerRequest, 6);
      assert.equal(n1[0].timePerRequestMs, 48);
      assert.equal(n1[0].savingPerRequestMs, 48 - 2 * 8);
      assert.equal(n1[0].evidence.exampleParentSpanId, server.spanId);

      // An exporter retry of the same batch: de-duplicated (the derived id is the same), the tree unchanged.
      r = await post(
        t.app,
        '/api/v2/spans',
        JSON.stringify([b.server, b.client, b.root, ...b.queries]),
        'application/json',
      );
      assert.equal(r.status, 202);
      assert.equal((await t.store.traceSpans(b.traceId)).length, 9);
      const { json: again } = await get(t.app, `/api/v1/apm/traces/${b.traceId}`);
      assert.deepEqual(
        nodes(again.roots).map((n) => [n.spanId, n.parentSpanId]),
        all.map((n) => [n.spanId, n.parentSpanId]),
      );
    } finally {
      await t.close();
    }
  });

  test('a server half whose client half never arrived is a root, not an orphan, and keeps its children', async () => {
    const t = await startTestApp();
    try {
      const b = braveTrace(recentUs());
      // Only the backend reports to this server (the frontend reports elsewhere, or was not sampled here).
      await post(t.app, '/api/v2/spans', JSON.stringify([...b.queries, b.server]), 'application/json');
      const { json: tree } = await get(t.app, `/api/v1/apm/traces/${b.traceId}`);
      assert.deepEqual(outline(tree.roots), [
        'backend server get /api/items',
        '  backend client select',
        '  backend client select',
        '  backend client select',
        '  backend client select',
        '  backend client select',
        '  backend client select',
      ]);
      const server = tree.roots[0] as Node;
      assert.equal(server.orphan, false);
      assert.equal(server.parentSpanId, '352bff9a74ca9ad2', 'names the client half that is missing');
      assert.equal(server.selfTimeMs, 76 - 48);
      assert.deepEqual(tree.clockSkew, []);
      const { json: bn } = await get(t.app, '/api/v1/apm/bottlenecks?window=15m');
      const n1 = bn.findings.find((f: any) => f.type === 'n_plus_one');
      assert.deepEqual(
        [n1.endpointService, n1.endpoint, n1.callsPerRequest],
        ['backend', 'get /api/items', 6],
        'credited to the endpoint that made the calls, not to none',
      );
    } finally {
      await t.close();
    }
  });

  test('endpoints: IPv4, IPv6 and ports become the OpenTelemetry network attributes of each span, by kind', async () => {
    const t = await startTestApp();
    try {
      const b = braveTrace(recentUs());
      await post(
        t.app,
        '/api/v2/spans',
        JSON.stringify([b.root, b.client, b.server, b.queries[0]]),
        'application/json',
      );
      const { json: tree } = await get(t.app, `/api/v1/apm/traces/${b.traceId}`);
      const [root, client, server, query] = nodes(tree.roots) as [Node, Node, Node, Node];
      const pick = (n: Node, prefix: RegExp) =>
        Object.fromEntries(Object.entries(n.attributes).filter(([k]) => prefix.test(k)));
      const net = /^(network|server|client|peer)\./;
      // frontend SERVER: local = the server itself (IPv6, no port); remote = the browser's address.
      assert.deepEqual(pick(root, net), {
        'network.local.address': '2001:db8::1',
        'server.address': '2001:db8::1',
        'network.peer.address': '203.0.113.9',
        'network.peer.port': 41234,
        'client.address': '203.0.113.9',
        'client.port': 41234,
      });
      // frontend CLIENT: remote = the backend it calls.
      assert.deepEqual(pick(client, net), {
        'peer.service': 'backend',
        'network.local.address': '2001:db8::1',
        'network.peer.address': '192.168.1.7',
        'network.peer.port': 9000,
        'server.address': '192.168.1.7',
        'server.port': 9000,
      });
      // backend SERVER half: local = 192.168.1.7:9000; remote = the frontend, over IPv6.
      assert.deepEqual(pick(server, net), {
        'network.local.address': '192.168.1.7',
        'network.local.port': 9000,
        'server.address': '192.168.1.7',
        'server.port': 9000,
        'network.peer.address': '2001:db8::1',
        'network.peer.port': 52314,
        'client.address': '2001:db8::1',
        'client.port': 52314,
      });
      // backend's query: remote = MySQL.
      assert.deepEqual(pick(query, net), {
        'peer.service': 'mysql-shop',
        'network.local.address': '192.168.1.7',
        'network.local.port': 9000,
        'network.peer.address': '127.0.0.1',
        'network.peer.port': 3306,
        'server.address': '127.0.0.1',
        'server.port': 3306,
      });
      assert.equal(server.attributes['mvc.controller.class'], 'ItemsController', 'tags stay as sent');
    } finally {
      await t.close();
    }
  });

  test("py_zipkin (Zipkin's yelp.json): the tree zipkin-lens draws, no orphan", {
    skip: NEEDS_SHARED,
  }, async () => {
    const t = await startTestApp();
    try {
      const r = await post(t.app, '/api/v2/spans', fixture('zipkin/zipkin/yelp.json'), 'application/json');
      assert.equal(r.json.accepted, 16);
      const { json: tree } = await get(t.app, '/api/v1/apm/traces/a03ee8fff1dcd9b9');
      // By hand from the file, with Zipkin's rules: `routing` is the lone root (its `shared` flag has no
      // client half: zipkin-lens drops it), so both calls it makes hang under it. mobile_api's calls go
      // under its server half (same service; the port is on some of its spans only). yelp-main's spans
      // name 668ed78ad94b35a1 as parent, whose server half was recorded as `yelp_main/api_proxy`: another
      // endpoint, so they stay under the client half `unknown`, as in Zipkin's UI.
      assert.deepEqual(outline(tree.roots), [
        'routing server post /location/update/v4',
        '  unknown client post',
        '    yelp_main/api_proxy server post api proxy proxy',
        '    yelp-main client get my_cache_name_v2',
        '    yelp-main internal txn: user_get_basic_and_scout_info',
        '      yelp-main client begin',
        '      yelp-main client get user_details_cache-20150901',
        '      yelp-main client get_multi my_cache_name_v1',
        '      yelp-main client commit',
        '  yelp-main client post',
        '    mobile_api server post /location/update/v4',
        '      mobile_api client get_multi mobile_api_nonce',
        '      mobile_api client set mobile_api_nonce',
        '      mobile_api client get',
        '        spectre server get',
        '      mobile_api client post',
      ]);
      assert.equal(nodes(tree.roots).filter((n) => n.orphan).length, 0);
      assert.equal(tree.roots[0].parentSpanId, '2e8cfb154b59a41f');
    } finally {
      await t.close();
    }
  });
});

describe('Zipkin errors', () => {
  test('an error tag or otel.status_code=ERROR, whichever exporter wrote it; otel.status_description is the message', async () => {
    const t = await startTestApp();
    try {
      const ts = recentUs();
      const traceId = 'c0ffee00c0ffee00';
      const local = { serviceName: 'checkout' };
      const sdk = { 'service.name': 'checkout', 'telemetry.sdk.language': 'nodejs' };
      const pay = (n: number, tags: Record<string, string>) => ({
        traceId,
        id: `00000000000000${String(n).padStart(2, '0')}`,
        kind: 'SERVER',
        name: 'POST /pay',
        timestamp: ts + n * 1000,
        duration: 500,
        localEndpoint: local,
        tags,
      });
      const spans = [
        pay(1, { ...sdk, 'otel.status_code': 'ERROR' }), // OTel JS: ERROR without a message, no `error` tag
        pay(2, { ...sdk, 'otel.status_code': 'ERROR', error: 'card declined' }), // OTel JS with a message
        pay(3, { 'otel.status_code': 'Error', 'otel.status_description': 'upstream timeout', error: 'true' }), // Collector
        pay(4, { 'otel.status_code': 'ERROR', error: '' }), // OTel Python without a description
        pay(5, { error: 'NullPointerException' }), // Brave
        pay(6, { ...sdk, 'otel.status_code': 'OK' }),
        pay(7, { ...sdk }),
      ];
      const r = await post(t.app, '/api/v2/spans', JSON.stringify(spans), 'application/json');
      assert.equal(r.json.accepted, 7);
      const { json: tree } = await get(t.app, `/api/v1/apm/traces/${traceId}`);
      assert.equal(tree.errorCount, 5);
      assert.deepEqual(
        (tree.roots as Node[]).map((n) => [n.status, n.statusMessage, n.isError]),
        [
          ['error', '', true],
          ['error', 'card declined', true],
          ['error', 'upstream timeout', true],
          ['error', '', true],
          ['error', 'NullPointerException', true],
          ['ok', '', false],
          ['unset', '', false],
        ],
      );
      const { json } = await get(t.app, '/api/v1/apm/metrics/api?window=15m&service=checkout');
      assert.deepEqual(
        json.endpoints.map((e: any) => [e.endpoint, e.requests, e.errors]),
        [['POST /pay', 7, 5]],
      );
    } finally {
      await t.close();
    }
  });
});
