/**
 * The sampler over fixture folders laid out like `/proc` and `/sys/fs/cgroup` (v2 and v1), checked
 * against hand-computed values.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import type { MetricPoint } from '../model/index.ts';
import { createDuckDbStore } from '../storage/index.ts';
import { currentResources } from './current.ts';
import { HostSampler } from './host-sampler.ts';
import { filesystemUsage, ProcReader, parseDiskstats, parseMounts } from './procfs.ts';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'siperf-proc-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const PROC = {
  'proc/stat':
    'cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\ncpu1 50 0 25 400 25 0 0 0 0 0\n',
  'proc/loadavg': '1.50 0.75 0.25 2/300 4242\n',
  'proc/meminfo':
    'MemTotal: 1000 kB\nMemFree: 200 kB\nMemAvailable: 600 kB\nBuffers: 50 kB\nCached: 250 kB\nSwapTotal: 100 kB\nSwapFree: 40 kB\nSReclaimable: 20 kB\n',
  'proc/diskstats':
    '   8       0 sda 10 0 2048 5 20 0 4096 9 1 1500 14\n   8       1 sda1 10 0 2048 5 20 0 4096 9 0 1500 14\n   7       0 loop0 1 0 8 0 0 0 0 0 0 0 0\n',
  'proc/net/dev':
    'Inter-| Receive | Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n    lo: 999 9 0 0 0 0 0 0 999 9 0 0 0 0 0 0\n  eth0: 1000 10 1 2 0 0 0 0 2000 20 3 4 0 0 0 0\n',
  'proc/pressure/cpu':
    'some avg10=12.50 avg60=5.00 avg300=1.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
  'proc/self/mounts': '/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\ntmpfs /run tmpfs rw 0 0\n',
};

const values = (points: MetricPoint[], name: string): Record<string, any>[] =>
  points.filter((p) => p.name === name).map((p) => ({ ...p.attributes, value: p.value }));

test('proc files and cgroup v2: CPU by mode from tick deltas, memory, disks, network, PSI, container limits', async () => {
  const root = tree({
    ...PROC,
    'proc/self/cgroup': '0::/app.slice/web.service\n',
    'sys/fs/cgroup/cgroup.controllers': 'cpu memory io\n',
    'sys/fs/cgroup/app.slice/web.service/cpu.max': '150000 100000\n',
    'sys/fs/cgroup/app.slice/web.service/cpu.stat':
      'usage_usec 1000000\nnr_periods 10\nnr_throttled 3\nthrottled_usec 250000\n',
    'sys/fs/cgroup/app.slice/web.service/memory.max': '1073741824\n',
    'sys/fs/cgroup/app.slice/web.service/memory.current': '536870912\n',
    'sys/fs/cgroup/app.slice/web.service/memory.stat': 'anon 1\ninactive_file 134217728\n',
    'sys/fs/cgroup/app.slice/web.service/memory.events': 'low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n',
  });
  try {
    let now = 1_000_000_000_000n;
    const sampler = new HostSampler(new ProcReader(root), 'web-1', () => now);
    const first = await sampler.sample();
    assert.deepEqual(values(first, 'system.cpu.utilization'), [], 'no CPU share without a delta');
    writeFileSync(join(root, 'proc/stat'), 'cpu  160 0 70 900 70 0 0 0 0 0\ncpu0 1\ncpu1 1\n');
    writeFileSync(
      join(root, 'sys/fs/cgroup/app.slice/web.service/cpu.stat'),
      'usage_usec 2500000\nnr_periods 20\nnr_throttled 5\nthrottled_usec 400000\n',
    );
    now += 1_000_000_000n;
    const p = await sampler.sample();
    // Deltas user 60, system 20, idle 100, iowait 20 of 200 ticks.
    const cpu = Object.fromEntries(values(p, 'system.cpu.utilization').map((v) => [v['cpu.mode'], v.value]));
    assert.deepEqual(cpu, {
      user: 0.3,
      nice: 0,
      system: 0.1,
      idle: 0.5,
      iowait: 0.1,
      irq: 0,
      softirq: 0,
      steal: 0,
    });
    assert.equal(values(p, 'system.cpu.logical.count')[0]!.value, 2);
    assert.equal(values(p, 'system.cpu.load_average.1m')[0]!.value, 1.5);
    // used = total − available = 400 kB; cached = Cached + SReclaimable = 270 kB.
    const mem = Object.fromEntries(
      values(p, 'system.memory.usage').map((v) => [v['system.memory.state'], v.value]),
    );
    assert.deepEqual(mem, { used: 409_600, free: 204_800, cached: 276_480, buffered: 51_200 });
    assert.equal(values(p, 'system.memory.utilization')[0]!.value, 0.4);
    assert.deepEqual(
      values(p, 'system.paging.usage').map((v) => v.value),
      [61_440, 40_960],
    );
    // sda only (sda1 is its partition, loop0 is skipped): 2048 and 4096 sectors of 512 bytes.
    assert.deepEqual(
      values(p, 'system.disk.io').map((v) => [v['system.device'], v['disk.io.direction'], v.value]),
      [
        ['sda', 'read', 1_048_576],
        ['sda', 'write', 2_097_152],
      ],
    );
    assert.equal(values(p, 'system.disk.io_time')[0]!.value, 1.5);
    assert.deepEqual(
      values(p, 'system.network.io').map((v) => [
        v['network.interface.name'],
        v['network.io.direction'],
        v.value,
      ]),
      [
        ['eth0', 'receive', 1000],
        ['eth0', 'transmit', 2000],
      ],
    );
    assert.deepEqual(
      values(p, 'system.network.dropped').map((v) => v.value),
      [2, 4],
    );
    assert.equal(values(p, 'system.pressure.stall').find((v) => v['pressure.kind'] === 'some')!.value, 0.125);
    // Container: 1.5 s of CPU in 1 s against a 1.5-core quota; working set 512 − 128 MiB of 1 GiB.
    assert.equal(values(p, 'container.cpu.limit')[0]!.value, 1.5);
    assert.equal(values(p, 'container.cpu.utilization')[0]!.value, 1);
    assert.equal(values(p, 'container.cpu.throttled_periods')[0]!.value, 5);
    assert.equal(values(p, 'container.cpu.throttled_time')[0]!.value, 0.4);
    assert.equal(values(p, 'container.memory.working_set')[0]!.value, 402_653_184);
    assert.equal(values(p, 'container.memory.utilization')[0]!.value, 0.375);
    assert.equal(values(p, 'container.memory.oom_kills')[0]!.value, 2);
    assert.equal(p[0]!.resourceAttributes['host.name'], 'web-1');
    assert.ok(
      values(p, 'system.filesystem.utilization').some((v) => v['system.filesystem.mountpoint'] === '/'),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cgroup v1: quota, cpuacct, an "unlimited" memory limit, inactive file cache, oom_kill', async () => {
  const root = tree({
    ...PROC,
    'proc/self/cgroup': '4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n',
    'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '50000\n',
    'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
    'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.stat':
      'nr_periods 8\nnr_throttled 2\nthrottled_time 300000000\n',
    'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpuacct.usage': '1000000000\n',
    'sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes': '9223372036854771712\n',
    'sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes': '1000\n',
    'sys/fs/cgroup/memory/docker/abc/memory.stat': 'cache 300\ntotal_inactive_file 200\n',
    'sys/fs/cgroup/memory/docker/abc/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n',
  });
  try {
    let now = 5_000_000_000n;
    const sampler = new HostSampler(new ProcReader(root), 'db-1', () => now);
    await sampler.sample();
    writeFileSync(join(root, 'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpuacct.usage'), '1250000000\n');
    now += 1_000_000_000n;
    const p = await sampler.sample();
    assert.equal(values(p, 'container.cpu.limit')[0]!.value, 0.5);
    // 0.25 s of CPU in 1 s against 0.5 cores.
    assert.equal(values(p, 'container.cpu.utilization')[0]!.value, 0.5);
    assert.equal(values(p, 'container.cpu.throttled_time')[0]!.value, 0.3);
    assert.deepEqual(values(p, 'container.memory.limit'), [], 'the v1 "no limit" value is not a limit');
    assert.equal(values(p, 'container.memory.working_set')[0]!.value, 800);
    assert.equal(values(p, 'container.memory.oom_kills')[0]!.value, 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('parsers: partitions are not counted twice; mount points decode octal escapes; pseudo filesystems skipped', () => {
  const disks = parseDiskstats(
    ' 259 0 nvme0n1 1 0 8 0 1 0 8 0 0 0 0\n 259 1 nvme0n1p1 1 0 8 0 1 0 8 0 0 0 0\n 253 0 dm-0 1 0 8 0 1 0 8 0 0 0 0\n',
  );
  assert.deepEqual(
    disks.map((d) => d.device),
    ['nvme0n1', 'dm-0'],
  );
  assert.deepEqual(parseMounts('/dev/sdb1 /mnt/my\\040data xfs rw 0 0\nsysfs /sys sysfs rw 0 0\n'), [
    { device: '/dev/sdb1', mountpoint: '/mnt/my data', type: 'xfs' },
  ]);
});

test('filesystem: size is blocks × block size as df and node_exporter give it, root reserve apart', async () => {
  // ext4 of 100 GiB in 4 KiB blocks with the default 5% reserve: 26,214,400 blocks, 7,864,320 free
  // (30 GiB), 6,553,600 available to users (25 GiB).
  const GiB = 2 ** 30;
  const mount = { device: '/dev/sda1', mountpoint: '/', type: 'ext4' };
  const blocks = { blocks: 26_214_400, bfree: 7_864_320, bavail: 6_553_600, bsize: 4096 };
  const usage = filesystemUsage(mount, blocks);
  // size 26,214,400 × 4096; used (26,214,400 − 7,864,320) × 4096; reserved (7,864,320 − 6,553,600) × 4096.
  assert.deepEqual(usage, {
    ...mount,
    sizeBytes: 100 * GiB,
    usedBytes: 70 * GiB,
    availableBytes: 25 * GiB,
    reservedBytes: 5 * GiB,
  });
  // The sampler reports the three states (they add up to the size) and df's Use% = 70 / (70 + 25).
  const root = tree({ ...PROC, 'proc/self/cgroup': '0::/\n' });
  try {
    const proc = new (class extends ProcReader {
      override async filesystems() {
        return [usage];
      }
    })(root);
    const points = await new HostSampler(proc, 'db-1', () => 1_000_000_000_000n).sample();
    assert.deepEqual(
      values(points, 'system.filesystem.usage').map((v) => [v['system.filesystem.state'], v.value]),
      [
        ['used', 70 * GiB],
        ['free', 25 * GiB],
        ['reserved', 5 * GiB],
      ],
    );
    assert.equal(values(points, 'system.filesystem.utilization')[0]!.value, 70 / 95);
    // And `/resources/current` over those points: size 100 GiB (it said 95 GiB, used + available).
    const store = await createDuckDbStore({ path: ':memory:' });
    try {
      await store.writeMetricPoints(points);
      const c = await currentResources(store, 'db-1', 1_000_000);
      assert.deepEqual(c.filesystems, [
        {
          mount: '/',
          device: '/dev/sda1',
          utilization: 70 / 95,
          usedBytes: 70 * GiB,
          availableBytes: 25 * GiB,
          reservedBytes: 5 * GiB,
          sizeBytes: 100 * GiB,
        },
      ]);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
