/**
 * The demo service: an annotation workflow (log in, load a task, save an annotation, list results) over
 * HTTP and PostgreSQL, with the flaws a performance tool should find:
 * - `GET /tasks/:id` loads each annotation's author with its own query (an N+1 loop; `fixes.batchAuthors`
 *   batches them);
 * - `GET /results` filters annotations by `created_by`, which has no index (a sequential scan);
 * - `GET /tasks/:id/summary` is served from a small TTL cache (hits are fast, misses run a GROUP BY);
 * - one business transaction, `annotate`, spans the four requests of a session: its id travels in W3C
 *   baggage (`siperf.transaction.id`, `siperf.transaction.name`) from the client.
 * @module
 */
import { trace } from '@opentelemetry/api';
import { BusinessTransaction, counter, histogram } from '@siperf/node';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Database } from './db.ts';

/** Options of {@link buildApp}. */
export interface DemoAppOptions {
  db: Database;
  /** Base URL of the siperf server, for the page's `rum.js`. */
  siperfEndpoint: string;
  /** TTL of the task-summary cache, ms. Default 5,000. */
  summaryTtlMs?: number;
  /** The fixes applied so far (`npm run demo -- --fix` turns them on while the service runs). */
  fixes?: DemoFixes;
}

/** What `--fix` changes in the code while the service runs (the index is a change to the database). */
export interface DemoFixes {
  /** Load a task's authors with one `WHERE id = ANY($1)` query instead of one query each (the N+1's fix). */
  batchAuthors: boolean;
}

/** A bounded map with a time to live per entry; the demo's stand-in for `@siperf/node`'s caches. */
class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }
  set(key: string, value: V): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expiresAt: Date.now() + this.ttlMs });
  }
}

const saved = counter('demo.annotations.saved', { unit: '{annotation}', description: 'annotations saved' });
const cacheLookups = counter('demo.cache.lookups', {
  unit: '{lookup}',
  description: 'task-summary cache lookups by result (hit, miss)',
});
const boxArea = histogram('demo.annotation.box_area', { unit: 'px2', description: 'area of saved boxes' });

