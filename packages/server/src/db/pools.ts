/**
 * The named database pools of the `pools` setting, opened on first use with `@siperf/node/db` (small:
 * the advisor and cached queries need few connections), each with a statement and an acquire timeout.
 * @module
 */
import {
  createMysqlPool,
  createPgPool,
  type InstrumentedMysqlPool,
  type InstrumentedPgPool,
} from '@siperf/node/db';
import type { PoolSetting } from '../config.ts';
import { SiperfError } from '../errors.ts';

/** What {@link DbPools.hostOf} answers for a database on this machine. */
export const LOOPBACK = 'loopback';

/** An open pool and its setting. */
export type NamedPool =
  | { setting: PoolSetting & { driver: 'postgresql' }; pool: InstrumentedPgPool }
  | { setting: PoolSetting & { driver: 'mysql' }; pool: InstrumentedMysqlPool };

/** The pools of the configuration. */
export class DbPools {
  private readonly open = new Map<string, NamedPool>();

  constructor(
    private readonly settings: readonly PoolSetting[],
    private readonly o: { max?: number; statementTimeoutMs?: number } = {},
  ) {}

  /** Names and drivers (never URLs: they hold credentials). */
  list(): { name: string; driver: PoolSetting['driver'] }[] {
    return this.settings.map((s) => ({ name: s.name, driver: s.driver }));
  }

  /**
   * The host the pool's database runs on, as its URL names it (never the credentials): `undefined` for an
   * unknown pool or a URL without a host (a Unix socket). Loopback names (`localhost`, `127.0.0.0/8`, `::1`)
   * are answered as `loopback`, for the caller to map to this machine's host name.
   */
  hostOf(name: string): string | undefined {
    const setting = this.settings.find((s) => s.name === name);
    if (!setting) return undefined;
    let host: string;
    try {
      host = new URL(setting.url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return undefined;
    }
    if (!host) return undefined;
    if (host === 'localhost' || host === '::1' || /^127\./.test(host)) return LOOPBACK;
    return host;
  }

  /** The pool of that name, opened now if needed. @throws SiperfError `ERR_POOL_NOT_FOUND`. */
  get(name: string): NamedPool {
    const open = this.open.get(name);
    if (open) return open;
    const setting = this.settings.find((s) => s.name === name);
    if (!setting) {
      throw new SiperfError(
        'ERR_POOL_NOT_FOUND',
        `no pool ${JSON.stringify(name.slice(0, 64))}; configured: ${this.settings.map((s) => s.name).join(', ') || 'none (set pools)'}`,
      );
    }
    const common = {
      max: this.o.max ?? 4,
      statementTimeoutMs: this.o.statementTimeoutMs ?? 10_000,
      acquireTimeoutMs: 5000,
    };
    const named: NamedPool =
      setting.driver === 'postgresql'
        ? {
            setting: setting as PoolSetting & { driver: 'postgresql' },
            pool: createPgPool(name, { connectionString: setting.url, ...common }),
          }
        : {
            setting: setting as PoolSetting & { driver: 'mysql' },
            pool: createMysqlPool(name, {
              uri: setting.url,
              connectionLimit: common.max,
              statementTimeoutMs: common.statementTimeoutMs,
              acquireTimeoutMs: 5000,
            }),
          };
    this.open.set(name, named);
    return named;
  }

  /** Every configured pool, opened. */
  all(): NamedPool[] {
    return this.settings.map((s) => this.get(s.name));
  }

  async close(): Promise<void> {
    await Promise.all([...this.open.values()].map((p) => p.pool.end().catch(() => {})));
    this.open.clear();
  }
}
