// Webhook events through the outbox against a raw loop of signed POSTs, to the same receiver.
//
//   npx tsx bench/webhooks.ts [--quick] [--events=N] [--concurrency=N]
//
// Pipeline: events already in the outbox (written as services write them, one message per
// event for one endpoint, spread over many subscribers) → WebhookDeliverer.runOnce(): claim
// with FOR UPDATE SKIP LOCKED and the per-subscriber order check, sign, POST over keep-alive
// connections, record each attempt and `delivered`. Baseline: the same number of signed POSTs
// of the same bodies with the same concurrency and a keep-alive agent, nothing recorded. Rounds
// alternate (raw, pipeline, raw, …) so a neighbour's load hits both alike. The receiver runs in
// its own process. The outbox is analysed once after the warm-up, as autovacuum would have done.
// Progress goes to stderr; the last line of stdout is one JSON object.
import http from 'node:http';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createBenchDatabase } from './lib/db.js';
import { BENCH_NOW, logger } from './lib/seed.js';
import { benchContext } from './lib/context.js';
import { event } from '../src/webhooks/index.js';
import { newSecret } from '../src/webhooks/repository.js';
import { signatureHeaders } from '../src/webhooks/signer.js';
import type { MailTransport } from '../src/mail/index.js';

const quick = process.argv.includes('--quick');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const EVENTS = Number(arg('events') ?? (quick ? 4_000 : 20_000));
const CONCURRENCY = Number(arg('concurrency') ?? 32);
const SUBSCRIBERS = Math.max(1, Math.floor(EVENTS / 4));
const ROUNDS = quick ? 2 : 4;
const log = logger('webhooks');

const noMail: MailTransport = {
  send: () => Promise.reject(new Error('no mail in this benchmark')),
  verify: async () => true,
  close: async () => {},
} as unknown as MailTransport;

async function startReceiver() {
  const child = fork(fileURLToPath(new URL('./lib/webhook-sink.mjs', import.meta.url)), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
    child.once('message', (m: { port: number }) => resolve(m.port));
  });
  const count = () =>
    new Promise<{ count: number; distinct: number }>((resolve) => {
      const on = (m: { type: string; count: number; distinct: number }) => {
        if (m.type !== 'count') return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
      child.send({ type: 'count' });
    });
  const close = async () => {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.send({ type: 'close' });
    await exited;
  };
  return { url: `http://127.0.0.1:${port}/hook`, pid: child.pid!, count, close };
}

async function main(): Promise<void> {
  const receiver = await startReceiver();
  log(`receiver in process ${receiver.pid} at ${receiver.url}`);
  const bench = await createBenchDatabase('ta_bench_webhooks', 6);
  const { ctx, clock } = await benchContext({
    url: bench.url,
    database: bench.handle,
    transport: noMail,
    now: BENCH_NOW,
    env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_CONCURRENCY: String(CONCURRENCY) },
  });
  const secret = newSecret();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const endpoint = await ctx.repos.webhooks.endpoints.create({ url: receiver.url, description: 'bench', events: ['subscription.changed'], active: true, secret, now: BENCH_NOW });
    const data = (n: number) => ({ subscriberId: n % SUBSCRIBERS, email: `reader-${n % SUBSCRIBERS}@example.com`, subscriptions: [{ topic: 'japan', status: 'active', frequency: 'daily' as const }], source: 'preferences' });
    const emitRound = async (from: number, n: number) => {
      for (let i = 0; i < n; i += 1000) {
        const list = Array.from({ length: Math.min(1000, n - i) }, (_, k) => from + i + k).map((e) => event('subscription.changed', `subscriber:${e % SUBSCRIBERS}`, data(e)));
        await ctx.repos.transaction((r) => r.webhooks.emit(list, clock.now()));
      }
    };
    const sampleBody = JSON.stringify({ type: 'subscription.changed', timestamp: BENCH_NOW.toISOString(), data: data(0) });

    const post = (id: string, body: string) =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(receiver.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...signatureHeaders({ secret, previousSecret: null, previousSecretExpiresAt: null }, id, new Date(), body) } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(body);
      });
    const blast = async (n: number, round: number) => {
      let next = 0;
      const lane = async () => {
        for (let i = next++; i < n; i = next++) await post(`msg_raw_${round}_${i}`, sampleBody);
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    };

    // Warm-up: connections open and both code paths compiled.
    await blast(500, -1);
    await emitRound(0, 500);
    await ctx.services.webhookDeliverer.runOnce();
    // Statistics as autovacuum keeps them on any database that has run for a minute: this one
    // is seconds old, and a never-analysed outbox gets a claim plan that sorts the whole backlog.
    await sql`ANALYZE webhook_messages`.execute(bench.handle.db);

    const perRound = Math.ceil(EVENTS / ROUNDS);
    let rawMs = 0;
    let pipelineMs = 0;
    let delivered = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const n = Math.min(perRound, EVENTS - round * perRound);
      let before = (await receiver.count()).count;
      let s = performance.now();
      await blast(n, round);
      rawMs += performance.now() - s;
      let after = (await receiver.count()).count;
      if (after - before !== n) throw new Error(`raw: receiver got ${after - before} of ${n}`);

      await emitRound(500 + round * perRound, n);
      before = after;
      s = performance.now();
      const stats = await ctx.services.webhookDeliverer.runOnce();
      pipelineMs += performance.now() - s;
      after = (await receiver.count()).count;
      if (stats.delivered !== n || after - before !== n) throw new Error(`pipeline round ${round}: delivered ${stats.delivered}, receiver got ${after - before} of ${n}`);
      delivered += n;
      log(`round ${round + 1}/${ROUNDS}: raw ${((round * perRound + n) / (rawMs / 1000)).toFixed(0)} POSTs/s, outbox ${(delivered / (pipelineMs / 1000)).toFixed(0)} events/s (cumulative)`);
    }
    const left = Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_messages WHERE endpoint_id = ${endpoint.id} AND status <> 'delivered'`.execute(bench.handle.db)).rows[0]!.n);
    if (left !== 0) throw new Error(`${left} messages not delivered`);
    const rawPerS = EVENTS / (rawMs / 1000);
    const pipelinePerS = EVENTS / (pipelineMs / 1000);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'webhooks',
        events: EVENTS,
        subscribers: SUBSCRIBERS,
        outbox_events_per_s: Math.round(pipelinePerS),
        raw_posts_per_s: Math.round(rawPerS),
        ratio: Math.round((pipelinePerS / rawPerS) * 100) / 100,
        rounds: ROUNDS,
        concurrency: CONCURRENCY,
        body_bytes: Buffer.byteLength(sampleBody),
        quick,
      })}\n`,
    );
  } finally {
    agent.destroy();
    await ctx.close();
    await bench.drop();
    await receiver.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
