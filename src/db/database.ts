import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PGliteDialect } from 'kysely-pglite-dialect';
import type { Database } from './types.js';

export type DatabaseEngine = 'postgres' | 'pglite';

export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: DatabaseEngine;
  /** The raw pg pool when on PostgreSQL: LISTEN/NOTIFY and advisory locks need a dedicated client. */
  pool?: pg.Pool;
  /** PGlite only: a snapshot of the data directory (tests restore it per file). */
  dumpDataDir?(): Promise<Blob>;
  close(): Promise<void>;
}

const INT8_OID = 20;
// Identity columns of high-volume tables are bigint. Ids stay far below 2^53, so numbers are
// safe and keep one id type across both engines (pg would give strings, PGlite bigints).
const parseInt8 = (value: string) => Number(value);

export interface DatabaseOptions {
  url?: string;
  pgliteDir?: string;
  /** Restores an embedded database from a `dumpDataDir()` snapshot (tests). */
  pgliteSnapshot?: Blob;
  poolSize?: number;
}

export async function openDatabase(opts: DatabaseOptions): Promise<DatabaseHandle> {
  if (opts.url) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that loses its connection emits 'error' on the pool; without a listener
    // that would crash the process instead of being retried on the next checkout.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, engine: 'postgres', pool, close: () => db.destroy() };
  }

  let dataDir: string | undefined;
  if (!opts.pgliteSnapshot && opts.pgliteDir) {
    mkdirSync(opts.pgliteDir, { recursive: true });
    dataDir = opts.pgliteDir;
  }
  const pglite = await PGlite.create({
    dataDir,
    loadDataDir: opts.pgliteSnapshot,
    parsers: { [INT8_OID]: parseInt8 },
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    engine: 'pglite',
    dumpDataDir: () => pglite.dumpDataDir('none'),
    close: () => db.destroy(),
  };
}
