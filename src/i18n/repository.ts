import type { Kysely } from 'kysely';
import type { Database } from '../db/types.js';

export interface TextOverride {
  language: string;
  key: string;
  text: string;
  updatedBy: string | null;
  updatedAt: Date;
}

/** The publisher's own words: a reader-facing message overridden in one language. */
export class TextOverridesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async all(): Promise<TextOverride[]> {
    const rows = await this.db.selectFrom('text_overrides').select(['language', 'key', 'text', 'updated_by', 'updated_at']).orderBy('language').orderBy('key').execute();
    return rows.map((r) => ({ language: r.language, key: r.key, text: r.text, updatedBy: r.updated_by, updatedAt: r.updated_at }));
  }

  async set(language: string, key: string, text: string, by: string, now: Date): Promise<void> {
    await this.db
      .insertInto('text_overrides')
      .values({ language, key, text, updated_by: by, updated_at: now })
      .onConflict((oc) => oc.columns(['language', 'key']).doUpdateSet({ text, updated_by: by, updated_at: now }))
      .execute();
  }

  async remove(language: string, key: string): Promise<boolean> {
    const r = await this.db.deleteFrom('text_overrides').where('language', '=', language).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
