import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.js';

export interface TermsVersion {
  version: number;
  title: string;
  bodyMarkdown: string;
  bodySha256: string;
  placeholder: boolean;
  publishedBy: string | null;
  publishedAt: Date;
}

/** Published terms versions: never edited after publishing; the newest is in force. */
export class TermsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private select() {
    return this.db.selectFrom('terms_versions').select(['version', 'title', 'body_markdown', 'body_sha256', 'placeholder', 'published_by', 'published_at']);
  }

  private map(r: { version: number; title: string; body_markdown: string; body_sha256: string; placeholder: boolean; published_by: string | null; published_at: Date }): TermsVersion {
    return { version: r.version, title: r.title, bodyMarkdown: r.body_markdown, bodySha256: r.body_sha256, placeholder: r.placeholder, publishedBy: r.published_by, publishedAt: r.published_at };
  }

  async current(): Promise<TermsVersion | undefined> {
    const r = await this.select().orderBy('version', 'desc').limit(1).executeTakeFirst();
    return r && this.map(r);
  }

  async find(version: number): Promise<TermsVersion | undefined> {
    const r = await this.select().where('version', '=', version).executeTakeFirst();
    return r && this.map(r);
  }

  async list(): Promise<TermsVersion[]> {
    return (await this.select().orderBy('version', 'desc').execute()).map((r) => this.map(r));
  }

  /** Publishes the next version number; concurrent publishers meet at the primary key. */
  async publish(t: { title: string; bodyMarkdown: string; bodySha256: string; placeholder: boolean; publishedBy: string; now: Date }): Promise<TermsVersion> {
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
      })
      .returning(['version', 'title', 'body_markdown', 'body_sha256', 'placeholder', 'published_by', 'published_at'])
      .executeTakeFirstOrThrow();
    return this.map(r);
  }
}
