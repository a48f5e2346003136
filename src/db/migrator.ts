import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

const MIGRATION_FILE = /^\d{14}_[\w-]+\.(ts|js|mjs)$/;

// Kysely's FileMigrationProvider imports from inside node_modules, where a loader for .ts
// files (tsx, vitest) does not apply; importing from here does.
class MigrationFolder implements MigrationProvider {
  constructor(private readonly folder: string) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const file of (await fs.readdir(this.folder)).filter((f) => MIGRATION_FILE.test(f)).sort()) {
      const mod = (await import(pathToFileURL(path.join(this.folder, file)).href)) as Migration;
      if (typeof mod.up !== 'function' || typeof mod.down !== 'function') {
        throw new Error(`migration ${file} must export up() and down()`);
      }
      migrations[file.replace(/\.(ts|js|mjs)$/, '')] = { up: mod.up, down: mod.down };
    }
    return migrations;
  }
}

export function createMigrator(db: Kysely<any>, migrationFolder = MIGRATIONS_DIR): Migrator {
  return new Migrator({
    db,
    provider: new MigrationFolder(migrationFolder),
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
  });
}

export interface MigrationOutcome {
  applied: string[];
  direction: 'up' | 'down';
}

function unwrap(result: MigrationResultSet, direction: 'up' | 'down'): MigrationOutcome {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const cause = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(failed ? `migration ${failed.migrationName} failed: ${cause}` : `migrations failed: ${cause}`);
  }
  return { applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName), direction };
}

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationOutcome> {
  return unwrap(await createMigrator(db).migrateToLatest(), 'up');
}

export async function migrateDown(db: Kysely<any>): Promise<MigrationOutcome> {
  return unwrap(await createMigrator(db).migrateDown(), 'down');
}

/** Names of migrations present on disk but not applied: readiness fails while any remain. */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const all = await createMigrator(db).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
