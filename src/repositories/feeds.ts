import { sql, type Kysely } from 'kysely';
import type { Database, FeedRow } from '../db/types.js';

export interface Feed {
  id: number;
  url: string;
  name: string;
  defaultSection: string | null;
  defaultTags: string[];
  etag: string | null;
  lastModified: string | null;
  nextPollAt: Date;
  lastPolledAt: Date | null;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  consecutiveFailures: number;
  itemsSeen: number;
  createdAt: Date;
}

const COLUMNS = [
  'id', 'url', 'name', 'default_section', 'default_tags', 'etag', 'last_modified', 'next_poll_at',
  'last_polled_at', 'last_success_at', 'last_error', 'last_error_at', 'consecutive_failures', 'items_seen', 'created_at',
] as const;

function toFeed(r: Pick<FeedRow, (typeof COLUMNS)[number]>): Feed {
  return {
    id: r.id,
    url: r.url,
    name: r.name,
    defaultSection: r.default_section,
    defaultTags: r.default_tags,
    etag: r.etag,
    lastModified: r.last_modified,
    nextPollAt: r.next_poll_at,
    lastPolledAt: r.last_polled_at,
    lastSuccessAt: r.last_success_at,
    lastError: r.last_error,
    lastErrorAt: r.last_error_at,
    consecutiveFailures: r.consecutive_failures,
    itemsSeen: r.items_seen,
    createdAt: r.created_at,
  };
}

export class FeedsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<Feed[]> {
    return (await this.db.selectFrom('feeds').select(COLUMNS).orderBy('id').execute()).map(toFeed);
  }

  async find(id: number): Promise<Feed | undefined> {
    const r = await this.db.selectFrom('feeds').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    return r && toFeed(r);
  }

  /** Undefined when the URL is already registered. */
  async insert(f: { url: string; name: string; defaultSection: string | null; defaultTags: string[]; nextPollAt: Date }): Promise<Feed | undefined> {
    const r = await this.db
      .insertInto('feeds')
      .values({ url: f.url, name: f.name, default_section: f.defaultSection, default_tags: f.defaultTags, next_poll_at: f.nextPollAt })
      .onConflict((oc) => oc.column('url').doNothing())
      .returning(COLUMNS)
      .executeTakeFirst();
    return r && toFeed(r);
  }

  async delete(id: number): Promise<boolean> {
    const r = await this.db.deleteFrom('feeds').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * Claims up to `limit` feeds that are due, pushing their next poll out by the lease so no
   * other worker claims them meanwhile. A worker that dies mid-poll simply lets the lease run
   * out: the feed is due again then. Safe with several workers (SKIP LOCKED).
   */
  async claimDue(now: Date, leaseMs: number, limit: number): Promise<Feed[]> {
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const rows = await this.db
      .updateTable('feeds')
      .set({ next_poll_at: leaseUntil, lease_expires_at: leaseUntil, last_polled_at: now })
      .where(
        'id',
        'in',
        this.db
          .selectFrom('feeds')
          .select('id')
          .where('next_poll_at', '<=', now)
          .orderBy('next_poll_at')
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .returning(COLUMNS)
      .execute();
    return rows.map(toFeed);
  }

  async recordSuccess(id: number, r: { now: Date; nextPollAt: Date; etag: string | null; lastModified: string | null; items: number }): Promise<void> {
    await this.db
      .updateTable('feeds')
      .set({
        etag: r.etag,
        last_modified: r.lastModified,
        next_poll_at: r.nextPollAt,
        lease_expires_at: null,
        last_success_at: r.now,
        consecutive_failures: 0,
        items_seen: sql<number>`items_seen + ${r.items}`,
      })
      .where('id', '=', id)
      .execute();
  }

  async recordFailure(id: number, r: { now: Date; nextPollAt: Date; error: string }): Promise<void> {
    await this.db
      .updateTable('feeds')
      .set({
        next_poll_at: r.nextPollAt,
        lease_expires_at: null,
        last_error: r.error.slice(0, 1000),
        last_error_at: r.now,
        consecutive_failures: sql<number>`consecutive_failures + 1`,
      })
      .where('id', '=', id)
      .execute();
  }
}
