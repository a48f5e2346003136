import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest, MIGRATIONS_DIR } from '../../src/db/migrator.js';
import { withDatabase } from '../helpers/url.js';

// A migrated database is made once per run; every test file then gets its own copy of it:
// on PostgreSQL a `CREATE DATABASE … TEMPLATE`, on PGlite a restore of a data-dir snapshot.

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabase: { engine: 'postgres'; adminUrl: string; template: string } | { engine: 'pglite'; snapshotPath: string };
  }
}

function migrationsHash(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(MIGRATIONS_DIR).sort()) h.update(f).update(readFileSync(path.join(MIGRATIONS_DIR, f)));
  return h.digest('hex').slice(0, 12);
}

export default async function setup(project: TestProject) {
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    const template = `ta_template_${migrationsHash()}_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${template}`);
    const handle = await openDatabase({ url: withDatabase(url, template), poolSize: 2 });
    await migrateToLatest(handle.db);
    await handle.close();
    project.provide('testDatabase', { engine: 'postgres', adminUrl: url, template });
    return async () => {
      // Test files drop their own databases; the template goes last.
      await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
      await admin.end();
    };
  }

  const handle = await openDatabase({});
  await migrateToLatest(handle.db);
  const snapshotPath = path.join(tmpdir(), `topic-alerts-pglite-${process.pid}-${randomBytes(3).toString('hex')}.tar`);
  const blob = await handle.dumpDataDir!();
  writeFileSync(snapshotPath, Buffer.from(await blob.arrayBuffer()));
  await handle.close();
  project.provide('testDatabase', { engine: 'pglite', snapshotPath });
  return () => rmSync(snapshotPath, { force: true });
}
