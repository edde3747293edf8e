/**
 * The database drivers (`pg`, `mysql2`, `ioredis`) are optional peer dependencies of `@siperf/node`: an
 * application installs the ones it uses, and each is loaded only when a pool or a Redis cache asks for it.
 * @module
 */
import { createRequire } from 'node:module';

/** The optional peer dependencies, loaded on first use. */
export type OptionalPeer = 'pg' | 'mysql2' | 'ioredis';

/** Thrown when a feature needs a driver the application has not installed. */
export class MissingPeerDependencyError extends Error {
  /** The package to install. */
  readonly packageName: OptionalPeer;
  constructor(packageName: OptionalPeer, feature: string, cause: unknown) {
    super(`${feature} needs the '${packageName}' package: install it with \`npm install ${packageName}\``, {
      cause,
    });
    this.name = 'MissingPeerDependencyError';
    this.packageName = packageName;
  }
}

let load: NodeJS.Require | undefined;

/**
 * Loads an optional peer dependency from the application's `node_modules` (synchronously, so the pool and
 * cache constructors stay synchronous; all three drivers are CommonJS).
 * @param name - the driver.
 * @param feature - what needs it, for the error message (e.g. `createPgPool`).
 * @throws MissingPeerDependencyError when the package is not installed; the driver's own error when it fails
 *   to load.
 */
export function optionalPeer<T>(name: OptionalPeer, feature: string): T {
  load ??= createRequire(import.meta.url);
  try {
    return load(name) as T;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'MODULE_NOT_FOUND' && String(e.message).includes(`'${name}'`)) {
      throw new MissingPeerDependencyError(name, feature, err);
    }
    throw err;
  }
}
