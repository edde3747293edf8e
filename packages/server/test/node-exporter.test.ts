/**
 * Scraping a node_exporter exposition (served by the test) into the resource series, by hand.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { currentResources, resourceSeries, scrapeNodeExporter } from '../src/resources/index.ts';
import { startTestApp } from './helpers.ts';

const GiB = 2 ** 30;

function exposition(cpu0: [number, number, number], rxBytes: number): string {
  const [user, system, idle] = cpu0;
  return `# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} ${idle}
node_cpu_seconds_total{cpu="0",mode="system"} ${system}
node_cpu_seconds_total{cpu="0",mode="user"} ${user}
# TYPE node_load1 gauge
node_load1 0.42
# TYPE node_memory_MemTotal_bytes gauge
node_memory_MemTotal_bytes ${16 * GiB}
# TYPE node_memory_MemAvailable_bytes gauge
node_memory_MemAvailable_bytes ${12 * GiB}
# TYPE node_memory_MemFree_bytes gauge
node_memory_MemFree_bytes ${8 * GiB}
# TYPE node_filesystem_size_bytes gauge
node_filesystem_size_bytes{device="/dev/nvme0n1p1",fstype="ext4",mountpoint="/"} ${100 * GiB}
node_filesystem_size_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} ${1 * GiB}
# TYPE node_filesystem_free_bytes gauge
node_filesystem_free_bytes{device="/dev/nvme0n1p1",fstype="ext4",mountpoint="/"} ${70 * GiB}
node_filesystem_free_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} ${1 * GiB}
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{device="/dev/nvme0n1p1",fstype="ext4",mountpoint="/"} ${65 * GiB}
node_filesystem_avail_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} ${1 * GiB}
# TYPE node_network_receive_bytes_total counter
node_network_receive_bytes_total{device="eth0"} ${rxBytes}
node_network_receive_bytes_total{device="lo"} 123456789
# TYPE node_uname_info gauge
node_uname_info{domainname="(none)",machine="x86_64",nodename="db-7",release="6.1.0",sysname="Linux",version="#1"} 1
`;
}

test('node_exporter: CPU busy share from mode seconds, memory, filesystem and network rates', async () => {
  let body = exposition([100, 50, 850], 1_000_000);
  const target = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/metrics`;
  const t = await startTestApp().catch((err) => {
    target.close();
    throw err;
  });
  try {
    const T0 = 1_800_000_000_000;
    await t.store.writeMetricPoints(await scrapeNodeExporter(url, BigInt(T0) * 1_000_000n));
    // 15 s later: user +6, system +3, idle +6 (of 15 s): busy 9/15 = 0.6; eth0 +1.5 MB in 15 s.
    body = exposition([106, 53, 856], 2_500_000);
    await t.store.writeMetricPoints(await scrapeNodeExporter(url, BigInt(T0 + 15_000) * 1_000_000n));
    const window = { fromNs: BigInt(T0 - 1000) * 1_000_000n, toNs: BigInt(T0 + 60_000) * 1_000_000n };
    const q = (resourceType: string) => resourceSeries(t.store, { resourceType, host: 'db-7', window });
    const cpu = (await q('cpu'))[0]!.values;
    assert.equal(cpu.length, 1);
    assert.ok(Math.abs(cpu[0]! - 0.6) < 1e-12, String(cpu[0]));
    // used = total − available = 4 of 16 GiB.
    assert.deepEqual((await q('memory'))[0]!.values, [0.25, 0.25]);
    // used = size − free = 30 GiB; df's size = used + avail = 95 GiB; tmpfs left out.
    const disk = await q('disk');
    assert.deepEqual(
      disk.map((s) => s.labels.mountpoint),
      ['/'],
    );
    assert.ok(Math.abs(disk[0]!.values[0]! - 30 / 95) < 1e-12);
    // /resources/current: size is node_filesystem_size_bytes (100 GiB), not used + avail (95 GiB);
    // reserved = free − avail = 5 GiB, shown apart; utilisation as df's Use%: 30 / 95.
    const c = await currentResources(t.store, 'db-7', T0 + 15_000);
    assert.deepEqual(
      c.filesystems.map((f) => [f.mount, f.usedBytes, f.availableBytes, f.reservedBytes, f.sizeBytes]),
      [['/', 30 * GiB, 65 * GiB, 5 * GiB, 100 * GiB]],
    );
    assert.ok(Math.abs(c.filesystems[0]!.utilization - 30 / 95) < 1e-12);
    const net = await q('network');
    assert.deepEqual(
      net.map((s) => [s.labels.direction, s.values]),
      [['receive', [100_000]]],
    );
    await assert.rejects(scrapeNodeExporter(`${url.replace(/\d+\/metrics$/, '1/metrics')}`, 0n));
  } finally {
    await t.close();
    target.close();
  }
});
