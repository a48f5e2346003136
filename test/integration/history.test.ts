import { afterAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { createTestDatabase, testEngine, type TestDatabase } from '../helpers/db.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createMigrator, migrateToLatest } from '../../src/db/migrator.js';
import { formatRetention } from '../../src/history/commands.js';
import type { Database } from '../../src/db/types.js';

// Partitioned history (issue 19): an upgrade of a database with data moves every row into its
// month with its id; retention drops only expired months nothing needs, and the "never twice"
// guarantees hold after a drop.

const BEFORE = '20261203000100_webhook_hot_claims';
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

const count = async (db: Kysely<Database>, table: string) => Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(db)).rows[0]!.n);
const partitionsOf = async (db: Kysely<Database>, table: string) =>
  (await sql<{ name: string }>`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = ${table}::regclass ORDER BY 1`.execute(db)).rows.map((r) => r.name);

describe(`partitioned history on ${testEngine()}`, () => {
  it('an upgrade of a database with data keeps every row, in its month, with its id', async () => {
    const database: TestDatabase = await createTestDatabase({ migrated: false });
    cleanup.push(() => database.close());
    const db = database.db;
    const to = await createMigrator(db).migrateTo(BEFORE);
    expect(to.error).toBeUndefined();

    // The schema as it was: one subscriber, two articles (June and September), a sent digest
    // in June claiming both, a confirmation, a bounce on the digest, consent events.
    await sql`INSERT INTO subscribers (id, email, email_normalized, created_at) VALUES (7, 'a@example.com', 'a@example.com', '2026-06-01T08:00:00Z')`.execute(db);
    await sql`INSERT INTO articles (id, url, title, created_at) VALUES (11, 'https://news.example/june', 'June', '2026-06-14T10:00:00Z'), (12, 'https://news.example/sept', 'Sept', '2026-09-02T10:00:00Z')`.execute(db);
    await sql`INSERT INTO deliveries (id, kind, subscriber_id, to_address, idempotency_key, status, payload, message_id, created_at)
      VALUES (21, 'digest', 7, 'a@example.com', 'digest:7:daily:2026-06-15', 'sent', '{}', '<21@x>', '2026-06-15T07:00:00Z'),
             (22, 'confirmation', 7, 'a@example.com', 'confirmation:5', 'sent', '{}', '<22@x>', '2026-06-01T08:00:00Z'),
             (23, 'digest', 7, 'a@example.com', 'digest:7:instant:2026-09-02T10:05', 'queued', '{}', '<23@x>', '2026-09-02T10:05:00Z')`.execute(db);
    await sql`INSERT INTO sent_articles (subscriber_id, article_id, delivery_id, created_at) VALUES (7, 11, 21, '2026-06-15T07:00:00Z'), (7, 12, 23, '2026-09-02T10:05:00Z')`.execute(db);
    await sql`INSERT INTO sent_stories (subscriber_id, story_id, edition, delivery_id, created_at) VALUES (7, 11, 0, 21, '2026-06-15T07:00:00Z'), (7, 99, 0, 21, '2026-06-15T07:00:00Z')`.execute(db);
    await sql`INSERT INTO bounce_events (email_hash, delivery_id, kind) VALUES ('h', 21, 'soft')`.execute(db);
    await sql`INSERT INTO consent_events (id, subscriber_id, action, created_at) VALUES (31, 7, 'requested', '2026-06-01T08:00:00Z'), (32, 7, 'confirmed', '2026-06-01T08:05:00Z')`.execute(db);

    const up = await migrateToLatest(db);
    expect(up.applied).toContain('20261203000200_partitioned_history');

    const where = async (table: string, columns: string) => (await sql<Record<string, unknown>>`SELECT tableoid::regclass::text AS part, ${sql.raw(columns)} FROM ${sql.table(table)} ORDER BY 2, 3`.execute(db)).rows;
    expect(await where('deliveries', 'id, period_start::text AS period')).toEqual([
      { part: 'deliveries_p202606', id: 21, period: '2026-06-15' },
      { part: 'deliveries_p202606', id: 22, period: '2026-06-01' },
      { part: 'deliveries_p202609', id: 23, period: '2026-09-02' },
    ]);
    expect(await where('sent_articles', 'article_id, article_month::text AS month')).toEqual([
      { part: 'sent_articles_p202606', article_id: 11, month: '2026-06-01' },
      { part: 'sent_articles_p202609', article_id: 12, month: '2026-09-01' },
    ]);
    // Story 99 has no first article left: a fixed month, in the default partition.
    expect(await where('sent_stories', 'story_id, story_month::text AS month')).toEqual([
      { part: 'sent_stories_p202606', story_id: 11, month: '2026-06-01' },
      { part: 'sent_stories_default', story_id: 99, month: '1970-01-01' },
    ]);
    expect(await where('consent_events', 'id, action')).toEqual([
      { part: 'consent_events_p202606', id: 31, action: 'requested' },
      { part: 'consent_events_p202606', id: 32, action: 'confirmed' },
    ]);
    expect(await count(db, 'bounce_events')).toBe(1);
    // Months up to two ahead of today exist, and the identities continue after the copied ids.
    const ahead = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 2, 1)).toISOString().slice(0, 7).replace('-', '');
    expect(await partitionsOf(db, 'deliveries')).toContain(`deliveries_p${ahead}`);
    const next = await sql<{ id: number }>`INSERT INTO deliveries (kind, to_address, idempotency_key, payload, message_id) VALUES ('test', 'a@example.com', 'test:1', '{}', '<n@x>') RETURNING id`.execute(db);
    expect(next.rows[0]!.id).toBeGreaterThan(23);
    const ev = await sql<{ id: number }>`INSERT INTO consent_events (subscriber_id, action) VALUES (7, 'preferences-changed') RETURNING id`.execute(db);
    expect(ev.rows[0]!.id).toBeGreaterThan(32);

    // The guarantees, across partitions: the same digest key, the same claim, the same story
    // edition cannot be written twice; consent events still refuse to be rewritten.
    await expect(sql`INSERT INTO deliveries (kind, to_address, idempotency_key, payload, message_id, period_start) VALUES ('digest', 'a@example.com', 'digest:7:daily:2026-06-15', '{}', '<d@x>', '2026-06-15')`.execute(db)).rejects.toThrow();
    await expect(sql`INSERT INTO sent_articles (subscriber_id, article_id, delivery_id, article_month) VALUES (7, 11, 23, '2026-06-01')`.execute(db)).rejects.toThrow();
    await expect(sql`INSERT INTO sent_stories (subscriber_id, story_id, edition, delivery_id, story_month) VALUES (7, 11, 0, 23, '2026-06-01')`.execute(db)).rejects.toThrow();
    await expect(sql`UPDATE consent_events SET action = 'declined' WHERE id = 31`.execute(db)).rejects.toThrow(/append-only/);

    // And back down: the plain tables again, every row still there.
    const migrator = createMigrator(db);
    const down = await migrator.migrateTo(BEFORE);
    expect(down.error).toBeUndefined();
    expect((await sql<{ relkind: string }>`SELECT relkind FROM pg_class WHERE relname = 'deliveries'`.execute(db)).rows[0]!.relkind).toBe('r');
    expect([await count(db, 'deliveries'), await count(db, 'sent_articles'), await count(db, 'sent_stories'), await count(db, 'consent_events')]).toEqual([4, 2, 2, 3]);
  });

  describe('retention', () => {
    let app: TestApp;

    it('drops only expired months nothing needs; a dropped claim never lets an article through twice', async () => {
      app = await startTestApp({ DELIVERY_RETENTION: '60d', SENT_CLAIMS_RETENTION: '60d', CONSENT_RETENTION_AFTER_END: '60d' });
      cleanup.push(() => app.close());
      const db = app.db.db;
      const { history, scheduler } = app.ctx.services;

      // January 2027: Ana (still subscribed) and Ben (unsubscribed that month) signed up; Ana's
      // daily digest carried an article first seen in January.
      app.clock.set(new Date('2027-01-10T06:00:00Z'));
      await history.maintain();
      const topic = (await sql<{ id: number }>`INSERT INTO topics (slug, name, query, normalized_query) VALUES ('japan', 'Japan', 'japan', 'japan') RETURNING id`.execute(db)).rows[0]!.id;
      const ana = (await sql<{ id: number }>`INSERT INTO subscribers (email, email_normalized, time_zone, digest_hour, created_at) VALUES ('ana@example.com', 'ana@example.com', 'UTC', 5, '2027-01-02T08:00:00Z') RETURNING id`.execute(db)).rows[0]!.id;
      const ben = (await sql<{ id: number }>`INSERT INTO subscribers (email, email_normalized, time_zone, digest_hour, created_at) VALUES ('ben@example.com', 'ben@example.com', 'UTC', 5, '2027-01-02T08:00:00Z') RETURNING id`.execute(db)).rows[0]!.id;
      await sql`INSERT INTO subscriptions (subscriber_id, topic_id, status, frequency, requested_at, confirmed_at) VALUES (${ana}, ${topic}, 'active', 'daily', '2027-01-02T08:00:00Z', '2027-01-02T08:05:00Z'), (${ben}, ${topic}, 'unsubscribed', 'daily', '2027-01-02T08:00:00Z', '2027-01-02T08:05:00Z')`.execute(db);
      await sql`INSERT INTO consent_events (subscriber_id, action, created_at) VALUES (${ana}, 'requested', '2027-01-02T08:00:00Z'), (${ana}, 'confirmed', '2027-01-02T08:05:00Z'), (${ben}, 'requested', '2027-01-02T08:00:00Z'), (${ben}, 'confirmed', '2027-01-02T08:05:00Z'), (${ben}, 'withdrawn', '2027-01-20T08:00:00Z')`.execute(db);
      const old = (await sql<{ id: number }>`INSERT INTO articles (url, title, created_at, published_at) VALUES ('https://news.example/jan', 'Japan in January', '2027-01-09T09:00:00Z', '2027-01-09T09:00:00Z') RETURNING id`.execute(db)).rows[0]!.id;
      await sql`INSERT INTO matches (article_id, topic_id, matched_at) VALUES (${old}, ${topic}, '2027-01-09T09:01:00Z')`.execute(db);
      expect((await scheduler.run('test')).queued).toBe(1);
      await sql`UPDATE deliveries SET status = 'sent', sent_at = '2027-01-10T06:01:00Z'`.execute(db);

      // February: a digest that is still queued in September (the sender never got to it).
      app.clock.set(new Date('2027-02-10T06:00:00Z'));
      await history.maintain();
      await sql`INSERT INTO deliveries (kind, subscriber_id, to_address, idempotency_key, payload, message_id, created_at, period_start) VALUES ('digest', ${ana}, 'ana@example.com', 'digest:0:daily:2027-02-10', '{}', '<q@x>', '2027-02-10T06:00:00Z', '2027-02-10')`.execute(db);

      // September: January and February are past every 60-day horizon.
      app.clock.set(new Date('2027-09-15T06:00:00Z'));
      await history.maintain();
      const before = { deliveries: await count(db, 'deliveries'), claims: await count(db, 'sent_articles'), consent: await count(db, 'consent_events') };
      const dry = await history.retention(true);
      const t = Object.fromEntries(dry.tables.map((x) => [x.table, x]));
      // (With them go the empty months created around them, which expired too; which those are
      // depends on today's date, when the migration created its months.)
      const dropped = (table: string) => t[table]!.dropped.map((d) => d.name);
      expect(dropped('deliveries')).toContain('deliveries_p202701');
      expect(dropped('deliveries')).not.toContain('deliveries_p202702');
      for (const x of dry.tables) for (const d of x.dropped) expect(d.month < '2027-07').toBe(true);
      expect(t.deliveries!.kept).toEqual([expect.objectContaining({ name: 'deliveries_p202702', reason: '1 deliveries not sent yet' })]);
      expect(dropped('sent_articles')).toEqual(expect.arrayContaining(['sent_articles_p202701', 'sent_articles_p202702']));
      expect(dropped('sent_stories')).toContain('sent_stories_p202701');
      expect(dropped('consent_events')).not.toContain('consent_events_p202701');
      expect(t.consent_events!.kept.map((k) => k.name)).toEqual(['consent_events_p202701']);
      expect(t.consent_events!.rowsDeleted).toBe(3); // Ben's, ended in January
      expect(formatRetention(dry).result).toMatch(new RegExp(`^dry run: ${dry.tables.reduce((a, x) => a + x.dropped.length, 0)} partitions would drop`));
      expect(formatRetention(dry).notes).toContain('consent_events: would delete 3 events no longer needed from the months kept');
      // A dry run changes nothing.
      expect({ deliveries: await count(db, 'deliveries'), claims: await count(db, 'sent_articles'), consent: await count(db, 'consent_events') }).toEqual(before);

      const applied = await history.retention(false);
      expect(applied.tables.flatMap((x) => x.dropped.map((d) => d.name))).toEqual(dry.tables.flatMap((x) => x.dropped.map((d) => d.name)));
      expect(await partitionsOf(db, 'deliveries')).not.toContain('deliveries_p202701');
      // Kept: the unsent February digest, Ana's consent record; gone: Ben's.
      expect(await count(db, 'deliveries')).toBe(1);
      const consent = (await sql<{ subscriber_id: number; action: string }>`SELECT subscriber_id, action FROM consent_events ORDER BY id`.execute(db)).rows;
      expect(consent).toEqual([
        { subscriber_id: ana, action: 'requested' },
        { subscriber_id: ana, action: 'confirmed' },
      ]);

      // The January article matches again today (a topic edit re-matched it): its claim is gone
      // with its month, and it still does not reach Ana a second time. A fresh one does, once.
      await sql`UPDATE matches SET matched_at = '2027-09-15T05:00:00Z' WHERE article_id = ${old}`.execute(db);
      const fresh = (await sql<{ id: number }>`INSERT INTO articles (url, title, created_at, published_at) VALUES ('https://news.example/sept', 'Japan in September', '2027-09-15T04:00:00Z', '2027-09-15T04:00:00Z') RETURNING id`.execute(db)).rows[0]!.id;
      await sql`INSERT INTO matches (article_id, topic_id, matched_at) VALUES (${fresh}, ${topic}, '2027-09-15T04:01:00Z')`.execute(db);
      expect((await scheduler.run('test')).queued).toBe(1);
      expect((await scheduler.run('test')).queued).toBe(0);
      const claimed = (await sql<{ article_id: number }>`SELECT article_id FROM sent_articles ORDER BY article_id`.execute(db)).rows.map((r) => r.article_id);
      expect(claimed).toEqual([fresh]);

      // Erasure does what foreign keys used to (migrations/20261203000400): Ana's claims go, her
      // deliveries stay for the statistics without her id.
      expect(await count(db, 'sent_stories')).toBeGreaterThan(0);
      const sent = await count(db, 'deliveries');
      expect(await app.ctx.services.preferences.erase(ana, 'admin', 'test')).toBe(true);
      expect(await count(db, 'sent_articles')).toBe(0);
      expect(await count(db, 'sent_stories')).toBe(0);
      expect(await count(db, 'deliveries')).toBe(sent);
      expect((await sql`SELECT id FROM deliveries WHERE subscriber_id = ${ana}`.execute(db)).rows).toEqual([]);
    });
  });
});
