/**
 * The Redis side of a `redis` or `tiered` cache (ioredis): values with their expiry in one string per
 * key (`<expiresAt>:<storedAt>:<loadMs>:<encoded>`, PX set to the expiry plus the stale grace), tags as
 * Redis sets, multi-gets as one MGET, and invalidation messages over pub/sub for the other processes'
 * memory tiers. Every call is guarded: an error or a closed connection marks the tier down, is counted,
 * and returns "nothing" — a caller never sees Redis fail, it sees a miss (and the stats say why).
 *
 * A hanging Redis (alive but slow) is bounded by a command timeout and a circuit breaker (Nygard,
 * "Release It!", 2007): after `failures` failed or timed-out calls in a row the breaker opens and calls
 * skip Redis for `cooldownMs` (the cache serves from memory or the loader); then one call probes, and
 * closes it again on success.
 *
 * Keys are sent as UTF-8, which cannot hold a lone UTF-16 surrogate (it would become U+FFFD and collide
 * with other keys), so {@link encodeKey} escapes lone surrogates and U+FFFD itself as U+FFFD + 4 hex
 * digits; a well-formed key without U+FFFD is sent unchanged.
 *
 * Writes of loaded values are conditional (a Lua script): a load stores only when the key still holds
 * what it held when the load started (compared by SHA-1), so a `set()` or `delete()` made meanwhile, in
 * any process, wins. `delete` leaves a short-lived tombstone for the same reason.
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Codec } from './codec.ts';

/** A value read back from Redis. Times in ms since the epoch; `expiresAt` 0 for never. */
export interface RemoteEntry<V> {
  value: V;
  expiresAt: number;
  storedAt: number;
  loadMs: number;
}

/** An invalidation broadcast to the other processes of a tiered cache. */
export interface InvalidationMessage {
  from: string;
  keys?: string[];
  prefix?: string;
  tag?: string;
  clear?: boolean;
}

/** Health of the tier, for the cache's stats. */
export interface RemoteHealth {
  up: boolean;
  errors: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

/** The circuit breaker's state and counts. */
export interface BreakerStatus {
  state: 'closed' | 'open' | 'half-open';
  /** Calls that took longer than the command timeout. */
  timeouts: number;
  /** Calls not sent because the breaker was open. */
  skipped: number;
  /** Times the breaker opened. */
  opened: number;
}

/** Options of the command timeout and the breaker. */
export interface BreakerOptions {
  /** A Redis call not answered within this fails (default 250 ms). */
  timeoutMs?: number;
  /** Failed calls in a row that open the breaker (default 3). */
  failures?: number;
  /** How long the breaker stays open before one call probes (default 5,000 ms). */
  cooldownMs?: number;
}

/** What a key holds in Redis when a load reads it: the SHA-1 of the stored text, '' when absent. */
export type RemoteToken = string;

/** Redis's value of a deleted key for a while (no ':' so it never parses as an entry). */
const TOMBSTONE = '~';

const HAS_SPECIAL = /[\uD800-\uDFFF\uFFFD]/;

/**
 * The Redis form of a key: lone surrogates and U+FFFD escaped as U+FFFD + 4 upper-case hex digits, so
 * distinct strings stay distinct after UTF-8 encoding. Prefix-preserving except for a prefix ending in
 * half a surrogate pair.
 */
export function encodeKey(key: string): string {
  if (!HAS_SPECIAL.test(key)) return key;
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < key.length) {
      const d = key.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += key[i]! + key[i + 1]!;
        i += 1;
        continue;
      }
    }
    if ((c >= 0xd800 && c <= 0xdfff) || c === 0xfffd) {
      out += `\uFFFD${c.toString(16).toUpperCase().padStart(4, '0')}`;
    } else out += key[i];
  }
  return out;
}

