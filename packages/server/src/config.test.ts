import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CONFIG, loadConfig } from './config.ts';

test('precedence: flag > SIPERF_* environment > config file > default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'siperf-config-'));
  const file = join(dir, 'siperf.json');
  writeFileSync(file, JSON.stringify({ port: 5000, apdexThresholdMs: 300, dataDir: '/x' }));
  const c = loadConfig({
    file,
    env: { SIPERF_PORT: '6000', SIPERF_APDEX_THRESHOLD_MS: '250' },
    flags: { port: '7000' },
  });
  assert.equal(c.port, 7000);
  assert.equal(c.apdexThresholdMs, 250);
  assert.equal(c.dataDir, '/x');
  assert.equal(c.slowQueryThresholdMs, DEFAULT_CONFIG.slowQueryThresholdMs);
  assert.ok(Object.isFrozen(c));
});

test('each bad value is named with the expected range, what was given and where it came from', () => {
  assert.throws(
    () => loadConfig({ env: { SIPERF_PORT: 'abc', SIPERF_RAW_SPANS_RETENTION_DAYS: '0' } }),
    (err: any) =>
      err.code === 'ERR_CONFIG_INVALID' &&
      err.detail.includes('port: expected an integer 0..65535, got "abc" (from SIPERF_PORT)') &&
      err.detail.includes(
        'rawSpansRetentionDays: expected an integer 1..3650, got 0 (from SIPERF_RAW_SPANS_RETENTION_DAYS)',
      ),
  );
  assert.throws(() => loadConfig({ flags: { logLevel: 'loud' } }), /logLevel: expected one of fatal, error/);
});

test('listening beyond loopback without keys is refused', () => {
  assert.throws(() => loadConfig({ flags: { host: '0.0.0.0' } }), /requires both ingestKey and apiKey/);
  assert.equal(loadConfig({ flags: { host: '0.0.0.0', ingestKey: 'i', apiKey: 'a' } }).host, '0.0.0.0');
});

test('URL lists are checked item by item: node_exporter targets and CORS origins', () => {
  assert.throws(
    () => loadConfig({ flags: { nodeExporterTargets: 'http://db-1:9100/metrics, ftp://x' } }),
    /nodeExporterTargets: each target must be an http\(s\) URL, got "ftp:\/\/x"/,
  );
  assert.throws(
    () => loadConfig({ flags: { corsOrigins: 'https://shop.test/path' } }),
    /corsOrigins: each origin must be \* or scheme:\/\/host\[:port\] without a path/,
  );
  assert.throws(
    () => loadConfig({ flags: { priceVcpuHour: -1 } }),
    /priceVcpuHour: expected a number 0\.\.1000000/,
  );
  assert.equal(
    loadConfig({ flags: { corsOrigins: 'http://site.test:80' } }).corsOrigins,
    'http://site.test:80',
  );
});

test('settings come from one schema: hex and blank numbers, unknown keys and wrong types are refused', () => {
  assert.throws(
    () => loadConfig({ env: { SIPERF_PORT: '0x10' } }),
    /port: expected an integer 0\.\.65535, got "0x10" \(from SIPERF_PORT\)/,
  );
  assert.throws(
    () => loadConfig({ flags: { port: ' ' } }),
    /port: expected an integer 0\.\.65535, got " " \(from --port\)/,
  );
  assert.throws(
    () => loadConfig({ flags: { apdexTresholdMs: 5 } }),
    /apdexTresholdMs: unknown setting \(from --apdex-treshold-ms\)/,
  );
  assert.throws(() => loadConfig({ flags: { dataDir: 5 } }), /dataDir: expected a non-empty string, got 5/);
  assert.equal(loadConfig({ env: { SIPERF_PRICE_VCPU_HOUR: '0.05' } }).priceVcpuHour, 0.05);
  assert.equal(DEFAULT_CONFIG.port, 4318);
  assert.equal(DEFAULT_CONFIG.ingestKey, undefined);
});

test("the README's settings table names every setting", () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const table = readme
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => l.split('|')[1]!)
    .join(' ');
  const missing = Object.keys(DEFAULT_CONFIG).filter((k) => !table.includes(`\`${k}\``));
  assert.deepEqual(missing, []);
});
