import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/context.js';
import { openDatabase } from '../../src/db/database.js';
import type { Database } from '../../src/db/types.js';
import { createLogger } from '../../src/logger.js';
import { DigestScheduler } from '../../src/services/digests.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, testEngine, type TestDatabase } from '../helpers/db.js';
import { spawnService, type ServiceProcess } from '../helpers/process.js';
import { ensureArticles, queueDeliveries, Sink, sleep, statusCounts, waitUntil } from '../helpers/sink.js';

// The sending pipeline under faults: several workers, a killed worker, a relay that defers,
// rejects or goes away, and racing schedulers. Every test prints what it measured.

// ------------------------------------------------------------------------------------------
// Several worker processes on one PostgreSQL database.

describe.runIf(testEngine() === 'postgres')('worker processes on PostgreSQL', () => {
  const BATCH = 50;
  let db: TestDatabase;
  let sink: Sink;
  const workDir = mkdtempSync(path.join(tmpdir(), 'topic-alerts-faults-'));
  const workers: ServiceProcess[] = [];

  const spawnWorker = (extra: Record<string, string> = {}) => {
    const w = spawnService(
      {
        NODE_ENV: 'test',
        ROLES: 'worker',
        DATABASE_URL: db.url!,
        SMTP_URL: sink.url,
        MAIL_FROM: 'alerts@news.example',
        SEND_INTERVAL_SECONDS: '1',
        SEND_BATCH_SIZE: String(BATCH),
        SEND_LEASE_SECONDS: '5',
        DEMO_SEED: 'false',
        LOG_LEVEL: 'warn',
        ...extra,
      },
      workDir,
    );
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = new Sink();
    await sink.start();
    await ensureArticles(db.db);
    // Terms exist before three processes start at once (each would otherwise publish the placeholder).
    await sql`INSERT INTO terms_versions (version, title, body_markdown, body_sha256, placeholder) VALUES (1, 'Terms', 'Terms.', 'x', true)`.execute(db.db);
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await sink?.stop();
    await db?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('three workers share 5,000 due deliveries: each is sent exactly once', async () => {
    const ids = await queueDeliveries(db.db, 'three', 5000, new Date(Date.now() - 60_000));
    const started = Date.now();
    const procs = [spawnWorker(), spawnWorker(), spawnWorker()];
    const ms = await waitUntil('5,000 deliveries sent', async () => (await statusCounts(db.db, ids)).sent === ids.length, 90_000, procs);
    const { duplicates, missing } = sink.tally(ids);
    console.log(
      `3 workers: ${ids.length} deliveries sent in ${((Date.now() - started) / 1000).toFixed(1)} s including start-up ` +
        `(${ms} ms after spawning), SMTP accepted ${sink.acceptedTotal}, duplicates ${duplicates}, missing ${missing}`,
    );
    expect(await statusCounts(db.db, ids)).toEqual({ sent: ids.length });
    expect(duplicates).toBe(0);
    expect(missing).toBe(0);
    for (const w of procs) w.child.kill('SIGTERM');
    const exits = await Promise.all(procs.map((w) => w.exited));
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
  }, 120_000);

  it('a worker killed with SIGKILL mid-run loses nothing; duplicates are at most its claim batch', async () => {
    const ids = await queueDeliveries(db.db, 'kill', 3000, new Date(Date.now() - 60_000));
    const before = sink.acceptedTotal;
    // A rate limit makes the run last long enough to kill it in the middle.
    const victim = spawnWorker({ SEND_RATE_PER_SECOND: '250' });
    const survivor = spawnWorker({ SEND_RATE_PER_SECOND: '250' });
    await waitUntil('a third of the mail sent', async () => sink.acceptedTotal - before >= 1000, 60_000, [victim, survivor]);
    const held = await db.db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('id', 'in', ids).where('status', '=', 'sending').executeTakeFirstOrThrow();
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    const atKill = sink.acceptedTotal - before;
    await victim.exited;
    const replacement = spawnWorker();
    await waitUntil('every delivery sent', async () => (await statusCounts(db.db, ids)).sent === ids.length, 90_000, [survivor, replacement]);
    const { duplicates, missing } = sink.tally(ids);
    console.log(
      `SIGKILL after ${atKill} of ${ids.length} accepted (${Number(held.n)} rows held by workers at that moment); ` +
        `all sent ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill; duplicates ${duplicates} (limit ${BATCH}), missing ${missing}`,
    );
    expect(await statusCounts(db.db, ids)).toEqual({ sent: ids.length });
    expect(missing).toBe(0);
    expect(duplicates).toBeLessThanOrEqual(BATCH);
    survivor.child.kill('SIGTERM');
    replacement.child.kill('SIGTERM');
    await Promise.all([survivor.exited, replacement.exited]);
  }, 150_000);
});

// ------------------------------------------------------------------------------------------
// One service in this process, on either engine: the relay defers, rejects and goes away.

describe('the sender against a faulty relay', () => {
  let sink: Sink;
  let app: TestApp;

  beforeAll(async () => {
    sink = new Sink();
    await sink.start();
    app = await startTestApp({ SMTP_URL: sink.url, SEND_RETRY_BASE_SECONDS: '1', MAIL_FROM: 'alerts@news.example', SEND_BATCH_SIZE: '50' });
    app.clock.set(new Date());
    await ensureArticles(app.ctx.database.db);
  });
  afterAll(async () => {
    await app?.close();
    await sink?.stop();
  });

  it('retries 451 deferrals until all are sent; a 550 bounces, suppresses the address and is never retried', async () => {
    const db = app.ctx.database.db;
    const ids = await queueDeliveries(db, 'defer', 250, app.clock.now());
    const rejected = await queueDeliveries(db, 'reject', 10, app.clock.now(), 'bad.example');
    let messages = 0;
    sink.onMessage = () => (++messages % 5 === 0 ? { code: 451, message: '4.3.0 Try again later' } : undefined);
    sink.onRcpt = (a) => (a.endsWith('@bad.example') ? { code: 550, message: '5.1.1 No such user' } : undefined);
    const { sender } = app.ctx.services;
    let rounds = 0;
    const totals = { sent: 0, retried: 0, bounced: 0 };
    for (; rounds < 40; rounds++) {
      const s = await sender.runOnce();
      totals.sent += s.sent;
      totals.retried += s.retried;
      totals.bounced += s.bounced;
      const counts = await statusCounts(db, [...ids, ...rejected]);
      if (counts.sent === ids.length && counts.bounced === rejected.length) break;
      app.clock.advance(5_000); // past the back-off (1 s base, doubling, jitter)
    }
    sink.onMessage = () => undefined;
    sink.onRcpt = () => undefined;

    const { duplicates, missing } = sink.tally(ids);
    const attempts = await db.selectFrom('deliveries').select(['attempts']).where('id', 'in', ids).execute();
    const maxAttempts = Math.max(...attempts.map((a) => a.attempts));
    const rcptPerRejected = rejected.map((_, i) => sink.rcpt.get(`reject-${i + 1}@bad.example`) ?? 0);
    console.log(
      `451 to every 5th message: ${sink.deferred} deferrals over ${rounds + 1} send rounds, ${totals.sent} sent, ` +
        `max attempts ${maxAttempts}, duplicates ${duplicates}, missing ${missing}; 550: ${totals.bounced} bounced, RCPT attempts per rejected address ${JSON.stringify([...new Set(rcptPerRejected)])}`,
    );
    expect(sink.deferred).toBeGreaterThanOrEqual(50);
    expect(await statusCounts(db, ids)).toEqual({ sent: ids.length });
    expect(duplicates).toBe(0);
    expect(missing).toBe(0);
    expect(maxAttempts).toBeGreaterThan(1);
    expect(await statusCounts(db, rejected)).toEqual({ bounced: rejected.length });
    expect(rcptPerRejected.every((n) => n === 1)).toBe(true);
    for (let i = 1; i <= rejected.length; i++) {
      expect(await app.ctx.repos.suppressions.isSuppressed(app.ctx.links.signer.emailHash(`reject-${i}@bad.example`))).toBe(true);
    }
    // Never retried, and a new mail to a suppressed address is not even tried.
    const again = await queueDeliveries(db, 'reject-again', 1, app.clock.now(), 'bad.example');
    await db.updateTable('deliveries').set({ to_address: 'reject-1@bad.example' }).where('id', '=', again[0]!).execute();
    app.clock.advance(3_600_000);
    await sender.runOnce();
    expect(rcptPerRejected.reduce((a, b) => a + b, 0)).toBe(rejected.length);
    expect(sink.rcpt.get('reject-1@bad.example')).toBe(1);
    expect(await statusCounts(db, again)).toEqual({ cancelled: 1 });
  }, 60_000);

  it('pauses while the relay is down for 30 s, resumes by itself and loses nothing', async () => {
    const db = app.ctx.database.db;
    app.clock.set(new Date());
    const ids = await queueDeliveries(db, 'outage', 400, app.clock.now());
    const before = sink.acceptedTotal;
    const OUTAGE_MS = 30_000;
    let downAt = 0;
    let upAt = 0;
    let reopening: Promise<void> | undefined;
    // The relay goes away after 100 of these messages: new mail gets 421, then the server closes
    // and comes back on the same port 30 s later.
    sink.afterAccept = (total) => {
      if (total - before < 100 || downAt) return;
      downAt = Date.now();
      sink.onMessage = () => ({ code: 421, message: '4.3.2 Service shutting down' });
      reopening = (async () => {
        await sink.stop();
        await sleep(OUTAGE_MS - (Date.now() - downAt));
        sink.onMessage = () => undefined;
        await sink.start();
        upAt = Date.now();
      })();
    };
    const { sender } = app.ctx.services;
    let pausedSeenAt = 0;
    let firstAfterUp = 0;
    const deadline = Date.now() + 100_000;
    while (Date.now() < deadline) {
      app.clock.set(new Date());
      await sender.runOnce();
      const state = sender.state();
      if (state.paused && !pausedSeenAt) {
        pausedSeenAt = Date.now();
        console.log(`sender paused ${pausedSeenAt - downAt} ms after the relay went down (until ${state.pausedUntil?.toISOString()})`);
      }
      if (upAt && !firstAfterUp && sink.acceptedTotal - before > 100) firstAfterUp = Date.now();
      if ((await statusCounts(db, ids)).sent === ids.length) break;
      await sleep(500);
    }
    await reopening;
    sink.afterAccept = () => {};
    const { duplicates, missing } = sink.tally(ids);
    const state = sender.state();
    const attempts = await db.selectFrom('deliveries').select(['attempts']).where('id', 'in', ids).execute();
    console.log(
      `relay down ${((upAt - downAt) / 1000).toFixed(1)} s; sender paused ${state.pauses} time(s); first mail accepted ` +
        `${((firstAfterUp - upAt) / 1000).toFixed(1)} s after the relay came back; all ${ids.length} sent ` +
        `${((Date.now() - downAt) / 1000).toFixed(1)} s after the outage began; max attempts ${Math.max(...attempts.map((a) => a.attempts))}; ` +
        `duplicates ${duplicates}, missing ${missing}`,
    );
    expect(downAt).toBeGreaterThan(0);
    expect(pausedSeenAt).toBeGreaterThan(0);
    expect(state.pauses).toBeGreaterThan(0);
    expect(state.paused).toBe(false);
    expect(upAt).toBeGreaterThan(0);
    expect(await statusCounts(db, ids)).toEqual({ sent: ids.length });
    expect(duplicates).toBe(0);
    expect(missing).toBe(0);
  }, 120_000);
});

// ------------------------------------------------------------------------------------------
// Racing schedulers: the idempotency key and sent_articles keep a digest queued once.

describe('schedulers racing', () => {
  let app: TestApp;
  const NOW = new Date('2026-11-23T09:30:00Z'); // past the subscribers' 08:00 UTC daily slot

  beforeAll(async () => {
    app = await startTestApp({ MAIL_FROM: 'alerts@news.example', SCHEDULER_BATCH_SIZE: '10' });
    app.clock.set(NOW);
  });
  afterAll(async () => {
    await app?.close();
  });

  /** `n` daily subscribers to three topics each, with matches due; returns the expected (subscriber, article) pairs. */
  async function seedCohort(db: Kysely<Database>, cohort: string, n: number): Promise<number> {
    const topics = await sql<{ id: number }>`
      INSERT INTO topics (slug, name, query, normalized_query)
      SELECT ${cohort} || '-t' || g, 'Topic ' || g, ${cohort} || g, ${cohort} || g FROM generate_series(1, 3) g
      RETURNING id`.execute(db);
    const topicIds = topics.rows.map((t) => Number(t.id));
    const articles = await sql<{ id: number }>`
      INSERT INTO articles (url, title, summary, published_at)
      SELECT 'https://news.example/' || ${cohort} || '/' || g, 'Story ' || g, 'Summary ' || g, ${new Date('2026-11-23T06:00:00Z')}
      FROM generate_series(1, 6) g
      RETURNING id`.execute(db);
    const articleIds = articles.rows.map((a) => Number(a.id));
    // article i matches topic i % 3, and article 1 matches every topic (must still appear once)
    const pairs = articleIds.flatMap((a, i) => (i === 0 ? topicIds.map((t) => [a, t]) : [[a, topicIds[i % 3]!]]));
    for (const [a, t] of pairs) {
      await sql`INSERT INTO matches (article_id, topic_id, matched_at) VALUES (${a}, ${t}, ${new Date('2026-11-23T06:05:00Z')})`.execute(db);
    }
    await sql`
      INSERT INTO subscribers (email, email_normalized, time_zone, digest_hour)
      SELECT ${cohort} || '-' || g || '@example.com', ${cohort} || '-' || g || '@example.com', 'UTC', 8 FROM generate_series(1, ${n}::int) g`.execute(db);
    await sql`
      INSERT INTO subscriptions (subscriber_id, topic_id, status, frequency, requested_at, confirmed_at)
      SELECT s.id, t.id, 'active', 'daily', ${new Date('2026-11-20T00:00:00Z')}, ${new Date('2026-11-20T00:00:00Z')}
      FROM subscribers s CROSS JOIN topics t
      WHERE s.email LIKE ${`${cohort}-%`} AND t.slug LIKE ${`${cohort}-t%`}`.execute(db);
    return n * articleIds.length;
  }

  async function digestCounts(db: Kysely<Database>, cohort: string) {
    const d = await sql<{ deliveries: number; keys: number; subscribers: number }>`
      SELECT count(*) AS deliveries, count(DISTINCT idempotency_key) AS keys, count(DISTINCT subscriber_id) AS subscribers
      FROM deliveries WHERE kind = 'digest' AND to_address LIKE ${`${cohort}-%`}`.execute(db);
    const sa = await sql<{ n: number; pairs: number; deliveries: number }>`
      SELECT count(*) AS n, count(DISTINCT (sa.subscriber_id, sa.article_id)) AS pairs, count(DISTINCT sa.delivery_id) AS deliveries
      FROM sent_articles sa JOIN subscribers s ON s.id = sa.subscriber_id WHERE s.email LIKE ${`${cohort}-%`}`.execute(db);
    const r = { ...d.rows[0]!, ...sa.rows[0]! };
    return {
      deliveries: Number(r.deliveries),
      keys: Number(r.keys),
      subscribers: Number(r.subscribers),
      sentArticles: Number(sa.rows[0]!.n),
      pairs: Number(r.pairs),
      sentArticleDeliveries: Number(r.deliveries),
    };
  }

  it('two schedulers at once (with and without the advisory lock), and one run twice, queue each digest once', async () => {
    const { ctx } = app;
    const db = ctx.database.db;
    const N = 120;

    // 1. The service's own schedulers, twice at once: on PostgreSQL two contexts (two pools,
    //    the advisory lock); on PGlite two calls on one context.
    const expectedA = await seedCohort(db, 'lock', N);
    let second = ctx;
    if (testEngine() === 'postgres') {
      second = await createContext(app.config, { database: await openDatabase({ url: app.db.url!, poolSize: 4 }), clock: app.clock, logger: createLogger('silent') });
    }
    const runs = await Promise.all([ctx.services.scheduler.run('test'), second.services.scheduler.run('test')]);
    const rerun = await ctx.services.scheduler.run('test');
    const locked = await digestCounts(db, 'lock');
    console.log(
      `two schedulers at once: ${runs.map((r) => (r.skipped ? 'skipped (lock held)' : `run ${r.runId} queued ${r.queued}`)).join(', ')}; then a rerun queued ${rerun.queued}; ` +
        `deliveries ${locked.deliveries} (distinct keys ${locked.keys}) for ${N} subscribers, sent_articles ${locked.sentArticles} of ${expectedA} expected`,
    );
    // A run that joined another (same process) reports that run: count each run once.
    const distinctRuns = [...new Map(runs.map((r) => [r.runId ?? Symbol('skipped'), r])).values()];
    expect(distinctRuns.reduce((a, r) => a + r.queued, 0)).toBe(N);
    expect(rerun.queued).toBe(0);
    expect(locked).toEqual({ deliveries: N, keys: N, subscribers: N, sentArticles: expectedA, pairs: expectedA, sentArticleDeliveries: N });

    // 2. No lock at all: two schedulers without the advisory lock race batch by batch (batch
    //    size 10); only the unique keys stand between them and a double queueing.
    const expectedB = await seedCohort(db, 'race', N);
    const opts = { instantBatchMinutes: 5, batchSize: 10, mailDomain: 'news.example', claimsRetentionMs: ctx.config.history.claimsRetentionMs };
    const a = new DigestScheduler(ctx.repos, ctx.links.signer, ctx.clock, ctx.logger, opts);
    const b = new DigestScheduler(second.repos, second.links.signer, second.clock, second.logger, opts);
    const raced = await Promise.all([a.run('test'), b.run('test'), a.run('test')]);
    const again = await Promise.all([a.run('test'), b.run('test')]);
    const race = await digestCounts(db, 'race');
    console.log(
      `two schedulers without the lock: queued ${raced.map((r) => r.queued).join(' + ')} (a third call joined the first), ` +
        `then ${again.map((r) => r.queued).join(' + ')}; deliveries ${race.deliveries} (distinct keys ${race.keys}), sent_articles ${race.sentArticles} of ${expectedB}`,
    );
    expect(raced[0]!.queued + raced[1]!.queued).toBe(N);
    expect(again.reduce((x, r) => x + r.queued, 0)).toBe(0);
    expect(race).toEqual({ deliveries: N, keys: N, subscribers: N, sentArticles: expectedB, pairs: expectedB, sentArticleDeliveries: N });
    // Each digest lists each article once, though article 1 matched all three topics.
    const payload = (await ctx.repos.deliveries.list({ kind: 'digest', limit: 1 }))[0]!.payload as { sections: { articleIds: number[] }[] };
    const listed = payload.sections.flatMap((s) => s.articleIds);
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed).toHaveLength(6);

    if (second !== ctx) await second.close();
  }, 60_000);
});
