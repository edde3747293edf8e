/**
 * The demo's PGlite over the PostgreSQL wire protocol on a loopback port, so that a PostgreSQL client —
 * siperf's query advisor, `psql` — can reach the database the demo service runs on (and EXPLAIN its
 * statements) while the service keeps using PGlite in process.
 *
 * PGlite is one PostgreSQL session (single-user mode): every client shares it. Frames from the sockets are
 * passed to PGlite as they are (`execProtocolRawStream`, which also answers the startup packet), and the
 * answers go back unchanged. What this module adds is who may talk when: a {@link SessionLock} that a
 * client holds from its first frame until PostgreSQL is idle again — after a `Sync` or a simple `Query`
 * that leaves no transaction block open — so that neither another client nor the service's own queries
 * (which take the same lock through {@link SessionLock.run}) land between a client's `BEGIN` and its
 * `ROLLBACK`, or between its `Parse` and its `Sync`. A client that disconnects mid-way is ended for it
 * (`Sync`, then `ROLLBACK`). SSL and GSS encryption requests are declined (`N`), as a server without TLS
 * does; cancel requests are ignored (one session has no other backend to signal).
 *
 * The same approach as `@electric-sql/pglite-socket`, which is not used because its releases require an
 * exact, older PGlite (0.2.18 peers 0.5.15; the demo runs 0.5.17) and do not keep the in-process queries
 * out of a socket client's transaction.
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/** Startup-phase request codes (the second int32 of an untyped frame). */
const PROTOCOL_3 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/** A frontend `Sync` and a simple `Query` of `ROLLBACK`, to end what a departed client left open. */
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
const ROLLBACK = (() => {
  const sql = Buffer.from('ROLLBACK\0');
  const b = Buffer.alloc(5 + sql.length);
  b.write('Q', 0, 'latin1');
  b.writeInt32BE(4 + sql.length, 1);
  sql.copy(b, 5);
  return b;
})();

/**
 * Mutual exclusion over the one PGlite session, held by an owner (a connection, or one in-process query)
 * for as long as it needs: re-acquiring by the holder is immediate, others wait in arrival order.
 */
export class SessionLock {
  private holder: unknown = undefined;
  private readonly waiting: { owner: unknown; grant: () => void }[] = [];

  /** Resolves once `owner` holds the lock. */
  acquire(owner: unknown): Promise<void> {
    if (this.holder === owner) return Promise.resolve();
    if (this.holder === undefined) {
      this.holder = owner;
      return Promise.resolve();
    }
    return new Promise((grant) => this.waiting.push({ owner, grant }));
  }

  /** Lets the next waiter in; a no-op when `owner` does not hold the lock. */
  release(owner: unknown): void {
    if (this.holder !== owner) return;
    const next = this.waiting.shift();
    this.holder = next?.owner;
    next?.grant();
  }

  /** Runs `fn` holding the lock as an owner of its own. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const owner = Symbol('query');
    await this.acquire(owner);
    try {
      return await fn();
    } finally {
      this.release(owner);
    }
  }
}

/** Options of {@link serveWire}. */
export interface WireOptions {
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** Connections served at once; more are refused (default 8). */
  maxConnections?: number;
  /** The lock the in-process queries take (default: a new one, see {@link WireServer.lock}). */
  lock?: SessionLock;
}

/** A running wire server. */
export interface WireServer {
  /** `postgresql://postgres@<host>:<port>/postgres`: no password (PGlite has no authentication). */
  url: string;
  port: number;
  /** The lock the in-process queries must take (see {@link SessionLock.run}). */
  lock: SessionLock;
  /** Stops listening and closes every connection (the database stays open). */
  close(): Promise<void>;
}

/** One client connection: frames in, PGlite's answers out, the session lock held between idle points. */
class Connection {
  private buffer = Buffer.alloc(0);
  /** Frames are typed (a type byte, then the length) once the startup packet has arrived. */
  private typed = false;
  private started = false;
  /** The last typed frame sent to PGlite was neither Sync nor Query: an extended-protocol batch is open. */
  private midBatch = false;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly db: PGlite,
    private readonly lock: SessionLock,
    /** Cleared by `close`: the database may be closed next, so nothing reaches it any more. */
    private readonly server: { open: boolean },
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('error', () => this.end());
    socket.on('close', () => this.end());
  }