/** The page a browser loads: the task view with siperf's real-user monitoring script. */
function page(siperf: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Annotate</title></head>
<body style="font-family:sans-serif;margin:2em">
<h1>Annotation task</h1><p id="task">Loading…</p><button id="save">Save annotation</button>
<script>
  fetch('/tasks/' + (1 + Math.floor(Math.random() * 200))).then((r) => r.json()).then((t) => {
    document.getElementById('task').textContent = t.title + ' — ' + t.annotations.length + ' annotations';
  });
  document.getElementById('save').addEventListener('click', () => {
    const t0 = performance.now();
    while (performance.now() - t0 < 80) {}
    document.getElementById('save').textContent = 'Saved';
  });
</script>
<script src="${siperf}/rum.js" data-service="annotate-web" async></script>
</body></html>`;
}

/** Builds the Fastify app over a seeded database. */
export async function buildApp(options: DemoAppOptions): Promise<FastifyInstance> {
  const { db } = options;
  const summaries = new TtlCache<unknown>(options.summaryTtlMs ?? 5000, 1000);
  const fixes = options.fixes ?? { batchAuthors: false };
  const app = Fastify({ logger: false });
  // Name the server span by its route, whether or not the Fastify instrumentation is active (ESM apps
  // without the loader hook): the endpoint is then `GET /tasks/:id`, not one per task id.
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    const span = trace.getActiveSpan();
    if (route && span) {
      span.setAttribute('http.route', route);
      span.updateName(`${request.method} ${route}`);
    }
  });

  app.get('/', async (_request, reply) => reply.type('text/html').send(page(options.siperfEndpoint)));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());

  app.post<{ Body: { username?: string } }>('/login', async (request, reply) => {
    const name = request.body?.username;
    if (typeof name !== 'string' || name === '') return reply.code(400).send({ error: 'username: required' });
    // The transaction starts with the session; its first step is the log-in itself.
    const tx =
      BusinessTransaction.fromContext() ?? BusinessTransaction.start('annotate', { 'user.name': name });
    const [user] = await tx.step('log in', () =>
      db.query('SELECT id, name FROM users WHERE name = $1', [name]),
    );
    if (!user) {
      tx.end(false);
      return reply.code(401).send({ error: 'unknown user' });
    }
    return { userId: user.id, transaction: { id: tx.id, name: tx.name } };
  });

  app.get<{ Params: { id: string } }>('/tasks/:id', async (request, reply) => {
    const id = Number(request.params.id);
    const tx = BusinessTransaction.fromContext();
    const load = async () => {
      const [task] = await db.query('SELECT id, title, image_url FROM tasks WHERE id = $1', [id]);
      if (!task) return undefined;
      const annotations = await db.query(
        'SELECT id, label, created_by FROM annotations WHERE task_id = $1 ORDER BY id LIMIT 12',
        [id],
      );
      if (fixes.batchAuthors) {
        // The N+1's fix: every author in one query.
        const ids = [...new Set(annotations.map((a) => a.created_by))];
        const authors = await db.query('SELECT id, name FROM users WHERE id = ANY($1)', [ids]);
        const names = new Map(authors.map((u) => [u.id, u.name]));
        for (const a of annotations) a.author = names.get(a.created_by);
      } else {
        // The N+1: one query per annotation for its author, instead of a JOIN or `WHERE id = ANY($1)`.
        for (const a of annotations) {
          const [author] = await db.query('SELECT name FROM users WHERE id = $1', [a.created_by]);
          a.author = author?.name;
        }
      }
      return { ...task, annotations };
    };
    const task = tx ? await tx.step('load task', load) : await load();
    if (!task) return reply.code(404).send({ error: `no task ${id}` });
    return task;
  });

  app.get<{ Params: { id: string } }>('/tasks/:id/summary', async (request) => {
    const id = Number(request.params.id);
    const key = `task:${id}`;
    const hit = summaries.get(key);
    cacheLookups.add(1, { result: hit === undefined ? 'miss' : 'hit' });
    if (hit !== undefined) return hit;
    const rows = await db.query(
      'SELECT label, count(*)::int AS n FROM annotations WHERE task_id = $1 GROUP BY label ORDER BY label',
      [id],
    );
    const summary = { taskId: id, labels: rows };
    summaries.set(key, summary);
    return summary;
  });

  app.post<{
    Params: { id: string };
    Body: { userId?: number; label?: string; box?: Record<string, number> };
  }>('/tasks/:id/annotations', async (request, reply) => {
    const { userId, label, box } = request.body ?? {};
    const tx = BusinessTransaction.fromContext();
    const save = async () => {
      if (typeof label !== 'string' || label === '') throw new Error('label: required');
      const [row] = await db.query(
        'INSERT INTO annotations (task_id, created_by, label, box) VALUES ($1, $2, $3, $4) RETURNING id',
        [Number(request.params.id), userId, label, JSON.stringify(box ?? {})],
      );
      saved.add(1, { label });
      if (box) boxArea.record((box.w ?? 0) * (box.h ?? 0));
      return row;
    };
    try {
      const row = tx ? await tx.step('save annotation', save) : await save();
      return reply.code(201).send(row);
    } catch (err) {
      return reply.code(422).send({ error: (err as Error).message });
    }
  });

  app.get<{ Querystring: { userId?: string; end?: string; outcome?: string } }>(
    '/results',
    async (request) => {
      const userId = Number(request.query.userId);
      const tx = BusinessTransaction.fromContext();
      // No index on created_by: PostgreSQL scans every annotation.
      const list = () =>
        db.query(
          `SELECT label, count(*)::int AS n, max(created_at) AS last FROM annotations
         WHERE created_by = $1 GROUP BY label ORDER BY n DESC`,
          [userId],
        );
      const rows = tx ? await tx.step('list results', list) : await list();
      // The client says how its session went (a failed save fails the whole transaction).
      if (tx && request.query.end !== 'false') tx.end(request.query.outcome !== 'failed');
      return { userId, results: rows };
    },
  );

  return app;
}
