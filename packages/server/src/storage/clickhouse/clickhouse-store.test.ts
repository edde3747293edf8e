import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runStoreContract } from '../store.contract.ts';
import { createClickHouseStore } from './clickhouse-store.ts';
import { parseClickHouseUrl } from './connection.ts';
import { startTestClickHouse, type TestClickHouse } from './test-server.ts';

// One empty database per store (dropped at the end); the server is the one scripts/start-services.sh
// starts on 127.0.0.1:8123, started here (and stopped again) only when nothing answers there.
let ch: TestClickHouse | undefined;
before(async () => {
  ch = await startTestClickHouse();
});
after(async () => {
  await ch?.stop();
});

runStoreContract(
  'ClickHouse',
  async (now) => {
    if (!ch) throw new Error('ClickHouse did not start');
    return createClickHouseStore({ url: ch.newDatabaseUrl(), now });
  },
  { inMemory: false },
);

test('parseClickHouseUrl keeps the password out of the URL it shows', () => {
  const t = parseClickHouseUrl('clickhouse://ann:s3cr%40t@db.example:8124/perf');
  assert.deepEqual(
    { ...t },
    {
      httpUrl: 'http://db.example:8124',
      username: 'ann',
      password: 's3cr@t',
      database: 'perf',
      display: 'clickhouse://ann@db.example:8124/perf',
    },
  );
  assert.throws(() => parseClickHouseUrl('clickhouse://h/bad-name'), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => parseClickHouseUrl('http://h:8123/x'), { code: 'ERR_CONFIG_INVALID' });
});