/** The inverse of {@link encodeKey}. */
export function decodeKey(text: string): string {
  if (!text.includes('\uFFFD')) return text;
  return text.replace(/\uFFFD([0-9A-F]{4})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

/** The token of a raw Redis value (see {@link RemoteToken}). */
export function tokenOf(raw: string | null): RemoteToken {
  return raw === null ? '' : createHash('sha1').update(raw, 'utf8').digest('hex');
}

/** Sets KEYS[1] to ARGV[2] (PX ARGV[3] when > 0) and adds ARGV[4] to the tag sets KEYS[2..], if KEYS[1] still hashes to ARGV[1]. */
const SET_IF_UNCHANGED = `
local cur = redis.call('GET', KEYS[1])
local h = ''
if cur then h = redis.sha1hex(cur) end
if h ~= ARGV[1] then return 0 end
local px = tonumber(ARGV[3])
if px > 0 then redis.call('SET', KEYS[1], ARGV[2], 'PX', px) else redis.call('SET', KEYS[1], ARGV[2]) end
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[4])
  if px > 0 then
    redis.call('PEXPIRE', KEYS[i], px, 'NX')
    redis.call('PEXPIRE', KEYS[i], px, 'GT')
  else
    redis.call('PERSIST', KEYS[i])
  end
end
return 1`;

class RedisTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
    this.name = 'RedisTimeoutError';
  }
}

