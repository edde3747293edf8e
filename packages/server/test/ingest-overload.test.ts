/**
 * The event loop and overload (issue 14): a big body is decoded off the event loop, an ingest request
 * over the in-flight budget is turned away before its body is read, and mutated bodies never crash the
 * server or get a 500. Nothing here is timed: the checks are on the order in which answers arrive.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startTestApp, type TestApp } from './helpers.ts';
import { fuzzBodies } from './ingest-fuzz-corpus.ts';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Reads a whole answer. */
function answerOf(res: http.IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () =>
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
    );
    res.on('error', reject);
  });
}

/** A request whose body the caller writes (or not); `answer` settles when the server answers. */
function openRequest(
  base: string,
  path: string,
  headers: Record<string, string | number>,
): { req: http.ClientRequest; answer: Promise<Answer> } {
  const agent = new http.Agent({ keepAlive: false });
  const req = http.request(`${base}${path}`, { method: 'POST', headers, agent });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => answerOf(res).then(resolve, reject));
    req.on('error', reject);
  });
  // Send the headers now, before any body.
  req.flushHeaders();
  return { req, answer };
}

function getHealth(base: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}/healthz`, { agent: new http.Agent({ keepAlive: false }) }, (res) =>
        answerOf(res).then(resolve, reject),
      )
      .on('error', reject);
  });
}

/** An OTLP/JSON trace request of `n` spans, each with a 1 KiB attribute. */
function bigTraceRequest(n: number): Buffer {
  const now = BigInt(Date.now()) * 1_000_000n;
  const traceId = randomBytes(16).toString('hex');
  const filler = 'x'.repeat(1024);
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId,
    spanId: randomBytes(8).toString('hex'),
    name: 'GET /big',
    kind: 2,
    startTimeUnixNano: String(now - 10_000_000n - BigInt(i)),
    endTimeUnixNano: String(now),
    attributes: [
      { key: 'http.route', value: { stringValue: '/big' } },
      { key: 'filler', value: { stringValue: filler } },
    ],
  }));
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'big' } }] },
          scopeSpans: [{ spans }],
        },
      ],
    }),
  );
}

describe('ingest: the event loop and overload', () => {
  let t: TestApp;
  let base: string;
  before(async () => {
    t = await startTestApp({ maxInflightBodyBytes: 1024 * 1024, validateResponses: 0 });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => t.close());

  test('a big gzip body is decoded while /healthz keeps answering', async () => {
    const json = bigTraceRequest(20_000);
    const gz = gzipSync(json);
    assert.ok(json.length > 20 * 1024 * 1024 && gz.length < 1024 * 1024, `${json.length} → ${gz.length}`);
    const big = openRequest(base, '/v1/traces', {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'content-length': gz.length,
    });
    let bigDone = false;
    const bigAnswer = big.answer.finally(() => {
      bigDone = true;
    });
    await new Promise<void>((resolve) => big.req.end(gz, resolve));
    // Health checks one after the other while the big request is decoded and written: on an event loop
    // that decoded it, at most one could slip in before the answer.
    let answeredBefore = 0;
    while (!bigDone) {
      const h = await getHealth(base);
      assert.equal(h.status, 200);
      if (!bigDone) answeredBefore++;
    }
    const answer = await bigAnswer;
    assert.equal(answer.status, 200, answer.body);
    assert.ok(answeredBefore >= 3, `only ${answeredBefore} /healthz answers came before the big request's`);
    const stored = await t.store.traceSpans(
      (JSON.parse(json.toString()) as any).resourceSpans[0].scopeSpans[0].spans[0].traceId,
    );
    assert.equal(stored.length, 20_000);
  });

  test('a request over the in-flight body budget gets 503 + Retry-After before its body is read', async () => {
    // A holds 600 KB of the 1 MiB budget: its headers and a part of its body are sent, the rest later.
    const padded = Buffer.alloc(600_000, 0x20);
    const valid = bigTraceRequest(1);
    valid.copy(padded);
    const a = openRequest(base, '/v1/traces', {
      'content-type': 'application/json',
      'content-length': padded.length,
    });
    let aDone = false;
    const aAnswer = a.answer.finally(() => {
      aDone = true;
    });
    a.req.write(padded.subarray(0, 1000));
    // The server has taken A in once it has answered a request sent after A's headers.
    assert.equal((await getHealth(base)).status, 200);
    // B declares 600 KB too and never sends a byte of it: it must be answered all the same.
    const b = openRequest(base, '/v1/traces', {
      'content-type': 'application/json',
      'content-length': padded.length,
    });
    const bAnswer = await b.answer;
    assert.equal(bAnswer.status, 503, bAnswer.body);
    assert.equal(bAnswer.headers['retry-after'], '1');
    assert.equal(JSON.parse(bAnswer.body).code, 'ERR_INGEST_OVERLOADED');
    assert.equal(b.req.socket?.bytesWritten !== undefined, true);
    assert.equal(aDone, false, 'A is still in flight');
    b.req.destroy();
    // A completes normally; then the budget is free again.
    a.req.end(padded.subarray(1000));
    const aRes = await aAnswer;
    assert.equal(aRes.status, 200, aRes.body);
    const c = openRequest(base, '/v1/traces', {
      'content-type': 'application/json',
      'content-length': padded.length,
    });
    c.req.end(padded);
    assert.equal((await c.answer).status, 200);
  });

  test('500 mutated OTLP and Zipkin bodies: no crash, no 500, /healthz still answers', async () => {
    const statuses: Record<string, number> = {};
    for (const f of fuzzBodies(500, 14)) {
      const headers: Record<string, string> = {};
      if (f.contentType) headers['content-type'] = f.contentType;
      if (f.contentEncoding) headers['content-encoding'] = f.contentEncoding;
      const res = await t.app.inject({ method: 'POST', url: f.path, payload: f.body, headers });
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      assert.ok(
        res.statusCode < 500,
        `${f.mutation} to ${f.path} (${f.contentType}, ${f.contentEncoding}, ${f.body.length} bytes): ${res.statusCode} ${res.body.slice(0, 300)}`,
      );
    }
    assert.ok((statuses[200] ?? 0) + (statuses[202] ?? 0) > 0, JSON.stringify(statuses));
    assert.ok((statuses[400] ?? 0) > 0, JSON.stringify(statuses));
    assert.equal((await getHealth(base)).status, 200);
  });
});

