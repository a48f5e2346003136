import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigrator, migrateDown, migrateToLatest, pendingMigrations } from '../../src/db/migrator.js';
import { createTestDatabase, testEngine, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
});
afterAll(async () => {
  await database?.close();
});

async function tableNames(): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_name NOT LIKE 'schema_migrations%'
    ORDER BY table_name`.execute(database.db);
  return rows.map((r) => r.table_name);
}

describe(`migrations on ${testEngine()}`, () => {
  it('go up, all the way down, and up again', async () => {
    const all = (await createMigrator(database.db).getMigrations()).map((m) => m.name);
    expect(all.length).toBeGreaterThan(0);

    expect(await pendingMigrations(database.db)).toEqual(all);
    const first = await migrateToLatest(database.db);
    expect(first.applied).toEqual(all);
    expect(await pendingMigrations(database.db)).toEqual([]);
    const tables = await tableNames();
    for (const t of ['topics', 'articles', 'matches', 'subscribers', 'subscriptions', 'consent_events', 'terms_versions',
      'prompt_counts', 'deliveries', 'sent_articles', 'suppressions', 'admin_users', 'api_tokens', 'audit_log']) {
      expect(tables).toContain(t);
    }

    for (let i = all.length - 1; i >= 0; i--) {
      const down = await migrateDown(database.db);
      expect(down.applied).toEqual([all[i]]);
    }
    expect(await tableNames()).toEqual([]);
    expect((await migrateDown(database.db)).applied).toEqual([]);

    const again = await migrateToLatest(database.db);
    expect(again.applied).toEqual(all);
    expect(await tableNames()).toEqual(tables);
  });

  it('enforce the rules of the model with constraints', async () => {
    const db = database.db;
    const topic = await db.insertInto('topics').values({ slug: 'japan', name: 'Japan', query: 'japan', normalized_query: 'japan' })
      .returning('id').executeTakeFirstOrThrow();
    await expect(db.insertInto('topics').values({ slug: 'Not A Slug', name: 'x', query: 'x', normalized_query: 'x' }).execute()).rejects.toThrow();

    const sub = await db.insertInto('subscribers').values({ email: 'A@Example.com', email_normalized: 'a@example.com' })
      .returning('id').executeTakeFirstOrThrow();
    await expect(db.insertInto('subscribers').values({ email: 'a@example.com', email_normalized: 'a@example.com' }).execute())
      .rejects.toThrow();

    await db.insertInto('subscriptions').values({ subscriber_id: sub.id, topic_id: topic.id }).execute();
    await expect(db.insertInto('subscriptions').values({ subscriber_id: sub.id, topic_id: topic.id }).execute()).rejects.toThrow();

    const article = await db.insertInto('articles').values({ url: 'https://news.example/a', title: 'A' }).returning('id').executeTakeFirstOrThrow();
    const delivery = await db.insertInto('deliveries')
      .values({ kind: 'digest', subscriber_id: sub.id, to_address: 'a@example.com', idempotency_key: 'digest:1:daily:2026-11-25', payload: '{}', message_id: '<1@x>' })
      .returning('id').executeTakeFirstOrThrow();
    await expect(db.insertInto('deliveries')
      .values({ kind: 'digest', subscriber_id: sub.id, to_address: 'a@example.com', idempotency_key: 'digest:1:daily:2026-11-25', payload: '{}', message_id: '<2@x>' })
      .execute()).rejects.toThrow();

    await db.insertInto('sent_articles').values({ subscriber_id: sub.id, article_id: article.id, delivery_id: delivery.id, article_month: '2026-12-01' }).execute();
    await expect(db.insertInto('sent_articles').values({ subscriber_id: sub.id, article_id: article.id, delivery_id: delivery.id, article_month: '2026-12-01' }).execute())
      .rejects.toThrow();

    await db.insertInto('terms_versions').values({ version: 1, title: 'Terms', body_markdown: 'x', body_sha256: 'h' }).execute();
    await expect(db.updateTable('terms_versions').set({ body_markdown: 'changed' }).where('version', '=', 1).execute())
      .rejects.toThrow(/append-only/);

    const event = await db.insertInto('consent_events').values({ subscriber_id: sub.id, action: 'requested', terms_version: 1,
      terms_sha256: 'h', consent_text: 'I agree', consent_mode: 'checkbox', source_url: null, form: 'api', ip: null, user_agent: null })
      .returning('id').executeTakeFirstOrThrow();
    await expect(db.updateTable('consent_events').set({ consent_text: 'rewritten' }).where('id', '=', event.id).execute())
      .rejects.toThrow(/append-only/);
  });
});
