import type { Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import { SystemRepository } from './system.js';

export interface Repositories {
  system: SystemRepository;
}

export function createRepositories(db: Kysely<Database>): Repositories {
  return {
    system: new SystemRepository(db),
  };
}