test('a body declared over maxBodyBytes gets its 413 while it is still being sent; far over, the connection closes after the answer', async () => {
  const t = await startTestApp({ maxBodyBytes: 64 * 1024, validateResponses: 0 });
  try {
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    // 200 KB declared (over the 64 KiB limit, under 4×): written in 10 pieces, one per turn, after the
    // headers. Fastify's own limit closed the connection here, and the client wrote into a broken pipe.
    const body = Buffer.alloc(200_000, 0x20);
    const near = openRequest(base, '/api/v2/spans', {
      'content-type': 'application/json',
      'content-length': body.length,
    });
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve) =>
        near.req.write(body.subarray(i * 20_000, (i + 1) * 20_000), () => resolve()),
      );
    }
    near.req.end();
    const a = await near.answer;
    assert.equal(a.status, 413, a.body);
    const problem = JSON.parse(a.body);
    assert.equal(problem.code, 'ERR_INGEST_BODY_TOO_LARGE');
    assert.equal(problem.limit, 65_536);
    assert.match(
      problem.detail,
      /200000 bytes \(Content-Length\) exceeds the limit of 65536 bytes \(maxBodyBytes\)/,
    );
    // 1 MB declared (over 4× the limit), no body sent: 413 at once, and the connection is not kept.
    const far = openRequest(base, '/v1/traces', {
      'content-type': 'application/x-protobuf',
      'content-length': 1_000_000,
    });
    const b = await far.answer;
    far.req.destroy();
    assert.equal(b.status, 413);
    assert.equal(b.headers.connection, 'close');
    assert.equal((await getHealth(base)).status, 200);
  } finally {
    await t.close();
  }
});

test('the spans an admitted trace request is expected to bring count against maxPendingSpans before a second body is read', async () => {
  // The estimate starts at 1 span per 128 body bytes: 70,000 declared bytes are 547 spans expected.
  const t = await startTestApp({ maxPendingSpans: 1000, validateResponses: 0 });
  try {
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const padded = Buffer.alloc(70_000, 0x20);
    bigTraceRequest(1).copy(padded);
    const a = openRequest(base, '/v1/traces', {
      'content-type': 'application/json',
      'content-length': padded.length,
    });
    a.req.write(padded.subarray(0, 1000));
    assert.equal((await getHealth(base)).status, 200, 'A is taken in');
    // B: 547 more expected, 547 + 547 > 1000 with nothing written yet → 503 before its body is read.
    const b = openRequest(base, '/v1/traces', {
      'content-type': 'application/json',
      'content-length': padded.length,
    });
    const bAnswer = await b.answer;
    b.req.destroy();
    assert.equal(bAnswer.status, 503, bAnswer.body);
    assert.match(
      JSON.parse(bAnswer.body).detail,
      /0 spans are waiting to be written and 547 more are on their way in \(maxPendingSpans 1000\)/,
    );
    // A's decode replaces its reservation by its one span: a body of 4,000 bytes (31 expected) is admitted.
    a.req.end(padded.subarray(1000));
    assert.equal((await a.answer).status, 200);
    const small = bigTraceRequest(1);
    const c = openRequest(base, '/v1/traces', {
      'content-type': 'application/json',
      'content-length': small.length,
    });
    c.req.end(small);
    assert.equal((await c.answer).status, 200);
  } finally {
    await t.close();
  }
});
