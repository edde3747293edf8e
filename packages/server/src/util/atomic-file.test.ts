import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AtomicFileWriter } from './atomic-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'siperf-atomic-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('writes made while one runs are coalesced: the last content wins, nothing interleaves', async () => {
  const w = new AtomicFileWriter(join(dir, 'a', 'state.json'));
  const done = Array.from({ length: 50 }, (_, i) => w.write(JSON.stringify({ i })));
  await Promise.all(done);
  assert.deepEqual(JSON.parse(readFileSync(w.file, 'utf8')), { i: 49 });
  // The first write ran at once; the 49 made meanwhile became one write of the last content.
  assert.equal(w.writes, 2);
  assert.deepEqual(readdirSync(join(dir, 'a')), ['state.json'], 'a temporary file was left behind');
});

test('a reader sees the old content or the new, never a partial file', async () => {
  const w = new AtomicFileWriter(join(dir, 'big.json'));
  await w.write(JSON.stringify({ n: -1, pad: 'x'.repeat(4_000_000) }));
  let stop = false;
  let reads = 0;
  const reader = (async () => {
    while (!stop) {
      const text = await readFile(w.file, 'utf8');
      assert.equal(typeof JSON.parse(text).n, 'number', 'a read met a partial file');
      reads++;
    }
  })();
  for (let n = 0; n < 20; n++) await w.write(JSON.stringify({ n, pad: String(n).repeat(4_000_000) }));
  stop = true;
  await reader;
  assert.ok(reads > 0);
  assert.equal(JSON.parse(readFileSync(w.file, 'utf8')).n, 19);
});

test('a failed write is reported and the file keeps its content; later writes go on', async () => {
  const errors: unknown[] = [];
  const file = join(dir, 'kept.json');
  const w = new AtomicFileWriter(file, (err) => errors.push(err));
  await w.write('{"v":1}');
  // A directory where the temporary file would go makes the next write fail.
  const blocked = new AtomicFileWriter(join(dir, 'kept.json', 'child.json'), (err) => errors.push(err));
  await blocked.write('{"v":2}');
  assert.equal(errors.length, 1);
  assert.equal(readFileSync(file, 'utf8'), '{"v":1}');
  await w.write('{"v":3}');
  assert.equal(readFileSync(file, 'utf8'), '{"v":3}');
});
