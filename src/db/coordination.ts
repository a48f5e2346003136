import type pg from 'pg';

// Coordination between processes through PostgreSQL, on connections of their own: a session
// advisory lock (one scheduler at a time across workers) and LISTEN (topic changes pushed to
// every process). Both need a dedicated client, not Kysely's pooled statements, so they live
// here with a name instead of as SQL in the services. On the embedded database there is only
// one process: the lock is always this process's, and there is nothing to listen to.

export interface Listener {
  close(): Promise<void>;
}

export interface ListenHandlers {
  onNotify(): void;
  /** The connection dropped; a new one is tried every `retryMs` until one holds. */
  onLost(err: Error): void;
  /** LISTEN could not be set up at all (the caller falls back to polling). */
  onFailed(err: unknown): void;
}

export interface Coordination {
  /**
   * Runs `fn` while this session holds the advisory lock `key` (pg_try_advisory_lock: never
   * waits); `{ ran: false }` when another session holds it. The lock is released however `fn`
   * ends, and with the connection if the process dies.
   */
  tryWithLock<T>(key: number, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  /** LISTENs on `channel` on a connection of its own, reconnecting after a drop. */
  listen(channel: string, handlers: ListenHandlers, retryMs?: number): Promise<Listener>;
}

const CHANNEL = /^[a-z_][a-z0-9_]*$/;

export function createCoordination(pool: pg.Pool | undefined): Coordination {
  if (!pool) {
    return {
      tryWithLock: async (_key, fn) => ({ ran: true, value: await fn() }),
      listen: async () => ({ close: async () => {} }),
    };
  }
  return {
    async tryWithLock(key, fn) {
      const client = await pool.connect();
      try {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key]);
        if (!rows[0]?.locked) return { ran: false };
        try {
          return { ran: true, value: await fn() };
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [key]);
        }
      } finally {
        client.release();
      }
    },

    async listen(channel, handlers, retryMs = 5000) {
      if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
      let closed = false;
      let current: { client: pg.PoolClient; release(): void } | undefined;
      let reconnecting = false;
      const retry = () => {
        if (closed) return;
        reconnecting = true;
        setTimeout(() => void connect(), retryMs).unref();
      };
      const connect = async (): Promise<void> => {
        let held: { client: pg.PoolClient; release(): void } | undefined;
        // One retry per attempt, whichever of the error event and the failed query comes first.
        let failed = false;
        const fail = (err: unknown, lost: boolean) => {
          if (current === held) current = undefined;
          held?.release();
          if (closed || failed) return;
          failed = true;
          // The first attempt tells the caller (it polls meanwhile); a connection lost, or a
          // reconnect that fails because the database is still away, tries again until one holds.
          if (lost) handlers.onLost(err as Error);
          if (lost || reconnecting) retry();
          else handlers.onFailed(err);
        };
        try {
          const client = await pool.connect();
          // A client goes back to the pool once: an error after close() (the server closing the
          // connection) or a second error must not release it again.
          let released = false;
          held = {
            client,
            release: () => {
              if (released) return;
              released = true;
              client.release(true);
            },
          };
          client.on('notification', () => handlers.onNotify());
          client.on('error', (err) => fail(err, current === held));
          await client.query(`LISTEN ${channel}`);
          if (failed) return;
          current = held;
          reconnecting = false;
          if (closed) await stop();
        } catch (err) {
          fail(err, false);
        }
      };
      const stop = async () => {
        const held = current;
        current = undefined;
        if (!held) return;
        try {
          await held.client.query('UNLISTEN *');
        } catch {
          // the connection is going away anyway
        }
        held.release();
      };
      await connect();
      return {
        close: async () => {
          closed = true;
          await stop();
        },
      };
    },
  };
}
