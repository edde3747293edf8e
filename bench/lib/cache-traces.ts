/**
 * Readers for the public cache traces in ../shared/data/cache-traces (see its README for the formats):
 * LIRS text (gzip), cache2k and Scarab big-endian binary (xz), ARC `start count x reqno` lines (zstd),
 * libCacheSim plain text. Keys come back as dense integer ids (first seen = 0, 1, …), a bijection of the
 * trace's keys, so a policy's hit ratio is unchanged and 64-bit keys lose nothing.
 * xz and zstd are decoded by the Debian `xz-utils` and `zstd` commands (Node 20's zlib has neither).
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** The folder of the traces beside the repository (absent in a user's clone). */
export const CACHE_TRACES = fileURLToPath(new URL('../../../shared/data/cache-traces/', import.meta.url));
export const HAS_CACHE_TRACES = existsSync(join(CACHE_TRACES, 'README.md'));

/** A trace: its requests as dense key ids and the number of distinct keys. */
export interface Trace {
  name: string;
  keys: Int32Array;
  distinct: number;
}

function densify(name: string, raw: Iterable<string | number | bigint>): Trace {
  const ids = new Map<string | number | bigint, number>();
  const out: number[] = [];
  for (const k of raw) {
    let id = ids.get(k);
    if (id === undefined) {
      id = ids.size;
      ids.set(k, id);
    }
    out.push(id);
  }
  return { name, keys: Int32Array.from(out), distinct: ids.size };
}

function decode(file: string): Buffer {
  if (file.endsWith('.gz')) return gunzipSync(readFileSync(file));
  if (file.endsWith('.xz')) return execFileSync('xz', ['-dc', file], { maxBuffer: 1 << 30 });
  if (file.endsWith('.zst')) return execFileSync('zstd', ['-dc', file], { maxBuffer: 1 << 30 });
  return readFileSync(file);
}

function* lines(text: string): Generator<string> {
  for (const line of text.split('\n')) yield line.replace(/\r$/, '');
}

/**
 * Reads one trace by its path under the traces folder, e.g. `lirs/loop.trace.gz`.
 * @throws Error when the file is missing or its format is not one of the five.
 */
export function readTrace(path: string, dir = CACHE_TRACES): Trace {
  const file = join(dir, path);
  const data = decode(file);
  if (path.startsWith('lirs/')) {
    const keys = [...lines(data.toString('latin1'))].filter((l) => l !== '' && l !== '*').map(Number);
    return densify(path, keys);
  }
  if (path.startsWith('cache2k/')) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    return densify(
      path,
      (function* () {
        for (let i = 0; i + 4 <= data.byteLength; i += 4) yield view.getInt32(i, false);
      })(),
    );
  }
  if (path.startsWith('scarab/')) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    return densify(
      path,
      (function* () {
        for (let i = 0; i + 8 <= data.byteLength; i += 8) yield view.getBigInt64(i, false);
      })(),
    );
  }
  if (path.startsWith('arc/')) {
    return densify(
      path,
      (function* () {
        for (const l of lines(data.toString('latin1'))) {
          if (l === '') continue;
          const [start, count] = l.split(' ').map(Number) as [number, number];
          for (let i = 0; i < count; i++) yield start + i;
        }
      })(),
    );
  }
  if (path.startsWith('libcachesim/')) {
    return densify(path, [...lines(data.toString('latin1'))].filter((l) => l !== '').map(Number));
  }
  throw new Error(`${path}: not a known trace format`);
}

/** Hit ratio (0..1) of replaying `keys` through a cache: get, and set on a miss. */
export function replay(
  keys: Int32Array,
  cache: { get(k: number): unknown; set(k: number, v: unknown): unknown },
): number {
  let hits = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (cache.get(k) !== undefined) hits += 1;
    else cache.set(k, 1);
  }
  return hits / keys.length;
}

/** The reference table of the traces' README (hit %, from Caffeine 2.6.2 and an exact LRU / Belady replay). */
export const REFERENCE: readonly {
  trace: string;
  size: number;
  lru: number;
  wtinylfu: number;
  opt: number;
}[] = [
  ['lirs/loop.trace.gz', 250, 0.0, 22.58, 24.63],
  ['lirs/loop.trace.gz', 500, 0.0, 48.75, 49.36],
  ['lirs/loop.trace.gz', 750, 0.0, 72.99, 74.04],
  ['lirs/loop.trace.gz', 1000, 0.0, 97.33, 98.71],
  ['lirs/gli.trace.gz', 250, 0.91, 13.98, 17.64],
  ['lirs/gli.trace.gz', 500, 0.95, 24.22, 34.26],
  ['lirs/gli.trace.gz', 1000, 11.21, 42.78, 53.13],
  ['lirs/gli.trace.gz', 1500, 36.56, 52.59, 57.96],
  ['lirs/gli.trace.gz', 2000, 57.41, 57.09, 57.96],
  ['lirs/cs.trace.gz', 300, 1.83, 16.25, 19.53],
  ['lirs/cs.trace.gz', 500, 1.83, 29.29, 31.32],
  ['lirs/cs.trace.gz', 1000, 1.83, 56.54, 60.82],
  ['lirs/multi2.trace.gz', 500, 35.98, 50.2, 53.6],
  ['lirs/multi2.trace.gz', 1000, 47.8, 57.9, 62.16],
  ['lirs/multi2.trace.gz', 2000, 49.0, 69.37, 74.65],
  ['lirs/sprite.trace.gz', 100, 21.58, 31.3, 50.8],
  ['lirs/sprite.trace.gz', 500, 78.3, 74.83, 87.88],
  ['lirs/sprite.trace.gz', 1000, 90.64, 83.62, 93.24],
  ['cache2k/orm-busy.trace.xz', 1000, 78.78, 63.68, 84.14],
  ['cache2k/orm-busy.trace.xz', 10000, 89.49, 88.85, 94.41],
  ['scarab/scarab-recs.trace.xz', 100000, 75.91, 72.77, 79.25],
  ['arc/OLTP.lis.zst', 1000, 32.83, 35.6, 53.61],
  ['arc/OLTP.lis.zst', 2000, 42.47, 42.02, 60.4],
  ['arc/OLTP.lis.zst', 5000, 53.65, 52.62, 68.27],
  ['arc/OLTP.lis.zst', 10000, 60.7, 59.46, 73.02],
  ['arc/OLTP.lis.zst', 15000, 64.63, 62.32, 75.14],
  ['arc/P6.lis.zst', 1024, 0.71, 0.94, 2.75],
  ['arc/P6.lis.zst', 8192, 1.26, 6.63, 11.95],
  ['arc/P6.lis.zst', 65536, 17.76, 57.12, 66.89],
  ['libcachesim/cloudPhysicsIO.txt', 1000, 16.73, 17.9, 23.58],
  ['libcachesim/cloudPhysicsIO.txt', 5000, 19.62, 26.14, 37.38],
  ['libcachesim/cloudPhysicsIO.txt', 10000, 30.24, 33.72, 45.69],
  ['libcachesim/cloudPhysicsIO.txt', 20000, 36.72, 46.7, 54.47],
  ['libcachesim/cloudPhysicsIO.txt', 40000, 56.97, 56.8, 56.99],
].map(([trace, size, lru, wtinylfu, opt]) => ({
  trace: trace as string,
  size: size as number,
  lru: lru as number,
  wtinylfu: wtinylfu as number,
  opt: opt as number,
}));