/** One cache's keys in Redis. */
export class RedisTier<V> {
  /** This process's id in invalidation messages (its own messages are ignored). */
  readonly instanceId = randomUUID();
  readonly health: RemoteHealth = { up: true, errors: 0, lastError: null, lastErrorAt: null };
  private readonly keyPrefix: string;
  private readonly tagPrefix: string;
  private readonly channel: string;
  readonly breaker: BreakerStatus = { state: 'closed', timeouts: 0, skipped: 0, opened: 0 };
  private subscriber: Redis | undefined;
  private readonly timeoutMs: number;
  private readonly maxFailures: number;
  private readonly cooldownMs: number;
  private failuresInRow = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly client: Redis,
    name: string,
    private readonly codec: Codec<V>,
    keyPrefix = `siperf:cache:${name}:`,
    o: BreakerOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.keyPrefix = keyPrefix;
    this.tagPrefix = `siperf:cache-tag:${name}:`;
    this.channel = `siperf:cache-invalidate:${name}`;
    this.timeoutMs = o.timeoutMs ?? 250;
    this.maxFailures = o.failures ?? 3;
    this.cooldownMs = o.cooldownMs ?? 5000;
  }

  private key(key: string): string {
    return this.keyPrefix + encodeKey(key);
  }

  /**
   * Runs a Redis call within the command timeout, unless the breaker is open; a failure or a timeout is
   * counted, marks the tier down, and resolves to undefined.
   */
  private guard<T>(op: () => Promise<T>): Promise<T | undefined> {
    const b = this.breaker;
    if (b.state === 'open') {
      if (this.now() < this.openUntil) {
        b.skipped += 1;
        return Promise.resolve(undefined);
      }
      b.state = 'half-open';
    }
    if (b.state === 'half-open') {
      if (this.probing) {
        b.skipped += 1;
        return Promise.resolve(undefined);
      }
      this.probing = true;
    }
    let p: Promise<T>;
    try {
      p = op();
    } catch (err) {
      return Promise.resolve(this.failed(err));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        b.timeouts += 1;
        reject(new RedisTimeoutError(this.timeoutMs));
      }, this.timeoutMs);
    });
    p.catch(() => {}); // a call that answers after its timeout is ignored
    return Promise.race([p, timeout]).then(
      (r) => {
        clearTimeout(timer);
        this.health.up = true;
        this.failuresInRow = 0;
        this.probing = false;
        b.state = 'closed';
        return r;
      },
      (err) => {
        clearTimeout(timer);
        return this.failed(err);
      },
    );
  }

  private failed(err: unknown): undefined {
    const b = this.breaker;
    this.failuresInRow += 1;
    if (b.state === 'half-open' || (b.state === 'closed' && this.failuresInRow >= this.maxFailures)) {
      b.state = 'open';
      b.opened += 1;
      this.openUntil = this.now() + this.cooldownMs;
    }
    this.probing = false;
    this.health.up = false;
    this.health.errors += 1;
    this.health.lastError = err instanceof Error ? err.message : String(err);
    this.health.lastErrorAt = new Date().toISOString();
    return undefined;
  }

  private parse(raw: string | null): RemoteEntry<V> | undefined {
    if (raw === null) return undefined;
    const a = raw.indexOf(':');
    const b = raw.indexOf(':', a + 1);
    const c = raw.indexOf(':', b + 1);
    if (a < 0 || b < 0 || c < 0) return undefined;
    try {
      return {
        expiresAt: Number(raw.slice(0, a)),
        storedAt: Number(raw.slice(a + 1, b)),
        loadMs: Number(raw.slice(b + 1, c)),
        value: this.codec.decode(raw.slice(c + 1)),
      };
    } catch {
      return undefined;
    }
  }

  /**
   * The entry of `key` (fresh or within its grace), or undefined (absent, undecodable, or Redis down),
   * with the token of what the key held (undefined when Redis did not answer).
   */
  async read(key: string): Promise<{ entry: RemoteEntry<V> | undefined; token: RemoteToken | undefined }> {
    const raw = await this.guard(() => this.client.get(this.key(key)));
    if (raw === undefined) return { entry: undefined, token: undefined };
    return { entry: this.parse(raw), token: tokenOf(raw) };
  }

  /** The entry of `key` (fresh or within its grace), or undefined (absent, undecodable, or Redis down). */
  async get(key: string): Promise<RemoteEntry<V> | undefined> {
    return (await this.read(key)).entry;
  }

  /** The token of what `key` holds now, undefined when Redis did not answer. */
  async token(key: string): Promise<RemoteToken | undefined> {
    return (await this.read(key)).token;
  }

  /** Several entries in one MGET, in the order of `keys`. */
  async getMany(keys: readonly string[]): Promise<(RemoteEntry<V> | undefined)[]> {
    if (keys.length === 0) return [];
    const raw = await this.guard(() => this.client.mget(...keys.map((k) => this.key(k))));
    return keys.map((_, i) => this.parse(raw?.[i] ?? null));
  }

  /**
   * Stores a loaded entry if the key still holds what `token` says it held when the load started.
   * @returns true when stored, false when the key changed meanwhile, undefined when Redis did not answer.
   */
  async setIfUnchanged(
    key: string,
    value: V,
    o: { expiresAt: number; storedAt: number; loadMs: number; graceMs: number; tags?: readonly string[] },
    token: RemoteToken,
  ): Promise<boolean | undefined> {
    const text = `${o.expiresAt}:${o.storedAt}:${Math.round(o.loadMs * 1000) / 1000}:${this.codec.encode(value)}`;
    const px = o.expiresAt > 0 ? Math.max(1, o.expiresAt + o.graceMs - o.storedAt) : 0;
    const tagKeys = (o.tags ?? []).map((t) => this.tagPrefix + encodeKey(t));
    const r = await this.guard(() =>
      this.client.eval(
        SET_IF_UNCHANGED,
        1 + tagKeys.length,
        this.key(key),
        ...tagKeys,
        token,
        text,
        String(px),
        encodeKey(key),
      ),
    );
    return r === undefined ? undefined : r === 1;
  }

  /**
   * Deletes `key`, leaving a tombstone for `tombstoneMs` so that a load of it still running (here or in
   * another process) does not store its older value. @returns whether the key held a value.
   */
  async deleteWithTombstone(key: string, tombstoneMs: number): Promise<boolean> {
    const old = await this.guard(
      () =>
        this.client.call(
          'SET',
          this.key(key),
          TOMBSTONE,
          'PX',
          String(Math.max(1, tombstoneMs)),
          'GET',
        ) as Promise<string | null>,
    );
    return typeof old === 'string' && old !== TOMBSTONE;
  }

  /**
   * Stores an entry; Redis drops it `graceMs` after `expiresAt` (never with `expiresAt` 0).
   * @returns false when Redis could not be written.
   */
  async set(
    key: string,
    value: V,
    o: { expiresAt: number; storedAt: number; loadMs: number; graceMs: number; tags?: readonly string[] },
  ): Promise<boolean> {
    const text = `${o.expiresAt}:${o.storedAt}:${Math.round(o.loadMs * 1000) / 1000}:${this.codec.encode(value)}`;
    const k = this.key(key);
    const ok = await this.guard(async () => {
      const multi = this.client.multi();
      if (o.expiresAt > 0) multi.set(k, text, 'PX', Math.max(1, o.expiresAt + o.graceMs - o.storedAt));
      else multi.set(k, text);
      for (const tag of o.tags ?? []) {
        const t = this.tagPrefix + encodeKey(tag);
        multi.sadd(t, encodeKey(key));
        // The tag set lives as long as its longest-lived member: no expiry once one never expires.
        if (o.expiresAt > 0) {
          const ms = Math.max(1, o.expiresAt + o.graceMs - o.storedAt);
          multi.pexpire(t, ms, 'NX');
          multi.pexpire(t, ms, 'GT');
        } else multi.persist(t);
      }
      await multi.exec();
      return true;
    });
    return ok === true;
  }

  /** Deletes keys. @returns how many existed (0 when Redis is down). */
  async delete(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return (await this.guard(() => this.client.del(...keys.map((k) => this.key(k))))) ?? 0;
  }

  /**
   * Deletes the keys of a tag. @returns the keys that were tagged and how many of them still existed
   * (expired members linger in the set until it expires).
   */
  async deleteTag(tag: string): Promise<{ keys: string[]; deleted: number }> {
    const t = this.tagPrefix + encodeKey(tag);
    const keys = ((await this.guard(() => this.client.smembers(t))) ?? []).map(decodeKey);
    const deleted = await this.delete(keys);
    await this.guard(() => this.client.del(t));
    return { keys, deleted };
  }

  /** Deletes every key starting with `prefix` (SCAN, 500 at a time). @returns how many. */
  async deletePrefix(prefix: string): Promise<number> {
    const pattern = `${this.keyPrefix}${encodeKey(prefix).replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    let n = 0;
    do {
      const r = await this.guard(() => this.client.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
      if (!r) break;
      cursor = r[0];
      if (r[1].length > 0) n += (await this.guard(() => this.client.del(...r[1]))) ?? 0;
    } while (cursor !== '0');
    return n;
  }

  /** Tells the other processes to drop what this message names from their memory tier. */
  async publish(message: Omit<InvalidationMessage, 'from'>): Promise<void> {
    await this.guard(() =>
      this.client.publish(this.channel, JSON.stringify({ ...message, from: this.instanceId })),
    );
  }

  /** Listens for the other processes' invalidations (on a duplicate connection, as pub/sub requires). */
  async subscribe(onMessage: (m: InvalidationMessage) => void): Promise<void> {
    // Queued until connected (and re-subscribed after a reconnect), unlike the main connection.
    const sub = this.client.duplicate({ enableOfflineQueue: true, lazyConnect: false });
    this.subscriber = sub;
    sub.on('error', () => {});
    sub.on('message', (_channel: string, text: string) => {
      try {
        const m = JSON.parse(text) as InvalidationMessage;
        if (m.from !== this.instanceId) onMessage(m);
      } catch {
        // Not ours: ignore.
      }
    });
    // Waits for the subscription at most 2 s: with Redis down it happens after a reconnect.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      // Not through the guard: the subscriber's own connection may take longer than a command timeout.
      sub.subscribe(this.channel).catch(() => {}),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 2000);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Closes the subscriber connection (the main client belongs to whoever made it). */
  async close(): Promise<void> {
    this.subscriber?.disconnect();
  }
}
