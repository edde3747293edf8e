/**
 * The Redis side of a `redis` or `tiered` cache (ioredis): values with their expiry in one string per
 * key (`<expiresAt>:<storedAt>:<loadMs>:<encoded>`, PX set to the expiry plus the stale grace), tags as
 * Redis sets, multi-gets as one MGET, and invalidation messages over pub/sub for the other processes'
 * memory tiers. Every call is guarded: an error or a closed connection marks the tier down, is counted,
 * and returns "nothing" — a caller never sees Redis fail, it sees a miss (and the stats say why).
 * @module
 */
import { randomUUID } from 'node:crypto';
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

/** One cache's keys in Redis. */
export class RedisTier<V> {
  /** This process's id in invalidation messages (its own messages are ignored). */
  readonly instanceId = randomUUID();
  readonly health: RemoteHealth = { up: true, errors: 0, lastError: null, lastErrorAt: null };
  private readonly keyPrefix: string;
  private readonly tagPrefix: string;
  private readonly channel: string;
  private subscriber: Redis | undefined;

  constructor(
    private readonly client: Redis,
    name: string,
    private readonly codec: Codec<V>,
    keyPrefix = `siperf:cache:${name}:`,
  ) {
    this.keyPrefix = keyPrefix;
    this.tagPrefix = `siperf:cache-tag:${name}:`;
    this.channel = `siperf:cache-invalidate:${name}`;
  }

  /** Runs a Redis call; a failure marks the tier down and resolves to undefined. */
  private guard<T>(op: () => Promise<T>): Promise<T | undefined> {
    let p: Promise<T>;
    try {
      p = op();
    } catch (err) {
      return Promise.resolve(this.failed(err));
    }
    return p.then(
      (r) => {
        this.health.up = true;
        return r;
      },
      (err) => this.failed(err),
    );
  }

  private failed(err: unknown): undefined {
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

  /** The entry of `key` (fresh or within its grace), or undefined (absent, undecodable, or Redis down). */
  get(key: string): Promise<RemoteEntry<V> | undefined> {
    return this.guard(() => this.client.get(this.keyPrefix + key)).then((raw) => this.parse(raw ?? null));
  }

  /** Several entries in one MGET, in the order of `keys`. */
  async getMany(keys: readonly string[]): Promise<(RemoteEntry<V> | undefined)[]> {
    if (keys.length === 0) return [];
    const raw = await this.guard(() => this.client.mget(...keys.map((k) => this.keyPrefix + k)));
    return keys.map((_, i) => this.parse(raw?.[i] ?? null));
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
    const k = this.keyPrefix + key;
    const ok = await this.guard(async () => {
      const multi = this.client.multi();
      if (o.expiresAt > 0) multi.set(k, text, 'PX', Math.max(1, o.expiresAt + o.graceMs - o.storedAt));
      else multi.set(k, text);
      for (const tag of o.tags ?? []) {
        const t = this.tagPrefix + tag;
        multi.sadd(t, key);
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
    return (await this.guard(() => this.client.del(...keys.map((k) => this.keyPrefix + k)))) ?? 0;
  }

  /**
   * Deletes the keys of a tag. @returns the keys that were tagged and how many of them still existed
   * (expired members linger in the set until it expires).
   */
  async deleteTag(tag: string): Promise<{ keys: string[]; deleted: number }> {
    const keys = (await this.guard(() => this.client.smembers(this.tagPrefix + tag))) ?? [];
    const deleted = await this.delete(keys);
    await this.guard(() => this.client.del(this.tagPrefix + tag));
    return { keys, deleted };
  }

  /** Deletes every key starting with `prefix` (SCAN, 500 at a time). @returns how many. */
  async deletePrefix(prefix: string): Promise<number> {
    const pattern = `${this.keyPrefix}${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
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
      this.guard(() => sub.subscribe(this.channel)),
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
