import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepositories, type Repositories } from '../../src/repositories/index.js';
import { event } from '../../src/webhooks/index.js';
import { newSecret } from '../../src/webhooks/repository.js';
import { createTestDatabase, testEngine, type TestDatabase } from '../helpers/db.js';
import { spawnService, type ServiceProcess } from '../helpers/process.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// Worker processes delivering webhooks from one PostgreSQL database, one of them killed with
// SIGKILL in the middle: nothing is lost, each subscriber's events still arrive in order, and
// what arrives twice is at most what the killed worker held. (On PGlite only one process can
// open the database; webhooks.test.ts covers a dead worker's claims there.)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(testEngine() === 'postgres')('webhook workers on PostgreSQL', () => {
  const SUBSCRIBERS = 150;
  const PER_SUBSCRIBER = 4;
  let db: TestDatabase;
  let repos: Repositories;
  const receiver = new WebhookReceiver();
  const workDir = mkdtempSync(path.join(tmpdir(), 'topic-alerts-webhooks-'));
  const workers: ServiceProcess[] = [];

  const spawnWorker = () => {
    const w = spawnService(
      {
        NODE_ENV: 'test',
        ROLES: 'worker',
        DATABASE_URL: db.url!,
        DEMO_SEED: 'false',
        LOG_LEVEL: 'warn',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_INTERVAL_SECONDS: '1',
        WEBHOOK_LEASE_SECONDS: '5',
        WEBHOOK_CONCURRENCY: '4',
      },
      workDir,
    );
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    repos = createRepositories(db.db);
    await sql`INSERT INTO terms_versions (version, title, body_markdown, body_sha256, placeholder) VALUES (1, 'Terms', 'Terms.', 'x', true)`.execute(db.db);
    await receiver.start();
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await receiver.stop();
    await db?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('a worker killed with SIGKILL mid-delivery loses nothing; order per subscriber holds', async () => {
    const secret = newSecret();
    receiver.secrets.push(secret);
    // Each answer takes a few ms, so the run lasts long enough to kill a worker in the middle.
    receiver.respond = async () => {
      await sleep(5);
      return 200;
    };
    const endpoint = await repos.webhooks.endpoints.create({ url: receiver.url, description: '', events: ['subscription.changed'], active: true, secret, now: new Date() });
    for (let n = 0; n < PER_SUBSCRIBER; n++) {
      await repos.transaction((r) =>
        r.webhooks.emit(
          Array.from({ length: SUBSCRIBERS }, (_, s) => event('subscription.changed', `subscriber:${s}`, { subscriberId: s, email: null, subscriptions: [], source: String(n) })),
          new Date(),
        ),
      );
    }
    const total = SUBSCRIBERS * PER_SUBSCRIBER;
    const victim = spawnWorker();
    const survivor = spawnWorker();
    const until = async (what: string, cond: () => boolean | Promise<boolean>, ms: number) => {
      const started = Date.now();
      while (!(await cond())) {
        if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}:\n${victim.output()}\n${survivor.output()}`);
        await sleep(50);
      }
    };
    await until('a quarter delivered', () => receiver.unique().length >= total / 4, 60_000);
    victim.child.kill('SIGKILL');
    const atKill = receiver.unique().length;
    await victim.exited;
    const delivered = async () => Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_messages WHERE endpoint_id = ${endpoint.id} AND status = 'delivered'`.execute(db.db)).rows[0]!.n);
    await until('every message delivered', async () => (await delivered()) === total, 60_000);

    const unique = receiver.unique();
    console.log(`webhooks: SIGKILL after ${atKill} of ${total}; all delivered; ${receiver.duplicates()} arrived twice`);
    expect(unique).toHaveLength(total);
    expect(receiver.received.every((w) => w.verifiedWith.length === 1)).toBe(true);
    // The killed worker held at most two claim batches (concurrency × 8 each: one being posted,
    // the next claimed ahead).
    expect(receiver.duplicates()).toBeLessThanOrEqual(64);
    for (let s = 0; s < SUBSCRIBERS; s++) {
      expect(unique.filter((w) => w.payload.data.subscriberId === s).map((w) => w.payload.data.source)).toEqual(['0', '1', '2', '3']);
    }
    survivor.child.kill('SIGTERM');
    expect((await survivor.exited).code).toBe(0);
  }, 120_000);
});
