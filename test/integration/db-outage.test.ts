import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/types.js';
import { testEngine } from '../helpers/db.js';
import { freePort, postgresBin, startOwnPostgres, type OwnPostgres } from '../helpers/own-postgres.js';
import { spawnService, waitFor200, type ServiceProcess } from '../helpers/process.js';
import { ensureArticles, queueDeliveries, Sink, sleep, statusCounts, waitUntil } from '../helpers/sink.js';

// The database goes away and comes back. Three workers are sending 5,000 deliveries and readers
// keep signing up when PostgreSQL is stopped for OUTAGE_MS and started again: while it is down,
// signups get 503 with Retry-After (never a 500) and /readyz says not ready; afterwards workers
// and the topic-change listeners reconnect by themselves, every signup that got 202 is there,
// and every delivery is sent once (duplicates at most what the workers held in flight).
// PostgreSQL only (the embedded database cannot go away), on a server of the test's own.

const OUTAGE_MS = 30_000;
const BATCH = 20;
const WORKERS = 3;
const DELIVERIES = 5000;
const runs = testEngine() === 'postgres' && postgresBin() !== undefined;
if (testEngine() === 'postgres' && !runs) console.warn('db-outage: skipped, no PostgreSQL server binaries (initdb, pg_ctl) to run a server of its own');

