// The whole sending pipeline against a raw nodemailer blast, to the same SMTP sink.
//
//   npx tsx bench/send.ts [--quick] [--messages=N]
//
// Pipeline: queued digest deliveries (made by the scheduler from seeded subscribers, topics and
// matches) → DeliverySender.runOnce(): claim with FOR UPDATE SKIP LOCKED, per-batch prefetch,
// render from the compiled templates, pooled nodemailer, record `sent`. Baseline: the same
// pooled nodemailer settings sending already-rendered messages of the same deliveries, as fast
// as it can, in alternating rounds with the pipeline. The sink (smtp-server) runs in its own process. Both use pooled connections that
// are never recycled, so smtp-server's ~100 ms greeting delay is paid once per connection.
// Progress goes to stderr; the last line of stdout is one JSON object.
import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer';
import { createSmtpTransport } from '../src/mail/index.js';
import type { Delivery } from '../src/repositories/deliveries.js';
import { createBenchDatabase } from './lib/db.js';
import { startSinkProcess } from './lib/sink.js';
import { BENCH_NOW, logger, seedDigestWorld } from './lib/seed.js';
import { benchContext } from './lib/context.js';

const quick = process.argv.includes('--quick');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const MESSAGES = Number(arg('messages') ?? (quick ? 3_000 : 20_000));
const CONNECTIONS = Number(arg('connections') ?? 5);
const BATCH = Number(arg('batch') ?? 500);
const CONCURRENCY = Number(arg('concurrency') ?? 64);
// The raw blast re-sends this many distinct pre-rendered messages in turn (all of them at 20k
// would hold ~0.5 GB of strings; the cost per message is the same).
const DISTINCT = Math.min(MESSAGES, 5_000);
const RAW_IN_FLIGHT = 256;
const log = logger('send');

