/**
 * Alert rules are bounded (maxAlertRules: a new rule beyond it is 409 ERR_ALERT_RULES_LIMIT) and the rules
 * file is written off the event loop, atomically and one write at a time: concurrent POSTs leave a whole
 * file holding the last state.
 */
import assert from 'node:assert/strict';
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createDuckDbStore } from '../src/storage/index.ts';
import { startTestApp, TEST_SERVER_FLAGS } from './helpers.ts';

const rule = (id: string, threshold = 1) => ({
  id,
  name: `Rule ${id}`,
  expr: { kind: 'metric', name: 'queue.depth' },
  op: '>',
  threshold,
});

test('maxAlertRules: a new rule beyond it is 409 ERR_ALERT_RULES_LIMIT; replacing one by its id still works', async () => {
  const t = await startTestApp({ maxAlertRules: 8 });
  try {
    const send = (body: object) =>
      t.app.inject({ method: 'POST', url: '/api/v1/alerts/rules', payload: body });
    const builtIn = (await t.app.inject({ method: 'GET', url: '/api/v1/alerts/rules' })).json().rules.length;
    assert.ok(builtIn > 0 && builtIn < 8);
    for (let i = builtIn; i < 8; i++) assert.equal((await send(rule(`r${i}`))).statusCode, 201);
    const refused = await send(rule('one-too-many'));
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().code, 'ERR_ALERT_RULES_LIMIT');
    assert.equal(refused.json().limit, 8);
    assert.match(refused.json().detail, /at most 8 alert rules \(maxAlertRules\)/);
    // Replacing a rule (same id), built-in ones included, is not a new rule.
    assert.equal((await send(rule(`r${builtIn}`, 5))).statusCode, 201);
    assert.equal((await send({ ...rule('cpu-high', 95) })).statusCode, 201);
    const rules = (await t.app.inject({ method: 'GET', url: '/api/v1/alerts/rules' })).json().rules;
    assert.equal(rules.length, 8);
    assert.ok(!rules.some((r: { id: string }) => r.id === 'one-too-many'));
    // Room again after a delete.
    assert.equal(
      (await t.app.inject({ method: 'DELETE', url: `/api/v1/alerts/rules/r${builtIn}` })).statusCode,
      204,
    );
    assert.equal((await send(rule('one-too-many'))).statusCode, 201);
  } finally {
    await t.close();
  }
});

test('concurrent rule changes leave one whole rules file with the last state and no temporary file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siperf-alert-rules-'));
  const config = loadConfig({ flags: { ...TEST_SERVER_FLAGS, dataDir: dir, alertDefaultRules: 0 } });
  const store = await createDuckDbStore({ path: ':memory:' });
  const app = await buildApp({ config, store, logger: false });
  // Any synchronous write of the file would block the event loop: count them (there must be none).
  const syncWrites: string[] = [];
  const { writeFileSync, renameSync } = fs;
  fs.writeFileSync = ((...args: Parameters<typeof writeFileSync>) => {
    syncWrites.push(String(args[0]));
    return writeFileSync(...args);
  }) as typeof writeFileSync;
  fs.renameSync = ((...args: Parameters<typeof renameSync>) => {
    syncWrites.push(String(args[1]));
    return renameSync(...args);
  }) as typeof renameSync;
  syncBuiltinESMExports();
  try {
    const n = 60;
    // Sent together: each answer comes once the file holds its rule (or a later state).
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        app.inject({ method: 'POST', url: '/api/v1/alerts/rules', payload: rule(`r${i}`, i) }),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.statusCode),
      Array(n).fill(201),
    );
    const file = join(dir, 'alert-rules.json');
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(
      saved.rules.map((r: { id: string }) => r.id).sort(),
      Array.from({ length: n }, (_, i) => `r${i}`).sort(),
    );
    // Deletes and a replacement, together: the file ends with the state the engine ends with.
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) =>
        app.inject({ method: 'DELETE', url: `/api/v1/alerts/rules/r${i}` }),
      ),
      app.inject({ method: 'POST', url: '/api/v1/alerts/rules', payload: rule('r59', 1000) }),
    ]);
    const after = JSON.parse(readFileSync(file, 'utf8'));
    const listed = (await app.inject({ method: 'GET', url: '/api/v1/alerts/rules' })).json().rules;
    assert.deepEqual(after.rules, listed);
    assert.equal(after.rules.length, n - 20);
    assert.equal(after.rules.find((r: { id: string }) => r.id === 'r59').threshold, 1000);
    assert.deepEqual(readdirSync(dir), ['alert-rules.json'], 'a temporary file was left behind');
    assert.deepEqual(syncWrites, [], 'the rules file was written synchronously, on the event loop');
  } finally {
    fs.writeFileSync = writeFileSync;
    fs.renameSync = renameSync;
    syncBuiltinESMExports();
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
