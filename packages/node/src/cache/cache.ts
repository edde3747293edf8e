/**
 * `createCache`: a named cache over memory, Redis, or both (tiered), with single-flight loading,
 * stale-while-revalidate, soft and hard loader timeouts, probabilistic early refresh (XFetch), jittered
 * expiry, tags and prefixes, warming, adaptive TTL per key group, and statistics with an online
 * miss-ratio curve.
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import { LatencyHistogram } from '../util/latency-histogram.ts';
import { optionalPeer } from '../util/optional-peer.ts';
import { AdaptiveTtl, type AdaptiveTtlOptions } from './adaptive-ttl.ts';
import type { CacheBackend, CacheStats } from './cache-stats.ts';
import { type Codec, jsonCodec } from './codec.ts';
import { type CacheKey, hashKey } from './hash.ts';
import { type EvictionPolicy, estimateBytes, MemoryStore } from './memory-store.ts';
import { exportCacheMetrics } from './otel-metrics.ts';
import {
  type BreakerOptions,
  type BreakerStatus,
  type InvalidationMessage,
  RedisTier,
  type RemoteToken,
} from './redis-tier.ts';
import { ShardsMrc } from './shards.ts';

export type { CacheBackend, CacheStats, GroupStats } from './cache-stats.ts';

/** A key group: keys starting with `match` (a string) or matching it (a RegExp). */
export interface KeyGroup {
  name: string;
  match: string | RegExp;
}

/** Options of {@link createCache}. */
export interface CacheOptions<V> {
  /** Default `memory`. */
  backend?: CacheBackend;
  /** Capacity of the memory tier in entries (default 10,000 when neither bound is given). */
  maxEntries?: number;
  /**
   * Capacity of the memory tier in bytes: each entry weighs its key, 96 bytes of bookkeeping and its
   * value — `sizeOf(value)` when given, else an estimate of the value's heap size walking plain objects,
   * arrays, `Map` and `Set` to any depth (strings 2 bytes a character, numbers 8, binary data its
   * length). A value with more than 100,000 objects and entries is not sized but refused (not cached;
   * `set` returns false): give `sizeOf` for such values.
   */
  maxBytes?: number;
  /** Bytes of a value for `maxBytes`. */
  sizeOf?: (value: V) => number;
  /** Memory eviction policy (default `w-tinylfu`). */
  policy?: EvictionPolicy;
  /** TTL when a call gives none, ms; 0 = no expiry (default 0, or 60 s with `adaptiveTtl`). */
  defaultTtlMs?: number;
  /** Expiry is shortened by a random share up to this (0..0.5, default 0.1) so keys set together do not expire together. */
  ttlJitter?: number;
  /**
   * How long an expired value is kept, ms (default 0): within it, `getOrLoad` answers with the stale value
   * at once and reloads in the background (stale-while-revalidate), and a failing loader serves it. Give
   * `softTimeoutMs` to wait that long for the reload first. With `adaptiveTtl` and no `staleGraceMs`, the
   * values are kept for the largest TTL but only to serve when the loader fails (a reload is waited for,
   * so the stale share stays what the learned TTL promises).
   */
  staleGraceMs?: number;
  /** XFetch β (Vattani, Chierichetti & Lowenstein, VLDB 2015): > 0 refreshes early with a probability that rises towards the expiry; 0 turns it off (default 1). */
  earlyRefreshBeta?: number;
  /**
   * With a stale value at hand, wait this long for the reload before serving the stale value, ms (the load
   * goes on). Unset: the stale value is served at once.
   */
  softTimeoutMs?: number;
  /** Give up on a loader after this, ms (default 60,000): the stale value is served, or the call fails with `CacheLoadTimeoutError`. */
  hardTimeoutMs?: number;
  /** Learn the TTL per key group (see `adaptive-ttl.ts`): `true` for the defaults. */
  adaptiveTtl?: boolean | AdaptiveTtlOptions;
  /** Key groups for statistics and adaptive TTL; by default a key's group is its text before the first `:`. */
  groups?: KeyGroup[];
  /** Redis for the `redis` and `tiered` backends: a client (yours to close) or a URL (default `redis://127.0.0.1:6379`). */
  redis?: Redis | string;
  /** Key prefix in Redis (default `siperf:cache:<name>:`). */
  redisKeyPrefix?: string;
  /**
   * Redis command timeout and circuit breaker (defaults: 250 ms, open after 3 failures in a row, probe
   * again after 5 s): a hanging Redis costs at most the timeout per call until the breaker opens, then
   * nothing (memory or the loader answer).
   */
  redisBreaker?: BreakerOptions;
  /** Value codec for Redis (default JSON). */
  codec?: Codec<V>;
  /** Miss-ratio curve estimation: `false` to turn it off; `rate` the starting SHARDS sampling rate (default 1, bounded to 8,192 keys). */
  missRatioCurve?: false | { rate?: number; maxKeys?: number };
  /** Clock, ms (default `Date.now`). */
  now?: () => number;
  /** Random numbers in [0, 1) for jitter and XFetch (default `Math.random`). */
  random?: () => number;
  /** Report the stats as OpenTelemetry metrics (`siperf.cache.*`, see `otel-metrics.ts`; default true). */
  exportMetrics?: boolean;
}

/** Options of one {@link Cache.getOrLoad} or {@link Cache.set} call. */
export interface EntryOptions {
  /** TTL, ms (overrides the default and the learned TTL; 0 = no expiry). */
  ttlMs?: number;
  /** Tags for {@link Cache.invalidateTag}. */
  tags?: readonly string[];
  staleGraceMs?: number;
  softTimeoutMs?: number;
  hardTimeoutMs?: number;
}