  private receive(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const frame = this.nextFrame();
      if (!frame) return;
      this.chain = this.chain
        .then(() => this.handle(frame))
        .catch(() => {
          this.socket.destroy();
        });
    }
  }

  /** The next complete frame, or undefined. Untyped before the startup packet, typed after. */
  private nextFrame(): Buffer | undefined {
    const b = this.buffer;
    const header = this.typed ? 5 : 8;
    if (b.length < header) return undefined;
    const size = this.typed ? 1 + b.readInt32BE(1) : b.readInt32BE(0);
    if (size < header - (this.typed ? 1 : 0)) {
      this.socket.destroy(); // not the PostgreSQL protocol
      return undefined;
    }
    if (b.length < size) return undefined;
    if (!this.typed && b.readInt32BE(4) === PROTOCOL_3) this.typed = true;
    this.buffer = b.subarray(size);
    return b.subarray(0, size);
  }

  private async handle(frame: Buffer): Promise<void> {
    if (this.closed || !this.server.open) return;
    if (!this.started) {
      const code = frame.length >= 8 ? frame.readInt32BE(4) : 0;
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        this.socket.write('N');
        return;
      }
      if (code === CANCEL_REQUEST || code !== PROTOCOL_3) {
        // A cancel request (one session has no other backend to signal) or an unknown protocol: close.
        this.socket.destroy();
        return;
      }
      this.started = true;
      await this.exec(frame);
      this.idle();
      return;
    }
    const type = String.fromCharCode(frame[0]!);
    if (type === 'X') {
      this.socket.end();
      return;
    }
    await this.exec(frame);
    this.midBatch = type !== 'S' && type !== 'Q';
    if (!this.midBatch) this.idle();
  }

  /** Sends one frame to PGlite holding the lock; the answer goes to the socket. */
  private async exec(frame: Buffer): Promise<void> {
    await this.lock.acquire(this);
    if (this.closed || !this.server.open) return; // left while waiting: end() tidies up
    await this.db.runExclusive(() =>
      this.db.execProtocolRawStream(new Uint8Array(frame), {
        onRawData: (out) => {
          // `out` is a view of PGlite's memory: copy it before the next call reuses that memory.
          if (!this.socket.destroyed) this.socket.write(Buffer.from(out));
        },
      }),
    );
  }

  /** PostgreSQL is idle for this client unless a transaction block is open: let the others in. */
  private idle(): void {
    if (!this.db.isInTransaction()) this.lock.release(this);
  }

  /** The client left: end its batch and its transaction if it held the session, then let the others in. */
  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.chain = this.chain
      .then(async () => {
        if (!this.started || !this.server.open) return;
        const discard = { onRawData: () => {} };
        await this.lock.acquire(this);
        if (this.midBatch) await this.db.runExclusive(() => this.db.execProtocolRawStream(SYNC, discard));
        if (this.db.isInTransaction())
          await this.db.runExclusive(() => this.db.execProtocolRawStream(ROLLBACK, discard));
      })
      .catch(() => {})
      .finally(() => this.lock.release(this));
  }
}

/**
 * Serves `db` over the PostgreSQL wire protocol on a loopback port.
 * @throws Error when the port cannot be bound.
 */
export async function serveWire(db: PGlite, o: WireOptions = {}): Promise<WireServer> {
  const host = o.host ?? '127.0.0.1';
  const lock = o.lock ?? new SessionLock();
  const sockets = new Set<Socket>();
  const state = { open: true };
  const server: Server = createServer((socket) => {
    if (sockets.size >= (o.maxConnections ?? 8)) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new Connection(socket, db, lock, state);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `postgresql://postgres@${host}:${port}/postgres`,
    port,
    lock,
    close: () =>
      new Promise<void>((resolve) => {
        state.open = false;
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
