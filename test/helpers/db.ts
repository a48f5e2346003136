import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { withDatabase } from './url.js';

export interface TestDatabase extends DatabaseHandle {
  /** postgres:// URL of this file's database (PostgreSQL only), for child processes. */
  url?: string;
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database for one test file. `migrated: false` gives an empty one (migration tests).
 * close() drops it on PostgreSQL; on PGlite it lives in memory and goes with the instance.
 */
export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const migrated = opts.migrated ?? true;
  const info = inject('testDatabase');
  if (info.engine === 'postgres') {
    const name = `ta_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(info.adminUrl, migrated ? `CREATE DATABASE ${name} TEMPLATE ${info.template}` : `CREATE DATABASE ${name}`);
    const url = withDatabase(info.adminUrl, name);
    const handle = await openDatabase({ url, poolSize: 5 });
    return {
      ...handle,
      url,
      async close() {
        await handle.close();
        await adminQuery(info.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
    };
  }
  if (!migrated) return openDatabase({});
  const snapshot = new Blob([readFileSync(info.snapshotPath)]);
  return openDatabase({ pgliteSnapshot: snapshot });
}

export const testEngine = (): 'postgres' | 'pglite' => inject('testDatabase').engine;