/** A loader gave no answer within `hardTimeoutMs` and there was no stale value to serve. */
export class CacheLoadTimeoutError extends Error {
  constructor(
    readonly key: string,
    readonly timeoutMs: number,
  ) {
    super(`cache load of ${JSON.stringify(key)} took longer than hardTimeoutMs (${timeoutMs} ms)`);
    this.name = 'CacheLoadTimeoutError';
  }
}

/**
 * A value found by a lookup, with when it was stored and how long its load took (ms). The memory tier
 * keeps no object per entry: the value itself, and these two numbers in its store's typed columns (see
 * `Cache.stampFor` and `Cache.costFor`).
 */
interface Held<V> {
  v: V;
  storedAt: number;
  loadMs: number;
}

/** A load running for one key. `superseded`: a write or delete of the key came after it started. */
interface Flight<V> {
  promise: Promise<V>;
  superseded: boolean;
}

interface GroupState {
  name: string;
  hits: number;
  misses: number;
  loads: number;
  loadFailures: number;
  staleServed: number;
  ttl: AdaptiveTtl | undefined;
}

const MAX_KEY_LENGTH = 1024;
/** A loader that has not answered in this long fails (with the stale value served when there is one). */
const DEFAULT_HARD_TIMEOUT_MS = 60_000;
const MAX_AUTO_GROUPS = 100;
/** Slots a stats() call checks for expired entries (see MemoryStore.purgeExpired). */
const STATS_PURGE_SLOTS = 4096;

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new TypeError(`key: expected a string of 1..${MAX_KEY_LENGTH} characters`);
  }
  return key;
}

/** Largest delay a Node timer honours (2³¹ − 1 ms, about 24.8 days). */
const MAX_MS = 2_147_483_647;

function checkMs(field: string, v: unknown, max = MAX_MS): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max)) {
    throw new RangeError(`${field}: expected 0..${max} ms, got ${String(v)}`);
  }
}

/** Validates the options of one call. @throws RangeError or TypeError naming the option. */
function checkEntryOptions(o: EntryOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError('options: expected an object');
  checkMs('ttlMs', o.ttlMs);
  checkMs('staleGraceMs', o.staleGraceMs);
  checkMs('softTimeoutMs', o.softTimeoutMs);
  checkMs('hardTimeoutMs', o.hardTimeoutMs);
  if (o.hardTimeoutMs === 0) throw new RangeError('hardTimeoutMs: expected 1..2147483647 ms, got 0');
  if (
    o.tags !== undefined &&
    (!Array.isArray(o.tags) ||
      o.tags.length > 64 ||
      o.tags.some((t) => typeof t !== 'string' || t.length === 0 || t.length > 256))
  ) {
    throw new TypeError('tags: expected an array of at most 64 strings of 1..256 characters');
  }
}

