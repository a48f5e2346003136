// Fan-out: scheduling and rendering a daily digest for every subscriber, on PostgreSQL, to a
// null transport. Measures digests per second for schedule (keyset batches, candidates, queue
// with the idempotency key and sent_articles claims) + send (claim, per-batch prefetch, render,
// compose, record `sent`), and the peak RSS of this process.
//
//   npx tsx bench/fanout.ts [--quick] [--subscribers=N | --subscribers N]
//
// Baselines measured in the same run: the same pipeline at a tenth of the subscribers (flat
// memory, steady rate: `scale_ratio`), and, for a sample, the naive way: one subscriber at a
// time (its own candidates query and queueing transaction), then one delivery at a time with
// the composer's own queries and a record per message (`ratio`). Each size runs in its own
// child process, so each peak RSS is that run's alone.
// Progress goes to stderr; the last line of stdout is one JSON object.
import { spawn } from 'node:child_process';
import { sql } from 'kysely';
import { createNullTransport, type MailTransport } from '../src/mail/index.js';
import type { AppContext } from '../src/context.js';
import { buildDigest } from '../src/services/digests.js';
import { lastDailySlot } from '../src/services/schedule-time.js';
import { newMessageId } from '../src/services/subscriptions.js';
import { normalizeEmail } from '../src/services/links.js';
import { createBenchDatabase } from './lib/db.js';
import { BENCH_NOW, logger, rssSampler, seedDigestWorld } from './lib/seed.js';
import { benchContext } from './lib/context.js';

const quick = process.argv.includes('--quick');
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  if (i !== -1 && process.argv[i + 1] && !process.argv[i + 1]!.startsWith('--')) return process.argv[i + 1];
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
};
const SUBSCRIBERS = Number(arg('subscribers') ?? (quick ? 20_000 : 100_000));
const SMALL = Math.round(SUBSCRIBERS / 10);
const NAIVE_SAMPLE = quick ? 200 : 1_000;
const TOPICS = 300;
const TOPICS_PER_SUBSCRIBER = 3;
const ARTICLES_PER_TOPIC = 2;
const log = logger('fanout');
const rss = rssSampler(25);
const mb = (b: number) => Math.round(b / 1048576);

/** Counts what reaches the transport and checks it is a real, complete digest. */
function countingTransport(): MailTransport & { count: number; bytes: number } {
  const inner = createNullTransport();
  const t = {
    count: 0,
    bytes: 0,
    async send(msg: Parameters<MailTransport['send']>[0]) {
      t.count++;
      t.bytes += String(msg.html).length + String(msg.text).length;
      return inner.send(msg);
    },
    close: () => inner.close(),
  };
  return t;
}

interface Phase {
  subscribers: number;
  digests: number;
  scheduleMs: number;
  totalMs: number;
  digestsPerS: number;
  peakRssMb: number;
  naive?: { digests: number; ms: number; digestsPerS: number };
  startRssMb?: number;
  /** The database's size after seeding, and what the run (deliveries, claims) added to it. */
  seededDbMb: number;
  runDbGrowthMb: number;
  runDbBytesPerDigest: number;
  /** The server settings that shape a write-heavy run (checkpoint spacing, buffer cache). */
  server: { maxWalSize: string; sharedBuffers: string };
}

async function serverSettings(db: Parameters<typeof seedDigestWorld>[0]): Promise<Phase['server']> {
  const r = await sql<{ w: string; b: string }>`SELECT current_setting('max_wal_size') AS w, current_setting('shared_buffers') AS b`.execute(db);
  return { maxWalSize: r.rows[0]!.w, sharedBuffers: r.rows[0]!.b };
}

async function databaseBytes(db: Parameters<typeof seedDigestWorld>[0]): Promise<number> {
  const r = await sql<{ bytes: string }>`SELECT pg_database_size(current_database()) AS bytes`.execute(db);
  return Number(r.rows[0]!.bytes);
}

