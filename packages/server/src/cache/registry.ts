/**
 * The server's own named caches (made through the API), built with `@siperf/node/cache` and kept in
 * `<dataDir>/caches.json` so they come back after a restart (empty: values are not persisted). The file is
 * rewritten off the event loop and atomically (`util/atomic-file.ts`).
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Cache, createCache } from '@siperf/node/cache';
import { SiperfError } from '../errors.ts';
import { AtomicFileWriter } from '../util/atomic-file.ts';
import { type CacheSpec, parseCacheSpec } from './spec.ts';

/** A cache and how it was defined. */
export interface RegisteredCache {
  spec: CacheSpec;
  cache: Cache<unknown>;
  createdAt: string;
}

/** Options of {@link CacheRegistry}. */
export interface CacheRegistryOptions {
  /** Redis for the redis and tiered backends. */
  redisUrl: string;
  /** Where definitions are saved; undefined keeps them in memory only. */
  file?: string | undefined;
  /** Most caches at once (default 100). */
  maxCaches?: number;
  log?: (message: string, err?: unknown) => void;
}

/** The named caches of the server. */
export class CacheRegistry {
  private readonly caches = new Map<string, RegisteredCache>();
  private readonly max: number;
  /** The definitions file, rewritten whole off the event loop and atomically, one write at a time. */
  private readonly file: AtomicFileWriter | undefined;

  constructor(private readonly o: CacheRegistryOptions) {
    this.max = o.maxCaches ?? 100;
    this.file = o.file
      ? new AtomicFileWriter(o.file, (err) => o.log?.(`could not save ${o.file}`, err))
      : undefined;
    if (o.file && existsSync(o.file)) {
      try {
        const saved = JSON.parse(readFileSync(o.file, 'utf8')) as { caches?: unknown[] };
        for (const raw of saved.caches ?? []) {
          try {
            this.open(parseCacheSpec(raw), false);
          } catch (err) {
            o.log?.('a saved cache definition is invalid and was skipped', err);
          }
        }
      } catch (err) {
        o.log?.(`${o.file} is unreadable; starting without saved caches`, err);
      }
    }
  }

  /**
   * Creates a cache.
   * @throws SiperfError `ERR_CACHE_CONFLICT` when the name is taken or there are already `maxCaches`.
   */
  create(spec: CacheSpec): RegisteredCache {
    if (this.caches.has(spec.name)) {
      throw new SiperfError(
        'ERR_CACHE_CONFLICT',
        `cache ${JSON.stringify(spec.name)} exists; DELETE it first`,
      );
    }
    if (this.caches.size >= this.max) {
      throw new SiperfError('ERR_CACHE_CONFLICT', `at most ${this.max} caches; delete one first`);
    }
    return this.open(spec, true);
  }

  private open(spec: CacheSpec, save: boolean): RegisteredCache {
    let cache: Cache<unknown>;
    try {
      cache = this.make(spec);
    } catch (err) {
      // The library's own checks (e.g. adaptive TTL bounds against its defaults) are body errors here.
      if (err instanceof RangeError || err instanceof TypeError)
        throw new SiperfError('ERR_API_BODY', err.message);
      throw err;
    }
    const entry = { spec, cache, createdAt: new Date().toISOString() };
    this.caches.set(spec.name, entry);
    if (save) this.save();
    return entry;
  }

  private make(spec: CacheSpec): Cache<unknown> {
    return createCache<unknown>(spec.name, {
      backend: spec.backend,
      ...(spec.policy !== 'none' ? { policy: spec.policy } : {}),
      ...(spec.maxEntries !== undefined ? { maxEntries: spec.maxEntries } : {}),
      ...(spec.maxBytes !== undefined ? { maxBytes: spec.maxBytes } : {}),
      defaultTtlMs: spec.defaultTtlMs,
      adaptiveTtl: spec.adaptiveTtl,
      ...(spec.staleGraceMs !== undefined ? { staleGraceMs: spec.staleGraceMs } : {}),
      ...(spec.backend !== 'memory' ? { redis: this.o.redisUrl } : {}),
      exportMetrics: false,
    });
  }

  /** The cache of that name. @throws SiperfError `ERR_CACHE_NOT_FOUND`. */
  get(name: string): RegisteredCache {
    const c = this.caches.get(name);
    if (!c) throw new SiperfError('ERR_CACHE_NOT_FOUND', `no cache ${JSON.stringify(name.slice(0, 128))}`);
    return c;
  }

  list(): RegisteredCache[] {
    return [...this.caches.values()];
  }

  /** Deletes a cache (its Redis keys stay until they expire). @throws SiperfError `ERR_CACHE_NOT_FOUND`. */
  async delete(name: string): Promise<void> {
    const c = this.get(name);
    this.caches.delete(name);
    this.save();
    await c.cache.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.caches.values()].map((c) => c.cache.close()));
    await this.file?.idle();
  }

  /** Resolves once the definitions file holds the last change. */
  async saved(): Promise<void> {
    await this.file?.idle();
  }

  private save(): void {
    void this.file?.write(JSON.stringify({ caches: this.list().map((c) => c.spec) }, null, 2));
  }
}