async function main(): Promise<void> {
  const sink = await startSinkProcess();
  log(`SMTP sink in process ${sink.pid} at ${sink.url}`);
  const bench = await createBenchDatabase('ta_bench_send', 12);
  const smtpOptions = { maxConnections: CONNECTIONS, maxMessages: Infinity };
  const transport = createSmtpTransport({ urls: [sink.url], pool: smtpOptions });
  const { ctx, clock } = await benchContext({
    url: bench.url,
    database: bench.handle,
    transport,
    now: BENCH_NOW,
    env: { SEND_BATCH_SIZE: String(BATCH), SEND_CONCURRENCY: String(CONCURRENCY), SMTP_POOL_CONNECTIONS: String(CONNECTIONS), SCHEDULER_BATCH_SIZE: '2000' },
  });
  try {
    const seeded = await seedDigestWorld(bench.handle.db, { subscribers: MESSAGES, topics: 60, topicsPerSubscriber: 3, articlesPerTopic: 2, now: BENCH_NOW });
    log(`seeded ${MESSAGES} subscribers x 3 topics in ${seeded.ms.toFixed(0)} ms`);
    const t0 = performance.now();
    const run = await ctx.services.scheduler.run('cli');
    log(`scheduler queued ${run.queued} digests in ${(performance.now() - t0).toFixed(0)} ms`);
    if (run.queued !== MESSAGES) throw new Error(`expected ${MESSAGES} digests, got ${run.queued}`);

    // Pre-render the baseline's messages from the same queued deliveries (not claimed).
    const rendered: SendMailOptions[] = [];
    let beforeId: number | undefined;
    while (rendered.length < DISTINCT) {
      const page: Delivery[] = await ctx.repos.deliveries.list({ status: 'queued', kind: 'digest', beforeId, limit: 500 });
      if (page.length === 0) break;
      beforeId = page[page.length - 1]!.id;
      const batch = await ctx.services.composer.prepare(page);
      for (const d of page) {
        const c = await ctx.services.composer.compose(d, batch);
        if ('message' in c) rendered.push(c.message);
      }
    }
    const sample = rendered[0]!;
    log(`pre-rendered ${rendered.length} messages for the raw blast (html ${String(sample.html).length} B, text ${String(sample.text).length} B)`);

    const raw = nodemailer.createTransport({ pool: true, url: sink.url, ...smtpOptions });
    const blast = async (n: number) => {
      let next = 0;
      const lane = async () => {
        while (next < n) {
          const i = next++;
          await raw.sendMail(rendered[i % rendered.length]!);
        }
      };
      await Promise.all(Array.from({ length: RAW_IN_FLIGHT }, lane));
    };

    // Warm-up: open every pooled connection on both paths, JIT both code paths.
    await blast(Math.min(1000, MESSAGES));
    const warm = await ctx.transport.send(rendered[0]!);
    if (!warm.response.startsWith('250')) throw new Error(`sink answered ${warm.response}`);
    for (let i = 0; i < CONNECTIONS * 4; i++) await Promise.all(Array.from({ length: CONNECTIONS }, (_, j) => ctx.transport.send(rendered[(i * CONNECTIONS + j) % rendered.length]!)));

    // Alternating rounds (raw, pipeline, raw, pipeline, …), so a neighbour's load hits both
    // alike. Round k's deliveries are due at NOW + k hours; the clock moves to release them.
    const ROUNDS = quick ? 2 : 4;
    const perRound = Math.ceil(MESSAGES / ROUNDS);
    await sql`
      UPDATE deliveries d SET next_attempt_at = ${BENCH_NOW}::timestamptz + ((r.n - 1) / ${perRound}::int) * interval '1 hour'
      FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM deliveries WHERE status = 'queued') r
      WHERE d.id = r.id`.execute(bench.handle.db);
    let rawMs = 0;
    let pipelineMs = 0;
    let rawCpu = 0;
    let pipelineCpu = 0;
    const cpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    let sent = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const n = Math.min(perRound, MESSAGES - round * perRound);
      let before = (await sink.count()).count;
      let s = performance.now();
      let c = cpu();
      await blast(n);
      rawMs += performance.now() - s;
      rawCpu += cpu() - c;
      let after = await sink.count();
      if (after.count - before !== n) throw new Error(`raw: sink got ${after.count - before} of ${n}`);

      clock.set(new Date(BENCH_NOW.getTime() + round * 3_600_000));
      before = after.count;
      s = performance.now();
      c = cpu();
      const stats = await ctx.services.sender.runOnce();
      pipelineMs += performance.now() - s;
      pipelineCpu += cpu() - c;
      after = await sink.count();
      if (stats.sent !== n || after.count - before !== n) throw new Error(`pipeline round ${round}: sent ${stats.sent}, sink got ${after.count - before} of ${n}`);
      sent += stats.sent;
      log(
        `round ${round + 1}/${ROUNDS}: raw ${((round * perRound + n) / (rawMs / 1000)).toFixed(0)} msgs/s, ` +
          `pipeline ${(sent / (pipelineMs / 1000)).toFixed(0)} msgs/s (cumulative); this process's CPU per message: ` +
          `raw ${((rawCpu / (round * perRound + n)) * 1000).toFixed(0)} µs, pipeline ${((pipelineCpu / sent) * 1000).toFixed(0)} µs`,
      );
    }
    const counts = await ctx.repos.deliveries.countByStatus();
    if (counts.sent !== MESSAGES) throw new Error(`pipeline recorded ${counts.sent} sent of ${MESSAGES}`);
    raw.close();
    const rawPerS = MESSAGES / (rawMs / 1000);
    const pipelinePerS = MESSAGES / (pipelineMs / 1000);
    const after = await sink.count();
    if (after.withDeliveryId !== after.count) throw new Error(`only ${after.withDeliveryId} of ${after.count} messages carried X-Delivery-Id`);

    process.stdout.write(
      `${JSON.stringify({
        bench: 'send',
        messages: MESSAGES,
        pipeline_msgs_per_s: Math.round(pipelinePerS),
        raw_msgs_per_s: Math.round(rawPerS),
        ratio: Math.round((pipelinePerS / rawPerS) * 100) / 100,
        rounds: ROUNDS,
        raw_cpu_us_per_msg: Math.round((rawCpu / MESSAGES) * 1000),
        pipeline_cpu_us_per_msg: Math.round((pipelineCpu / MESSAGES) * 1000),
        smtp_connections: CONNECTIONS,
        claim_batch: BATCH,
        send_concurrency: CONCURRENCY,
        raw_distinct_messages: rendered.length,
        html_bytes: String(sample.html).length,
        quick,
      })}\n`,
    );
  } finally {
    await ctx.close(); // closes the transport and the database pool
    await bench.drop();
    await sink.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