/** The naive way for the first `sample` subscribers: per subscriber, then per message. */
async function naive(ctx: AppContext, sample: number): Promise<{ digests: number; ms: number; digestsPerS: number }> {
  const { repos, services, transport, links } = ctx;
  const now = ctx.clock.now();
  const ids = (await repos.digests.recipients('daily', 0, sample)).map((r) => r);
  const t0 = performance.now();
  let queued = 0;
  for (const r of ids) {
    if (await repos.suppressions.isSuppressed(links.signer.emailHash(r.emailNormalized))) continue;
    const items = await repos.digests.candidates([r.id], 'daily', new Date(now.getTime() - 3 * 86_400_000), now, new Date(now.getTime() - ctx.config.history.claimsRetentionMs));
    const slot = lastDailySlot(now, r.timeZone, r.digestHour);
    const mine = items.filter((it) => it.matchedAt < slot.at);
    if (mine.length === 0) continue;
    queued += await repos.transaction((t) =>
      t.digests.queue(
        [{ subscriberId: r.id, toAddress: r.email, idempotencyKey: `digest:${r.id}:daily:${slot.period}`, periodStart: slot.period, messageId: newMessageId('news.example'), ...buildDigest(mine, 'daily', slot.period) }],
        null,
        now,
      ),
    );
  }
  // The sender as it was: per message a suppression check, the composer's own queries, a record.
  let sent = 0;
  for (;;) {
    const batch = await repos.deliveries.claim('naive', now, new Date(now.getTime() + 60_000), 50);
    if (batch.length === 0) break;
    for (const d of batch) {
      if (await repos.suppressions.isSuppressed(links.signer.emailHash(normalizeEmail(d.toAddress!)))) continue;
      const c = await services.composer.compose(d);
      if (!('message' in c)) throw new Error(`naive: ${c.cancel}`);
      const res = await transport.send(c.message);
      await repos.deliveries.finish(d.id, 'naive', { status: 'sent', now, smtpResponse: res.response });
      sent++;
    }
  }
  const ms = performance.now() - t0;
  if (sent !== queued) throw new Error(`naive: queued ${queued}, sent ${sent}`);
  return { digests: sent, ms, digestsPerS: sent / (ms / 1000) };
}

async function phase(subscribers: number, naiveSample: number): Promise<Phase> {
  const bench = await createBenchDatabase('ta_bench_fanout', 10);
  const transport = countingTransport();
  const { ctx } = await benchContext({
    url: bench.url,
    database: bench.handle,
    transport,
    now: BENCH_NOW,
    env: { SEND_BATCH_SIZE: '500', SEND_CONCURRENCY: '4', SCHEDULER_BATCH_SIZE: '1000', DATABASE_POOL_SIZE: '10' },
  });
  try {
    const seeded = await seedDigestWorld(bench.handle.db, { subscribers, topics: TOPICS, topicsPerSubscriber: TOPICS_PER_SUBSCRIBER, articlesPerTopic: ARTICLES_PER_TOPIC, now: BENCH_NOW });
    await sql`CHECKPOINT`.execute(bench.handle.db);
    const seededBytes = await databaseBytes(bench.handle.db);
    log(`${subscribers} subscribers x ${TOPICS_PER_SUBSCRIBER} topics seeded in ${(seeded.ms / 1000).toFixed(1)} s; database ${mb(seededBytes)} MB`);
    let naiveResult: Phase['naive'];
    if (naiveSample > 0) {
      naiveResult = await naive(ctx, naiveSample);
      log(`naive, per subscriber then per message: ${naiveResult.digests} digests in ${naiveResult.ms.toFixed(0)} ms = ${naiveResult.digestsPerS.toFixed(0)} digests/s`);
      transport.count = 0;
    }
    global.gc?.();
    rss.reset();
    // As in a worker: the sender drains what the scheduler has queued so far while it queues more.
    const t0 = performance.now();
    let scheduleMs = 0;
    const scheduling = ctx.services.scheduler.run('cli').finally(() => {
      scheduleMs = performance.now() - t0;
    });
    let done = false;
    void scheduling.finally(() => (done = true));
    const stats = { sent: 0, claimed: 0 };
    for (;;) {
      const s = await ctx.services.sender.runOnce();
      stats.sent += s.sent;
      stats.claimed += s.claimed;
      if (s.claimed === 0) {
        if (done) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const run = await scheduling;
    const totalMs = performance.now() - t0;
    log(`scheduled ${run.queued} digests (scanned ${run.scanned}) in ${(scheduleMs / 1000).toFixed(1)} s, all sent ${((totalMs - scheduleMs) / 1000).toFixed(1)} s later`);
    const expected = subscribers - (naiveResult?.digests ?? 0);
    if (run.queued !== expected || stats.sent !== expected || transport.count !== expected) {
      throw new Error(`expected ${expected} digests: queued ${run.queued}, sent ${stats.sent}, transport got ${transport.count}`);
    }
    const digestsPerS = expected / (totalMs / 1000);
    const grownBytes = (await databaseBytes(bench.handle.db)) - seededBytes;
    log(`the run grew the database by ${mb(grownBytes)} MB (${Math.round(grownBytes / expected)} B a digest: delivery row, article claims, indexes)`);
    const peakRssMb = mb(rss.peak());
    const m = process.memoryUsage();
    // With NODE_OPTIONS=--expose-gc: how much of the heap is live (the rest is garbage V8 has not collected yet).
    let live = '';
    if (global.gc) {
      global.gc();
      live = ` (${mb(process.memoryUsage().heapUsed)} MB live after a full GC)`;
    }
    log(`memory at the end: rss ${mb(m.rss)} MB, heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)} MB${live}, external ${mb(m.external)} MB`);
    log(
      `scheduled, rendered and recorded ${stats.sent} digests in ${(totalMs / 1000).toFixed(1)} s (${Math.round(transport.bytes / stats.sent)} B of html+text each); ` +
        `${digestsPerS.toFixed(0)} digests/s overall; peak RSS ${peakRssMb} MB`,
    );
    return { subscribers, digests: expected, scheduleMs, totalMs, digestsPerS, peakRssMb, naive: naiveResult, seededDbMb: mb(seededBytes), runDbGrowthMb: mb(grownBytes), runDbBytesPerDigest: Math.round(grownBytes / expected), server: await serverSettings(bench.handle.db) };
  } finally {
    await ctx.close();
    await bench.drop();
  }
}

/** Runs one phase in a fresh child process, so each phase's peak RSS is its own. */
function phaseInChild(subscribers: number, naiveSample: number): Promise<Phase> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, `--phase=${subscribers}`, `--naive=${naiveSample}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`phase ${subscribers} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Phase);
    });
  });
}

