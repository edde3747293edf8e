import assert from 'node:assert/strict';
import { test } from 'node:test';
import { poolList } from '../config.ts';
import { DbPools, LOOPBACK } from './pools.ts';

test('hostOf: the host a pool’s database runs on, from its URL, without opening it or showing credentials', () => {
  const pools = new DbPools(
    poolList(
      [
        'main=postgresql://app:secret@db-1.internal:5432/shop',
        'local=postgresql://postgres@127.0.0.1:5432/test',
        'named=postgresql://postgres@localhost/test',
        'v6=mysql://root@[::1]:3306/test',
        'remote6=mysql://root@[2001:db8::7]:3306/test',
      ].join(','),
    ),
  );
  assert.equal(pools.hostOf('main'), 'db-1.internal');
  assert.equal(pools.hostOf('local'), LOOPBACK);
  assert.equal(pools.hostOf('named'), LOOPBACK);
  assert.equal(pools.hostOf('v6'), LOOPBACK);
  assert.equal(pools.hostOf('remote6'), '2001:db8::7');
  assert.equal(pools.hostOf('missing'), undefined);
});