/** A named cache. Create with {@link createCache}. All methods are safe when Redis is down. */
export class Cache<V = unknown> {
  readonly name: string;
  readonly backend: CacheBackend;
  private readonly memory: MemoryStore<V> | undefined;
  private readonly remote: RedisTier<V> | undefined;
  private readonly ownClient: Redis | undefined;
  private readonly codec: Codec<V>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly defaultTtl: number;
  private readonly jitter: number;
  private readonly grace: number;
  /** Stale-while-revalidate: serve a stale value at once (staleGraceMs given), else only on failure. */
  private readonly revalidateBehind: boolean;
  private readonly beta: number;
  private readonly soft: number | undefined;
  private readonly hard: number | undefined;
  private readonly adaptive: AdaptiveTtlOptions | undefined;
  private readonly declared: KeyGroup[];
  private readonly groups = new Map<string, GroupState>();
  private readonly inflight = new Map<string, Flight<V>>();
  /** Keys whose getOrLoad lookup is running, with a version bumped by each write of the key. */
  private readonly watched = new Map<string, { refs: number; version: number }>();
  private readonly tagIndex = new Map<string, Set<string>>();
  /** The tags of each key of the memory tier that was stored with tags (no entry for the others). */
  private readonly entryTags = new Map<string, readonly string[]>();
  private readonly loadTimes = new LatencyHistogram();
  private readonly mrc: ShardsMrc | undefined;
  private readonly counts = {
    hits: 0,
    misses: 0,
    loads: 0,
    loadFailures: 0,
    staleServed: 0,
    earlyRefreshes: 0,
    coalescedLoads: 0,
    uncacheable: 0,
    memoryHits: 0,
    remoteHits: 0,
  };
  private readonly ready: Promise<void>;
  private readonly stopMetrics: (() => void) | undefined;
  private closed = false;
  private started = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  /** @throws RangeError or TypeError naming the option when one is out of range. */
  constructor(name: string, o: CacheOptions<V> = {}) {
    // No ':' in names: Redis keys are `siperf:cache:<name>:<key>`, so names must not nest.
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(name)) {
      throw new TypeError(`name: expected 1..128 of A-Z a-z 0-9 _ . -, got ${JSON.stringify(name)}`);
    }
    const backend = o.backend ?? 'memory';
    if (!['memory', 'redis', 'tiered'].includes(backend)) {
      throw new RangeError(`backend: expected memory, redis or tiered, got ${JSON.stringify(backend)}`);
    }
    this.name = name;
    this.backend = backend;
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    this.codec = o.codec ?? (jsonCodec as Codec<V>);
    this.adaptive = this.adaptiveOf(o);
    checkMs('defaultTtlMs', o.defaultTtlMs);
    checkMs('staleGraceMs', o.staleGraceMs);
    checkMs('softTimeoutMs', o.softTimeoutMs);
    checkMs('hardTimeoutMs', o.hardTimeoutMs);
    if (o.hardTimeoutMs === 0) throw new RangeError('hardTimeoutMs: expected 1..2147483647 ms, got 0');
    if (o.policy !== undefined && o.policy !== 'w-tinylfu' && o.policy !== 'lru') {
      throw new RangeError(`policy: expected w-tinylfu or lru, got ${JSON.stringify(o.policy)}`);
    }
    if (o.maxEntries !== undefined && o.maxBytes !== undefined) {
      throw new RangeError('maxEntries / maxBytes: give one, not both');
    }
    if (
      o.redisKeyPrefix !== undefined &&
      (typeof o.redisKeyPrefix !== 'string' || !/^[^*?[\]\\\s]{1,128}$/.test(o.redisKeyPrefix))
    ) {
      throw new TypeError('redisKeyPrefix: expected 1..128 characters without spaces or * ? [ ] \\');
    }
    for (const g of o.groups ?? []) {
      if (
        typeof g?.name !== 'string' ||
        g.name === '' ||
        !(typeof g.match === 'string' || g.match instanceof RegExp)
      ) {
        throw new TypeError('groups: expected [{ name: string, match: string | RegExp }]');
      }
    }
    if (this.adaptiveOf(o) && o.defaultTtlMs === 0) {
      throw new RangeError('defaultTtlMs: must be > 0 with adaptiveTtl (it is the starting TTL)');
    }
    this.defaultTtl = o.defaultTtlMs ?? (this.adaptive ? 60_000 : 0);
    this.grace =
      o.staleGraceMs ?? (this.adaptive ? Math.max(this.defaultTtl, this.adaptive.maxTtlMs ?? 3_600_000) : 0);
    this.revalidateBehind = o.staleGraceMs !== undefined;
    this.jitter = o.ttlJitter ?? 0.1;
    if (!(this.jitter >= 0 && this.jitter <= 0.5))
      throw new RangeError(`ttlJitter: expected 0..0.5, got ${this.jitter}`);
    this.beta = o.earlyRefreshBeta ?? 1;
    if (!(this.beta >= 0 && this.beta <= 10)) {
      throw new RangeError(`earlyRefreshBeta: expected 0..10, got ${this.beta}`);
    }
    this.soft = o.softTimeoutMs;
    this.hard = o.hardTimeoutMs;
    this.declared = o.groups ?? [];
    if (this.adaptive) new AdaptiveTtl(this.defaultTtl, this.adaptive); // validates the options now
    if (backend !== 'redis') {
      const sizeOf = o.sizeOf;
      this.memory = new MemoryStore<V>({
        maxEntries: o.maxBytes === undefined ? (o.maxEntries ?? 10_000) : undefined,
        maxBytes: o.maxBytes,
        sizeOf: (k, v) => estimateBytes(k) + (sizeOf ? sizeOf(v) : estimateBytes(v)) + 96,
        policy: o.policy,
        // The store's own coarse clock unless the caller gave one (its expiry checks are per hit).
        now: o.now,
        onRemove: (key) => this.untag(String(key)),
      });
    } else if (o.maxEntries !== undefined || o.maxBytes !== undefined) {
      throw new RangeError(
        'maxEntries / maxBytes: the redis backend has no memory tier to bound (use tiered)',
      );
    }
    const mk = o.missRatioCurve ? o.missRatioCurve.maxKeys : undefined;
    if (mk !== undefined && (!Number.isInteger(mk) || mk < 16 || mk > 1_000_000)) {
      throw new RangeError(`missRatioCurve.maxKeys: expected an integer 16..1000000, got ${mk}`);
    }
    if (o.missRatioCurve !== false && this.memory) {
      const maxEntries = this.memory.weighted ? 10_000 : this.memory.maximum;
      this.mrc = new ShardsMrc({
        rate: o.missRatioCurve?.rate ?? 1,
        maxKeys: o.missRatioCurve?.maxKeys ?? 8192,
        bucket: Math.max(1, Math.floor(maxEntries / 64)),
      });
    }
    if (backend !== 'memory') {
      let client: Redis;
      if (typeof o.redis === 'object' && o.redis !== null) client = o.redis;
      else {
        const driver = optionalPeer<typeof import('ioredis')>('ioredis', `createCache (backend ${backend})`);
        client = new driver.Redis(o.redis ?? 'redis://127.0.0.1:6379', {
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          commandTimeout: o.redisBreaker?.timeoutMs ?? 250,
          connectTimeout: 2000,
          retryStrategy: (times) => Math.min(times * 200, 2000),
        });
        client.on('error', () => {});
        this.ownClient = client;
      }
      const b = o.redisBreaker ?? {};
      checkMs('redisBreaker.timeoutMs', b.timeoutMs);
      checkMs('redisBreaker.cooldownMs', b.cooldownMs);
      if (b.timeoutMs === 0) throw new RangeError('redisBreaker.timeoutMs: expected 1..2147483647 ms, got 0');
      if (
        b.failures !== undefined &&
        !(Number.isInteger(b.failures) && b.failures >= 1 && b.failures <= 1000)
      ) {
        throw new RangeError(`redisBreaker.failures: expected an integer 1..1000, got ${b.failures}`);
      }
      this.remote = new RedisTier<V>(client, name, this.codec, o.redisKeyPrefix, b, this.now);
    }
    this.ready = this.start();
    if (o.exportMetrics !== false) this.stopMetrics = exportCacheMetrics(this);
  }

  private adaptiveOf(o: CacheOptions<V>): AdaptiveTtlOptions | undefined {
    return o.adaptiveTtl === true ? {} : o.adaptiveTtl || undefined;
  }

  private async start(): Promise<void> {
    if (this.remote) {
      if (this.ownClient) await this.ownClient.connect().catch(() => {});
      if (this.backend === 'tiered') await this.remote.subscribe((m) => this.onInvalidation(m));
    }
    this.started = true;
  }

  /** Resolves once the Redis connection was tried (at once for the memory backend). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  // --- reading ---

  /** The fresh value of `key`, or undefined. Counts a hit or a miss. */
  async get(key: string): Promise<V | undefined> {
    const k = checkKey(key);
    const found = await this.lookup(k);
    const g = this.group(k);
    if (found?.fresh) {
      this.hit(g);
      return found.held.v;
    }
    this.miss(g);
    return undefined;
  }

  /** Fresh values of several keys (one MGET for the keys not in memory). */
  async getMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    const ks = keys.map(checkKey);
    const out: (V | undefined)[] = new Array(ks.length).fill(undefined);
    const remoteIdx: number[] = [];
    for (let i = 0; i < ks.length; i++) {
      this.mrc?.record(hashKey(ks[i]!));
      const v = this.memory?.get(ks[i]!);
      if (v !== undefined) {
        out[i] = v;
        this.counts.memoryHits += 1;
        this.hit(this.group(ks[i]!));
      } else remoteIdx.push(i);
    }
    if (this.remote && remoteIdx.length > 0) {
      const got = await this.remote.getMany(remoteIdx.map((i) => ks[i]!));
      const now = this.now();
      remoteIdx.forEach((i, j) => {
        const e = got[j];
        if (e && (e.expiresAt === 0 || e.expiresAt > now)) {
          out[i] = e.value;
          this.counts.remoteHits += 1;
          this.hit(this.group(ks[i]!));
          this.memory?.set(
            ks[i]!,
            e.value,
            e.expiresAt,
            this.grace,
            this.stampFor(e.storedAt),
            this.costFor(e.loadMs, e.expiresAt),
          );
        } else this.miss(this.group(ks[i]!));
      });
    } else for (const i of remoteIdx) this.miss(this.group(ks[i]!));
    return out;
  }

  /**
   * The value of `key`: from the cache when fresh, else from `loader` — one load per key at a time
   * however many callers miss together. With a stale value at hand (within `staleGraceMs`) a failing,
   * slow (`softTimeoutMs`) or timed-out (`hardTimeoutMs`) loader serves the stale value instead.
   * A fresh hit close to its expiry may start a background refresh (XFetch).
   * @throws whatever the loader throws, or {@link CacheLoadTimeoutError}, when no stale value exists.
   */
  async getOrLoad(key: string, loader: (key: string) => V | Promise<V>, o: EntryOptions = {}): Promise<V> {
    const k = checkKey(key);
    if (typeof loader !== 'function') throw new TypeError('loader: expected a function');
    checkEntryOptions(o);
    this.checkOpen();
    const seen: { token?: RemoteToken | undefined } = {};
    // A write of the key while the lookup runs (a Redis round trip, or a microtask) is seen by its version.
    let w = this.watched.get(k);
    if (!w) {
      w = { refs: 0, version: 0 };
      this.watched.set(k, w);
    }
    w.refs += 1;
    const version = w.version;
    let found: Awaited<ReturnType<Cache<V>['lookup']>>;
    try {
      found = await this.lookup(k, true, seen);
    } finally {
      if (--w.refs === 0) this.watched.delete(k);
    }
    const written = w.version !== version;
    const g = this.group(k);
    if (found?.fresh) {
      this.hit(g);
      if (this.beta > 0 && found.expiresAt > 0 && !this.inflight.has(k)) {
        // XFetch: refresh when now − δ·β·ln(U) ≥ expiry, δ = the last load's duration.
        const now = this.now();
        if (now - found.held.loadMs * this.beta * Math.log(this.random() || 1e-12) >= found.expiresAt) {
          this.counts.earlyRefreshes += 1;
          this.load(k, loader, o, found.held).catch(() => {});
        }
      }
      return found.held.v;
    }
    this.miss(g);
    const stale = found?.held;
    // What Redis held when this miss read it: the load stores only if that is still so.
    const token = seen.token;
    const loading = this.load(k, loader, o, stale, token, written);
    if (!stale) return loading;
    const softMs = o.softTimeoutMs ?? this.soft;
    const serveStale = () => {
      this.counts.staleServed += 1;
      g.staleServed += 1;
      return stale.v;
    };
    if (softMs === undefined && !this.revalidateBehind && o.staleGraceMs === undefined) {
      return loading.catch(serveStale); // a grace kept for failures only (adaptiveTtl's default)
    }
    if (softMs === undefined) {
      // Stale-while-revalidate: answer now, let the load land (or fail, counted) in the background.
      loading.catch(() => {});
      return serveStale();
    }
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<V>((resolve) => {
      timer = setTimeout(() => resolve(serveStale()), softMs);
    });
    return Promise.race([loading.catch(serveStale), slow]).finally(() => clearTimeout(timer));
  }

  /**
   * Wraps an async function so its results are cached under `keyOf(...args)` (default: the function's
   * name and the JSON of the arguments).
   */
  wrap<A extends unknown[]>(
    fn: (...args: A) => V | Promise<V>,
    keyOf?: (...args: A) => string,
    o: EntryOptions = {},
  ): (...args: A) => Promise<V> {
    if (typeof fn !== 'function') throw new TypeError('fn: expected a function');
    if (!keyOf && !fn.name)
      throw new TypeError('keyOf: required for an anonymous function (its results would share keys)');
    checkEntryOptions(o);
    const key = keyOf ?? ((...args: A) => `${fn.name}:${JSON.stringify(args)}`);
    return async (...args: A) => this.getOrLoad(key(...args), () => fn(...args), o);
  }

  // --- writing ---

  /**
   * Stores a value (an explicit write: the adaptive TTL counts it as a change when it differs).
   * @returns whether it was stored: false when it weighs more than the whole memory tier, loses
   *   admission at once, or (redis backend) Redis could not be written.
   * @throws TypeError when the codec cannot encode the value (redis, tiered), or the cache is closed.
   */
  async set(key: string, value: V, o: EntryOptions = {}): Promise<boolean> {
    const k = checkKey(key);
    checkEntryOptions(o);
    this.checkOpen();
    this.supersede(k);
    const prev = this.memory?.getStale(k);
    if (prev) this.observe(k, this.memory!.stampOf(k), !this.same(prev.value, value));
    const stored = await this.put(k, value, o, 0);
    if (this.backend === 'tiered') await this.remote!.publish({ keys: [k] });
    return stored;
  }

  /** Removes a key everywhere (and from the other processes' memory tiers). @returns whether it was held. */
  async delete(key: string): Promise<boolean> {
    const k = checkKey(key);
    this.supersede(k);
    const prev = this.memory?.getStale(k);
    if (prev) this.observe(k, this.memory!.stampOf(k), true);
    const inMemory = this.memory?.delete(k) ?? false;
    // A tombstone as long as a load may run, so that a load of the old value started before cannot store it.
    const inRemote = this.remote
      ? await this.remote.deleteWithTombstone(k, this.hard ?? DEFAULT_HARD_TIMEOUT_MS)
      : false;
    if (this.backend === 'tiered') await this.remote!.publish({ keys: [k] });
    return inMemory || inRemote;
  }

  /**
   * Removes every key set with `tag`.
   * @returns how many values were removed: from memory, or from Redis when it removed more.
   */
  async invalidateTag(tag: string): Promise<number> {
    if (typeof tag !== 'string' || tag === '') throw new TypeError('tag: expected a non-empty string');
    const local = [...(this.tagIndex.get(tag) ?? [])];
    for (const k of local) this.dropLocal(k, true);
    if (!this.remote) return local.length;
    const { keys, deleted } = await this.remote.deleteTag(tag);
    if (this.backend === 'tiered')
      await this.remote.publish({ tag, keys: [...new Set([...local, ...keys])] });
    return Math.max(local.length, deleted);
  }

  /** Removes every key that starts with `prefix`. @returns how many (memory, or Redis when larger). */
  async invalidatePrefix(prefix: string): Promise<number> {
    if (typeof prefix !== 'string') throw new TypeError('prefix: expected a string');
    this.supersedeWhere((k) => k.startsWith(prefix));
    const local = this.memory?.deleteWhere((k) => String(k).startsWith(prefix)) ?? 0;
    const remote = this.remote ? await this.remote.deletePrefix(prefix) : 0;
    if (this.backend === 'tiered') await this.remote!.publish({ prefix });
    return Math.max(local, remote);
  }

  /** Empties the memory tier (Redis keeps its keys; use `invalidatePrefix('')` for both). */
  clearMemory(): void {
    this.memory?.clear();
  }

  // --- warming ---

  /**
   * Loads the keys not already fresh, `concurrency` at a time. Failures are counted, not thrown.
   * @returns how many keys were loaded.
   */
  async warm(
    keys: Iterable<string>,
    loader: (key: string) => V | Promise<V>,
    o: EntryOptions & { concurrency?: number } = {},
  ): Promise<number> {
    checkEntryOptions(o);
    const concurrency = o.concurrency ?? 8;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) {
      throw new RangeError(`concurrency: expected an integer 1..1000, got ${concurrency}`);
    }
    this.checkOpen();
    const queue = [...keys].map(checkKey);
    let loaded = 0;
    const worker = async () => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
        if ((await this.lookup(k, false))?.fresh) continue;
        try {
          await this.load(k, loader, o, undefined);
          loaded += 1;
        } catch {
          // Counted in loadFailures.
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return loaded;
  }

  /**
   * Warms `keys()` now and then every `everyMs` (a timer that does not keep the process alive), skipping
   * a round while the previous one runs. @returns a function that stops it.
   * @throws RangeError when `everyMs` is under 1,000.
   */
  scheduleWarm(
    keys: () => Iterable<string> | Promise<Iterable<string>>,
    loader: (key: string) => V | Promise<V>,
    everyMs: number,
    o: EntryOptions & { concurrency?: number } = {},
  ): () => void {
    if (!Number.isFinite(everyMs) || everyMs < 1000 || everyMs > MAX_MS) {
      throw new RangeError(`everyMs: expected 1000..${MAX_MS} ms, got ${everyMs}`);
    }
    let running = false;
    const round = async () => {
      if (running || this.closed) return;
      running = true;
      try {
        await this.warm(await keys(), loader, o);
      } catch {
        // A failing key source skips this round; loads are counted in loadFailures.
      } finally {
        running = false;
      }
    };
    void round();
    const timer = setInterval(round, everyMs);
    timer.unref();
    this.timers.add(timer);
    return () => {
      clearInterval(timer);
      this.timers.delete(timer);
    };
  }

  /** The hottest keys of the memory tier (by frequency estimate, then recency), at most `n`. */
  hotKeys(n = 1000): string[] {
    if (!this.memory) return [];
    const keys: string[] = [];
    for (const k of this.memory.keysByRecency()) {
      keys.push(String(k));
      if (keys.length >= 4 * n) break;
    }
    const f = new Map(keys.map((k) => [k, this.memory!.frequency(k)]));
    return keys.sort((a, b) => f.get(b)! - f.get(a)!).slice(0, n);
  }

  /** Writes {@link Cache.hotKeys} to a JSON file, to warm the next start with {@link Cache.warmFromFile}. */
  async saveHotKeys(file: string, n = 1000): Promise<number> {
    const keys = this.hotKeys(n);
    await writeFile(
      file,
      JSON.stringify({ cache: this.name, savedAt: new Date(this.now()).toISOString(), keys }),
    );
    return keys.length;
  }

  /** Warms the keys saved by {@link Cache.saveHotKeys}; a missing file warms nothing. @returns keys loaded. */
  async warmFromFile(
    file: string,
    loader: (key: string) => V | Promise<V>,
    o: EntryOptions = {},
  ): Promise<number> {
    let keys: unknown;
    try {
      keys = (JSON.parse(await readFile(file, 'utf8')) as { keys?: unknown }).keys;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw new Error(`${file}: not a hot-key file (${(err as Error).message})`);
    }
    if (!Array.isArray(keys)) throw new Error(`${file}: keys: expected an array of strings`);
    return this.warm(
      keys.filter((k): k is string => typeof k === 'string' && k.length > 0 && k.length <= MAX_KEY_LENGTH),
      loader,
      o,
    );
  }

  // --- statistics ---

  /** Counters, the learned TTLs per group, and the miss-ratio curve. */
  stats(): CacheStats {
    const c = this.counts;
    const m = this.memory;
    // Entries and bytes count only what is held: expired entries are dropped when touched, and here up to
    // 4,096 slots per call from a cursor — exact for small caches, O(1) per call at any size.
    m?.purgeExpired(STATS_PURGE_SLOTS);
    const sizes =
      m && !m.weighted ? [0.25, 0.5, 1, 2, 4, 8].map((f) => Math.max(1, Math.round(f * m.maximum))) : [];
    if (m?.weighted && m.size > 0)
      for (const f of [0.25, 0.5, 1, 2, 4, 8]) sizes.push(Math.max(1, Math.round(f * m.size)));
    return {
      name: this.name,
      backend: this.backend,
      policy: m?.policy ?? 'none',
      hits: c.hits,
      misses: c.misses,
      hitRatio: c.hits + c.misses > 0 ? c.hits / (c.hits + c.misses) : 0,
      entries: m?.size ?? 0,
      bytes: m ? (m.weighted ? m.weight : this.estimateMemoryBytes()) : 0,
      maxEntries: m && !m.weighted ? m.maximum : null,
      maxBytes: m?.weighted ? m.maximum : null,
      evictions: m?.counters.evictions ?? 0,
      expirations: m?.counters.expirations ?? 0,
      loads: c.loads,
      loadFailures: c.loadFailures,
      loadP95Ms: this.loadTimes.quantile(0.95),
      staleServed: c.staleServed,
      earlyRefreshes: c.earlyRefreshes,
      coalescedLoads: c.coalescedLoads,
      uncacheable: c.uncacheable,
      memoryHits: c.memoryHits,
      remoteHits: c.remoteHits,
      remote: this.remote ? { ...this.remote.health } : null,
      groups: [...this.groups.values()].map((g) => ({
        name: g.name,
        hits: g.hits,
        misses: g.misses,
        hitRatio: g.hits + g.misses > 0 ? g.hits / (g.hits + g.misses) : 0,
        loads: g.loads,
        loadFailures: g.loadFailures,
        staleServed: g.staleServed,
        ttlMs: g.ttl?.ttlMs ?? this.defaultTtl,
        adaptive: g.ttl?.estimate() ?? null,
      })),
      missRatioCurve: this.mrc && sizes.length > 0 ? this.mrc.curve(sizes) : [],
    };
  }

  /** The Redis circuit breaker's state and counts (null for the memory backend). */
  redisBreaker(): BreakerStatus | null {
    return this.remote ? { ...this.remote.breaker } : null;
  }

  /** Stops listening for invalidations and closes the Redis connection the cache opened. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    this.stopMetrics?.();
    await this.ready;
    await this.remote?.close();
    this.ownClient?.disconnect();
  }

  // --- internals ---

  private checkOpen(): void {
    if (this.closed) throw new Error(`cache ${this.name} is closed`);
  }

  private estimateMemoryBytes(): number {
    // Sample up to 64 entries for the mean size, times the count.
    const m = this.memory!;
    let n = 0;
    let sum = 0;
    for (const k of m.keysByRecency()) {
      const h = m.getStale(k);
      if (h) sum += estimateBytes(k) + estimateBytes(h.value) + 96;
      if (++n >= 64) break;
    }
    return n === 0 ? 0 : Math.round((sum / n) * m.size);
  }

  /**
   * Finds `key` without counting a hit or miss: fresh, or stale within its grace. `read`: a caller's read
   * (fed to the miss-ratio curve and counted in memoryHits/remoteHits), not a check by `warm`.
   */
  private async lookup(
    k: string,
    read = true,
    seen?: { token?: RemoteToken | undefined },
  ): Promise<{ held: Held<V>; fresh: boolean; expiresAt: number } | undefined> {
    if (read) this.mrc?.record(hashKey(k));
    if (this.memory) {
      // get() feeds recency, frequency and the window's hill climber with the hit or the miss.
      const v = this.memory.get(k);
      if (v !== undefined) {
        if (read) this.counts.memoryHits += 1;
        return { held: this.heldOf(k, v), fresh: true, expiresAt: this.memory.expiresAt(k) ?? 0 };
      }
      const s = this.memory.getStale(k);
      if (s && !this.remote) return { held: this.heldOf(k, s.value), fresh: false, expiresAt: s.expiresAt };
    }
    if (!this.remote) return undefined;
    if (!this.started) await this.ready;
    const { entry: e, token } = await this.remote.read(k);
    if (seen) seen.token = token;
    if (!e) {
      const s = this.memory?.getStale(k);
      return s ? { held: this.heldOf(k, s.value), fresh: false, expiresAt: s.expiresAt } : undefined;
    }
    const fresh = e.expiresAt === 0 || e.expiresAt > this.now();
    const held: Held<V> = { v: e.value, storedAt: e.storedAt, loadMs: e.loadMs };
    if (fresh) {
      if (read) this.counts.remoteHits += 1;
      this.memory?.set(
        k,
        e.value,
        e.expiresAt,
        this.grace,
        this.stampFor(e.storedAt),
        this.costFor(e.loadMs, e.expiresAt),
      );
    }
    return { held, fresh, expiresAt: e.expiresAt };
  }

  /** One load per key at a time; stores the result. `previous` is the value being replaced, if known. */
  private load(
    k: string,
    loader: (key: string) => V | Promise<V>,
    o: EntryOptions,
    previous: Held<V> | undefined,
    token?: RemoteToken,
    written = false,
  ): Promise<V> {
    const running = this.inflight.get(k);
    // A superseded load is not joined: its value is older than the write that came after it.
    if (running && !running.superseded) {
      this.counts.coalescedLoads += 1;
      return running.promise;
    }
    // `written`: the key was written after this caller's miss; what it loads is returned, not stored.
    const flight: Flight<V> = { promise: undefined as unknown as Promise<V>, superseded: written };
    flight.promise = this.runLoad(k, loader, o, previous, flight, token).finally(() => {
      if (this.inflight.get(k) === flight) this.inflight.delete(k);
    });
    this.inflight.set(k, flight);
    return flight.promise;
  }

  /** A write, delete or invalidation of `k` (here or in another process): a running load must not store. */
  private supersede(k: string): void {
    const f = this.inflight.get(k);
    if (f) f.superseded = true;
    const w = this.watched.get(k);
    if (w) w.version += 1;
  }

  private supersedeWhere(match: (k: string) => boolean): void {
    for (const [k, f] of this.inflight) if (match(k)) f.superseded = true;
    for (const [k, w] of this.watched) if (match(k)) w.version += 1;
  }

  private async runLoad(
    k: string,
    loader: (key: string) => V | Promise<V>,
    o: EntryOptions,
    previous: Held<V> | undefined,
    flight: Flight<V>,
    knownToken: RemoteToken | undefined,
  ): Promise<V> {
    const g = this.group(k);
    // Read Redis's token now, before the loader reads the source, when the caller did not read it.
    const token: Promise<RemoteToken | undefined> =
      this.remote && knownToken === undefined
        ? (this.started ? Promise.resolve() : this.ready).then(() => this.remote!.token(k))
        : Promise.resolve(knownToken);
    const hardMs = o.hardTimeoutMs ?? this.hard ?? DEFAULT_HARD_TIMEOUT_MS;
    const t0 = performance.now();
    this.counts.loads += 1;
    g.loads += 1;
    let value: V;
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = Promise.resolve().then(() => loader(k));
      value =
        hardMs === undefined
          ? await result
          : await Promise.race([
              result,
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new CacheLoadTimeoutError(k, hardMs)), hardMs);
              }),
            ]);
    } catch (err) {
      this.counts.loadFailures += 1;
      g.loadFailures += 1;
      throw err;
    } finally {
      clearTimeout(timer);
    }
    const loadMs = performance.now() - t0;
    this.loadTimes.record(loadMs);
    if (value === undefined) return value; // not cacheable: nothing stored
    // A set() or delete() of the key during the load wins: the caller gets the loaded value, the cache
    // keeps the write.
    if (flight.superseded) return value;
    if (previous) this.observe(k, previous.storedAt, !this.same(previous.v, value));
    try {
      await this.put(k, value, o, loadMs, { flight, token: await token });
    } catch {
      // Not encodable for Redis: the caller still gets the value; the cache keeps nothing.
      this.counts.uncacheable += 1;
    }
    return value;
  }

  /**
   * Stores in memory and Redis. `load`: the value comes from a load, stored in Redis only if the key still
   * holds what it held when the load began (`token`), and in memory only then (or when Redis did not
   * answer) and when no write superseded the load meanwhile.
   * @returns whether the value was kept. @throws TypeError when it cannot be encoded.
   */
  private async put(
    k: string,
    value: V,
    o: EntryOptions,
    loadMs: number,
    load?: { flight: Flight<V>; token: RemoteToken | undefined },
  ): Promise<boolean> {
    if (this.remote) {
      // Encode first: a value Redis cannot hold is not put in memory either.
      try {
        this.codec.encode(value);
      } catch (err) {
        throw new TypeError(`value: the cache's codec cannot encode it (${(err as Error).message})`);
      }
    }
    const now = this.now();
    const ttl = o.ttlMs ?? this.group(k).ttl?.ttlMs ?? this.defaultTtl;
    const grace = o.staleGraceMs ?? this.grace;
    const expiresAt = ttl > 0 ? now + Math.max(1, Math.round(ttl * (1 - this.jitter * this.random()))) : 0;
    if (this.remote && load?.token !== undefined) {
      if (!this.started) await this.ready;
      const meta = { expiresAt, storedAt: now, loadMs, graceMs: grace, tags: o.tags };
      const stored = await this.remote.setIfUnchanged(k, value, meta, load.token);
      if (stored === false || load.flight.superseded) return false;
      return this.memory ? this.putMemory(k, value, expiresAt, grace, now, loadMs, o.tags) : stored === true;
    }
    // Refused (too heavy) or rejected at admission: not in memory, nothing to index.
    if (this.memory && !this.putMemory(k, value, expiresAt, grace, now, loadMs, o.tags))
      return this.remote ? this.putRemote(k, value, o, expiresAt, now, loadMs, grace) : false;
    return this.remote
      ? (await this.putRemote(k, value, o, expiresAt, now, loadMs, grace)) || this.memory !== undefined
      : true;
  }

  /** Stores in the memory tier and indexes the tags. @returns whether it was kept. */
  private putMemory(
    k: string,
    value: V,
    expiresAt: number,
    grace: number,
    storedAt: number,
    loadMs: number,
    tags: readonly string[] | undefined,
  ): boolean {
    const m = this.memory!;
    this.untag(k);
    m.set(k, value, expiresAt, grace, this.stampFor(storedAt), this.costFor(loadMs, expiresAt));
    // Held after the set: it holds this value (a refused or rejected entry is gone).
    if (!m.contains(k)) return false;
    if (tags === undefined || tags.length === 0) return true;
    this.entryTags.set(k, tags);
    for (const t of tags) {
      let set = this.tagIndex.get(t);
      if (!set) {
        set = new Set();
        this.tagIndex.set(t, set);
      }
      set.add(k);
    }
    return true;
  }

  private async putRemote(
    k: string,
    value: V,
    o: EntryOptions,
    expiresAt: number,
    now: number,
    loadMs: number,
    grace: number,
  ): Promise<boolean> {
    if (!this.started) await this.ready;
    return this.remote!.set(k, value, { expiresAt, storedAt: now, loadMs, graceMs: grace, tags: o.tags });
  }

  /**
   * The store time kept with a memory entry: only the adaptive TTL reads it (it observes how long a value
   * lived), so without it no column is spent on it.
   */
  private stampFor(storedAt: number): number {
    return this.adaptive ? storedAt : 0;
  }

  /** The load time kept with a memory entry: only XFetch reads it, for an entry that expires. */
  private costFor(loadMs: number, expiresAt: number): number {
    return this.beta > 0 && expiresAt > 0 ? loadMs : 0;
  }

  /** A memory entry's value with its two numbers. */
  private heldOf(k: string, v: V): Held<V> {
    const m = this.memory!;
    return { v, storedAt: m.stampOf(k), loadMs: m.costOf(k) };
  }

  private untag(k: string): void {
    const tags = this.entryTags.get(k);
    if (tags === undefined) return;
    this.entryTags.delete(k);
    for (const t of tags) {
      const set = this.tagIndex.get(t);
      set?.delete(k);
      if (set?.size === 0) this.tagIndex.delete(t);
    }
  }

  private dropLocal(k: string, observe: boolean): void {
    this.supersede(k);
    const prev = this.memory?.getStale(k);
    if (prev && observe) this.observe(k, this.memory!.stampOf(k), true);
    this.memory?.delete(k);
  }

  private onInvalidation(m: InvalidationMessage): void {
    for (const k of m.keys ?? []) if (typeof k === 'string') this.dropLocal(k, false);
    if (typeof m.tag === 'string')
      for (const k of [...(this.tagIndex.get(m.tag) ?? [])]) this.dropLocal(k, false);
    if (typeof m.prefix === 'string') {
      this.supersedeWhere((k) => k.startsWith(m.prefix!));
      this.memory?.deleteWhere((k) => String(k).startsWith(m.prefix!));
    }
    if (m.clear) {
      this.supersedeWhere(() => true);
      this.memory?.clear();
    }
  }

  private same(a: V, b: V): boolean {
    if (Object.is(a, b)) return true;
    try {
      return this.codec.encode(a) === this.codec.encode(b);
    } catch {
      return false;
    }
  }

  private observe(k: string, storedAt: number, changed: boolean): void {
    this.group(k).ttl?.observe(this.now() - storedAt, changed);
  }

  private group(k: CacheKey): GroupState {
    const key = String(k);
    let name = this.declared.find((g) =>
      typeof g.match === 'string' ? key.startsWith(g.match) : g.match.test(key),
    )?.name;
    if (name === undefined) {
      const i = key.indexOf(':');
      name = i > 0 ? key.slice(0, i) : '(none)';
      if (!this.groups.has(name) && this.groups.size >= MAX_AUTO_GROUPS + this.declared.length)
        name = '(other)';
    }
    let g = this.groups.get(name);
    if (!g) {
      g = {
        name,
        hits: 0,
        misses: 0,
        loads: 0,
        loadFailures: 0,
        staleServed: 0,
        ttl: this.adaptive ? new AdaptiveTtl(this.defaultTtl, this.adaptive) : undefined,
      };
      this.groups.set(name, g);
    }
    return g;
  }

  private hit(g: GroupState): void {
    this.counts.hits += 1;
    g.hits += 1;
  }

  private miss(g: GroupState): void {
    this.counts.misses += 1;
    g.misses += 1;
  }
}

/**
 * Creates a named cache.
 * @throws RangeError or TypeError naming the option when one is out of range.
 */
export function createCache<V = unknown>(name: string, options: CacheOptions<V> = {}): Cache<V> {
  return new Cache<V>(name, options);
}