async function main(): Promise<void> {
  const phaseArg = arg('phase');
  if (phaseArg) {
    const startRssMb = mb(process.memoryUsage().rss);
    log(`phase ${phaseArg}: RSS ${startRssMb} MB with the modules loaded`);
    const result = await phase(Number(phaseArg), Number(arg('naive') ?? 0));
    rss.stop();
    process.stdout.write(`${JSON.stringify({ ...result, startRssMb })}\n`);
    return;
  }
  const small = await phaseInChild(SMALL, NAIVE_SAMPLE);
  const big = await phaseInChild(SUBSCRIBERS, 0);
  rss.stop();
  const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'fanout',
      subscribers: big.subscribers,
      topics_per_subscriber: TOPICS_PER_SUBSCRIBER,
      digests: big.digests,
      digests_per_s: Math.round(big.digestsPerS),
      schedule_s: round(big.scheduleMs / 1000),
      total_s: round(big.totalMs / 1000),
      peak_rss_mb: big.peakRssMb,
      start_rss_mb: big.startRssMb,
      naive_digests_per_s: round(small.naive!.digestsPerS),
      ratio: round(big.digestsPerS / small.naive!.digestsPerS),
      naive_sample: small.naive!.digests,
      small_subscribers: small.subscribers,
      small_digests_per_s: Math.round(small.digestsPerS),
      small_peak_rss_mb: small.peakRssMb,
      seeded_db_mb: big.seededDbMb,
      run_db_growth_mb: big.runDbGrowthMb,
      run_db_bytes_per_digest: big.runDbBytesPerDigest,
      small_run_db_bytes_per_digest: small.runDbBytesPerDigest,
      scale_ratio: round(big.digestsPerS / small.digestsPerS, 2),
      // At 1M a run writes ~3.5 GB: with the default max_wal_size (1GB) PostgreSQL checkpoints
      // every ~30 s and every first touch of a page after one is logged whole.
      server_max_wal_size: big.server.maxWalSize,
      server_shared_buffers: big.server.sharedBuffers,
      quick,
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
