import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './types.js';
import { timestamptzParser } from './timestamptz.js';
import { createCoordination, type Coordination } from './coordination.js';

export type DatabaseEngine = 'postgres' | 'pglite';

export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: DatabaseEngine;
  /** The raw pg pool when on PostgreSQL (coordination takes its dedicated clients from it). */
  pool?: pg.Pool;
  /** Advisory locks and LISTEN across processes (no-ops on the embedded database). */
  coordination: Coordination;
  /** PGlite on a directory: where its files are (the control socket lives beside them). */
  dataDir?: string;
  /** PGlite only: a snapshot of the data directory (tests restore it per file). */
  dumpDataDir?(): Promise<Blob>;
  close(): Promise<void>;
}

const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;
const parseTimestamptz = timestamptzParser(pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (value: string) => unknown);
// Identity columns of high-volume tables are bigint. Ids stay far below 2^53, so numbers are
// safe and keep one id type across both engines (pg would give strings, PGlite bigints).
const parseInt8 = (value: string) => Number(value);

/**
 * A statement whose text starts with `/* prepare:NAME *\/` runs as a named prepared statement on
 * PostgreSQL: parsed and planned once per connection instead of on every call. Planning the
 * signup statement (five inserts in one CTE) cost as much as running it: measured with pgbench,
 * 1,574 tps unprepared against 2,927 prepared. Opt-in per statement (repositories mark their hot,
 * fixed-text statements), so the number of prepared statements per connection stays bounded and
 * a `SELECT *` whose row type a migration changes is never cached. PGlite reads the marker as the
 * comment it is.
 */
const PREPARE_MARK = /^\s*\/\* prepare:([a-z0-9_-]+) \*\//;

class PreparingClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // The pool listens for errors only on idle clients. A client checked out and between
    // statements (a transaction's application code, an advisory lock held through a job) that
    // loses its server would emit 'error' with no listener and crash the process. The next
    // statement on it fails instead ("not queryable"), and the pool drops it on release.
    this.on('error', () => {});
  }

  // pg's overloads cannot be restated here; Kysely calls query(text, values).
  override query(...args: unknown[]): never {
    const [text, values] = args;
    if (typeof text === 'string' && Array.isArray(values) && args.length === 2) {
      const m = PREPARE_MARK.exec(text);
      if (m) return super.query({ name: m[1], text, values }) as never;
    }
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

export interface DatabaseOptions {
  url?: string;
  pgliteDir?: string;
  /** Restores an embedded database from a `dumpDataDir()` snapshot (tests). */
  pgliteSnapshot?: Blob;
  poolSize?: number;
  /** Shown in pg_stat_activity, so an operator sees which process holds which connection. */
  applicationName?: string;
}

export async function openDatabase(opts: DatabaseOptions): Promise<DatabaseHandle> {
  if (opts.url) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      application_name: opts.applicationName,
      Client: PreparingClient,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID ? parseInt8 : oid === TIMESTAMPTZ_OID && format !== 'binary' ? parseTimestamptz : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that loses its connection emits 'error' on the pool; without a listener
    // that would crash the process instead of being retried on the next checkout.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, engine: 'postgres', pool, coordination: createCoordination(pool), close: () => db.destroy() };
  }

  let dataDir: string | undefined;
  let releaseLock = () => {};
  if (!opts.pgliteSnapshot && opts.pgliteDir) {
    mkdirSync(opts.pgliteDir, { recursive: true });
    dataDir = opts.pgliteDir;
    releaseLock = lockDataDir(dataDir);
  }
  try {
    // Loaded only here: the embedded engine's module costs ~50 MB of RSS, which a process on
    // PostgreSQL (every worker at scale) should not carry.
    const [{ PGlite }, { PGliteDialect }] = await Promise.all([import('@electric-sql/pglite'), import('kysely-pglite-dialect')]);
    const pglite = await PGlite.create({
      dataDir,
      loadDataDir: opts.pgliteSnapshot,
      parsers: { [INT8_OID]: parseInt8 },
    });
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    return {
      db,
      engine: 'pglite',
      dataDir,
      coordination: createCoordination(undefined),
      dumpDataDir: () => pglite.dumpDataDir('none'),
      close: async () => {
        await db.destroy();
        releaseLock();
      },
    };
  } catch (err) {
    releaseLock();
    throw err;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const lockPath = (dir: string) => path.join(dir, '.topic-alerts.lock');

/** The live process holding the embedded database in `dir` (other than this one), if any. */
export function embeddedDatabaseHolder(dir: string): number | undefined {
  let holder: number;
  try {
    holder = Number(readFileSync(lockPath(dir), 'utf8'));
  } catch {
    return undefined;
  }
  return Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder) ? holder : undefined;
}

/**
 * Embedded PGlite is single-process: a second process opening the same directory would see its
 * own copy and corrupt the files. A pid lock turns that into a clear error.
 */
function lockDataDir(dir: string): () => void {
  const lock = lockPath(dir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lock, 'utf8'));
      if (Number.isInteger(holder) && holder !== process.pid && processAlive(holder)) {
        throw new Error(
          `the embedded database in ${dir} is in use by process ${holder} (only one process can open it): ` +
            'stop that process first, or set DATABASE_URL to use PostgreSQL',
        );
      }
      rmSync(lock, { force: true }); // left by a process that died
    }
  }
  throw new Error(`could not lock the embedded database in ${dir}`);
}