describe.runIf(runs)('PostgreSQL stopped for 30 s while workers send and readers sign up', () => {
  let server: OwnPostgres;
  let db: Kysely<Database>;
  let sink: Sink;
  let web: ServiceProcess;
  let webUrl: string;
  const workers: ServiceProcess[] = [];
  const workDir = mkdtempSync(path.join(tmpdir(), 'topic-alerts-outage-'));
  const spawn = (env: Record<string, string>) =>
    spawnService(
      {
        NODE_ENV: 'test',
        DATABASE_URL: server.url,
        SMTP_URL: sink.url,
        MAIL_FROM: 'alerts@news.example',
        SECRET_KEY: 'outage-test-secret-key-0123456789abcdef',
        SEND_INTERVAL_SECONDS: '1',
        SEND_BATCH_SIZE: String(BATCH),
        SEND_LEASE_SECONDS: '5',
        SIGNUP_RATE_LIMIT: '100000',
        DEMO_SEED: 'false',
        LOG_LEVEL: 'error',
        ...env,
      },
      workDir,
    );

  beforeAll(async () => {
    server = await startOwnPostgres('alerts');
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: server.url, max: 2 }) }) });
    sink = new Sink();
    await sink.start();
    const port = await freePort();
    webUrl = `http://127.0.0.1:${port}`;
    // The web process migrates the database on start; the workers come once it is ready.
    web = spawn({ ROLES: 'web', PORT: String(port), BASE_URL: webUrl });
    await waitFor200(`${webUrl}/readyz`, 60_000, web);
    await sql`INSERT INTO topics (slug, name, query, normalized_query) VALUES ('japan', 'Japan', 'japan', 'japan')`.execute(db);
    await ensureArticles(db);
  }, 120_000);

  afterAll(async () => {
    for (const p of [web, ...workers]) if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all([web, ...workers].filter(Boolean).map((p) => p.exited));
    await db?.destroy();
    await sink?.stop();
    server?.destroy();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while it is down, loses no signup and sends every delivery once', async () => {
    // A form token as the box gets it (the time trap wants it 2 s old before it is used).
    let token: { formToken: string; termsVersion: number } | undefined;
    await waitUntil('the topic in the box', async () => {
      const c = (await (await fetch(`${webUrl}/api/v1/widget-config?topics=japan`)).json()) as { formToken: string; consent: { termsVersion: number }; topics: unknown[] };
      token = { formToken: c.formToken, termsVersion: c.consent.termsVersion };
      return c.topics.length === 1;
    }, 20_000);
    await sleep(2100);

    const ids = await queueDeliveries(db, 'outage', DELIVERIES, new Date(Date.now() - 60_000));
    // A rate per worker so that the run spans the outage.
    for (let i = 0; i < WORKERS; i++) workers.push(spawn({ ROLES: 'worker', SEND_RATE_PER_SECOND: '100' }));

    // Readers keep signing up, one every 50 ms, through the outage and after it.
    const answers: { email: string; status: number; retryAfter: string | null; phase: string }[] = [];
    let phase = 'before';
    let signingUp = true;
    const signups = (async () => {
      for (let n = 0; signingUp; n++) {
        const email = `reader-${n}@example.com`;
        const t0 = Date.now();
        try {
          const res = await fetch(`${webUrl}/api/v1/subscriptions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email, topics: ['japan'], frequency: 'daily', acceptTerms: true, termsVersion: token!.termsVersion, formToken: token!.formToken, website: '' }),
            signal: AbortSignal.timeout(20_000),
          });
          await res.arrayBuffer();
          answers.push({ email, status: res.status, retryAfter: res.headers.get('retry-after'), phase });
        } catch (err) {
          answers.push({ email, status: 0, retryAfter: String(err), phase });
        }
        await sleep(Math.max(0, 50 - (Date.now() - t0)));
      }
    })();

    await waitUntil('a fifth of the mail sent', async () => sink.acceptedTotal >= DELIVERIES / 5, 90_000, workers);
    const listeners = async () => Number((await server.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE query ILIKE 'LISTEN topics_changed%'`))[0]!.n);
    const listening = await listeners();
    expect(listening, 'every process listens for topic changes').toBeGreaterThanOrEqual(WORKERS);

    phase = 'down';
    const acceptedAtStop = sink.acceptedTotal;
    server.stop();
    const stoppedAt = Date.now();
    const ready: number[] = [];
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      const res = await fetch(`${webUrl}/readyz`).catch((err: unknown) => {
        throw new Error(`the web process stopped answering while the database was down (${String(err)}; exit ${web.child.exitCode ?? web.child.signalCode}):\n${web.output()}`);
      });
      ready.push(res.status);
      await sleep(1000);
    }
    const acceptedWhileDown = sink.acceptedTotal - acceptedAtStop;
    phase = 'back';
    server.start();
    const startedAt = Date.now();
    const readyAfter = await waitFor200(`${webUrl}/readyz`, 30_000, web);

    const listenAgain = await waitUntil('the listeners back', async () => (await listeners()) >= listening, 30_000).catch(async (err: Error) => {
      const rows = await server.query<{ application_name: string; state: string; query: string }>(`SELECT application_name, state, left(query, 60) AS query FROM pg_stat_activity WHERE application_name LIKE 'topic-alerts%' ORDER BY 1`);
      throw new Error(`${err.message}: ${listening} before the stop; connections now:\n${rows.map((r) => `${r.application_name} ${r.state} ${r.query}`).join('\n')}\n${[web, ...workers].map((p) => p.output().slice(-2000)).join('\n---\n')}`);
    });
    const allSentAfter = await waitUntil('every delivery sent', async () => (await statusCounts(db, ids)).sent === ids.length, 120_000, workers);
    await sleep(1000);
    signingUp = false;
    await signups;

    const byPhase = (p: string) => answers.filter((a) => a.phase === p);
    const countBy = (list: number[]) => list.reduce<Record<string, number>>((acc, s) => ((acc[s] = (acc[s] ?? 0) + 1), acc), {});
    const statuses = (list: typeof answers) => countBy(list.map((a) => a.status));
    const { duplicates, missing } = sink.tally(ids);
    const accepted = answers.filter((a) => a.status === 202).map((a) => a.email);
    const stored = new Set((await db.selectFrom('subscribers').select('email').execute()).map((r) => r.email));
    const lost = accepted.filter((e) => !stored.has(e));
    console.log(
      `outage ${OUTAGE_MS / 1000} s: /readyz while down ${JSON.stringify(countBy(ready))}, ` +
        `ready ${readyAfter} ms after the start, listeners ${listening} -> back in ${listenAgain} ms; ` +
        `signups before ${JSON.stringify(statuses(byPhase('before')))}, down ${JSON.stringify(statuses(byPhase('down')))}, after ${JSON.stringify(statuses(byPhase('back')))}, ` +
        `lost ${lost.length} of ${accepted.length} accepted; SMTP accepted ${acceptedAtStop} before the stop, ${acceptedWhileDown} while down; ` +
        `all ${ids.length} sent ${((Date.now() - startedAt) / 1000).toFixed(1)} s after the start (${allSentAfter} ms after the listeners), duplicates ${duplicates} (limit ${WORKERS * BATCH}), missing ${missing}`,
    );

    // Never a 500 (nor a dropped connection): 202 or 503 with Retry-After.
    expect(answers.filter((a) => a.status !== 202 && a.status !== 503), 'answers other than 202 and 503').toEqual([]);
    expect(answers.filter((a) => a.status === 503 && !a.retryAfter), '503s without Retry-After').toEqual([]);
    expect(byPhase('down').filter((a) => a.status === 503).length, 'signups refused while down').toBeGreaterThan(0);
    expect(statuses(byPhase('back'))['202'] ?? 0, 'signups accepted once it is back').toBeGreaterThan(0);
    expect(lost, 'signups that got 202 and are not stored').toEqual([]);
    expect(ready.every((s) => s === 503), '/readyz while down').toBe(true);
    expect(await statusCounts(db, ids)).toEqual({ sent: ids.length });
    expect(missing).toBe(0);
    expect(duplicates).toBeLessThanOrEqual(WORKERS * BATCH);
    for (const p of [web, ...workers]) expect(p.child.exitCode, `a process exited:\n${p.output()}`).toBeNull();

    for (const p of [web, ...workers]) p.child.kill('SIGTERM');
    const exits = await Promise.all([web, ...workers].map((p) => p.exited));
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0, 0]);
  }, 300_000);
});
