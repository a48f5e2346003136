import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.js';

/** A version's text in one language. */
export interface TermsText {
  language: string;
  title: string;
  bodyMarkdown: string;
  bodySha256: string;
}

export interface TermsVersion extends TermsText {
  version: number;
  placeholder: boolean;
  publishedBy: string | null;
  publishedAt: Date;
  /** The same terms in other languages, each published once and never edited. */
  translations: TermsText[];
}

const COLUMNS = ['version', 'title', 'body_markdown', 'body_sha256', 'placeholder', 'published_by', 'published_at', 'language'] as const;

type Row = { version: number; title: string; body_markdown: string; body_sha256: string; placeholder: boolean; published_by: string | null; published_at: Date; language: string };

/** Published terms versions: never edited after publishing; the newest is in force. */
export class TermsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private select() {
    return this.db.selectFrom('terms_versions').select(COLUMNS);
  }

  /** The versions with their translations (one query for all of them). */
  private async withTexts(rows: Row[]): Promise<TermsVersion[]> {
    if (rows.length === 0) return [];
    const texts = await this.db
      .selectFrom('terms_texts')
      .select(['version', 'language', 'title', 'body_markdown', 'body_sha256'])
      .where('version', 'in', rows.map((r) => r.version))
      .orderBy('language')
      .execute();
    return rows.map((r) => ({
      version: r.version,
      language: r.language,
      title: r.title,
      bodyMarkdown: r.body_markdown,
      bodySha256: r.body_sha256,
      placeholder: r.placeholder,
      publishedBy: r.published_by,
      publishedAt: r.published_at,
      translations: texts.filter((t) => t.version === r.version).map((t) => ({ language: t.language, title: t.title, bodyMarkdown: t.body_markdown, bodySha256: t.body_sha256 })),
    }));
  }

  async current(): Promise<TermsVersion | undefined> {
    const r = await this.select().orderBy('version', 'desc').limit(1).executeTakeFirst();
    return r && (await this.withTexts([r]))[0];
  }

  async find(version: number): Promise<TermsVersion | undefined> {
    const r = await this.select().where('version', '=', version).executeTakeFirst();
    return r && (await this.withTexts([r]))[0];
  }

  async list(): Promise<TermsVersion[]> {
    return this.withTexts(await this.select().orderBy('version', 'desc').execute());
  }

  /** Publishes the next version number; concurrent publishers meet at the primary key. */
  async publish(t: TermsText & { placeholder: boolean; publishedBy: string; now: Date }): Promise<number> {
    const r = await this.db
      .insertInto('terms_versions')
      .values({
        version: sql<number>`(SELECT coalesce(max(version), 0) + 1 FROM terms_versions)`,
        title: t.title,
        body_markdown: t.bodyMarkdown,
        body_sha256: t.bodySha256,
        placeholder: t.placeholder,
        published_by: t.publishedBy,
        published_at: t.now,
        language: t.language,
      })
      .returning('version')
      .executeTakeFirstOrThrow();
    return r.version;
  }

  /** Adds a version's text in another language; false when it already has one (texts are never replaced). */
  async addTranslation(version: number, t: TermsText, by: string, now: Date): Promise<boolean> {
    const r = await this.db
      .insertInto('terms_texts')
      .values({ version, language: t.language, title: t.title, body_markdown: t.bodyMarkdown, body_sha256: t.bodySha256, published_by: by, published_at: now })
      .onConflict((oc) => oc.columns(['version', 'language']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }
}
