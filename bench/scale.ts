// bench:scale — 1, 2 and 4 worker processes on one PostgreSQL send the same due deliveries to
// a local SMTP sink (another process). Prints, per worker count, throughput and duplicates
// (must be 0), and the speed-up over one worker measured in the same run.
//   npm run bench:scale [-- --quick]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const quick = process.argv.includes('--quick');
const TOTAL = quick ? 4_000 : 50_000;
const WORKER_COUNTS = [1, 2, 4];
const adminUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const log = (m: string) => process.stderr.write(`[bench:scale] ${m}\n`);

function withDb(url: string, db: string) {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

function run(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(TSX, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.stderr.on('data', (d: Buffer) => (out += d));
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
  });
}

async function main() {
  const dbName = `bench_scale_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = withDb(adminUrl, dbName);
  const db = new pg.Pool({ connectionString: dbUrl, max: 2 });
  const children: ChildProcess[] = [];
  try {
    log('migrating');
    await run(['src/cli.ts', 'migrate'], { DATABASE_URL: dbUrl });
    // A few articles: each 'test' delivery renders a sample digest of the newest ones.
    await db.query(`INSERT INTO articles (url, title, summary) SELECT 'https://news.example/s/' || g, 'Sample story ' || g, 'Summary ' || g FROM generate_series(1, 5) g`);

    const sink = spawn(TSX, ['bench/lib/smtp-sink.ts', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(sink);
    const received: string[] = [];
    const receivedAt: number[] = [];
    let buffered = '';
    const port = await new Promise<number>((resolve) => {
      sink.stdout!.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          const m = /^listening (\d+)/.exec(line);
          if (m) resolve(Number(m[1]));
          else if (line) {
            received.push(line);
            receivedAt.push(Date.now());
          }
        }
      });
    });

    const results = [];
    for (const workers of WORKER_COUNTS) {
      await db.query('DELETE FROM deliveries');
      await db.query(
        `INSERT INTO deliveries (kind, to_address, idempotency_key, payload, message_id)
         SELECT 'test', 'reader' || g || '@example.com', 'scale:${workers}:' || g, '{}', '<scale-${workers}-' || g || '@bench.example>'
         FROM generate_series(1, $1) g`,
        [TOTAL],
      );
      received.length = 0;
      receivedAt.length = 0;
      log(`${workers} worker(s): ${TOTAL} deliveries`);
      const started = Date.now();
      const procs = Array.from({ length: workers }, () =>
        spawn(TSX, ['src/main.ts'], {
          cwd: ROOT,
          env: {
            ...process.env,
            DATABASE_URL: dbUrl,
            ROLES: 'worker',
            SMTP_URL: `smtp://127.0.0.1:${port}`,
            MAIL_FROM: 'alerts@bench.example',
            LOG_LEVEL: 'warn',
            DEMO_SEED: 'false',
            SEND_INTERVAL_SECONDS: '1',
            SEND_BATCH_SIZE: '200',
            SEND_CONCURRENCY: '16',
            SMTP_POOL_CONNECTIONS: '8',
            DATABASE_POOL_SIZE: '8',
            SCHEDULER_CRON: '0 0 1 1 *',
          },
          stdio: ['ignore', 'ignore', 'inherit'],
        }),
      );
      children.push(...procs);
      const deadline = started + (quick ? 120_000 : 900_000);
      let sent = 0;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        sent = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'sent'`)).rows[0]!.n;
        if (sent >= TOTAL) break;
      }
      // From the first message the sink received to the last: process start-up excluded.
      const seconds = ((receivedAt.at(-1) ?? Date.now()) - (receivedAt[0] ?? started)) / 1000;
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
      await new Promise((r) => setTimeout(r, 300));
      const ids = received.filter((l) => l !== '-');
      const duplicates = ids.length - new Set(ids).size;
      const result = { workers, deliveries: TOTAL, sent, seconds: Number(seconds.toFixed(1)), msgs_per_s: Math.round(sent / seconds), received: ids.length, duplicates };
      log(JSON.stringify(result));
      results.push(result);
    }
    const base = results[0]!.msgs_per_s;
    for (const r of results) {
      process.stdout.write(JSON.stringify({ bench: 'scale', ...r, speedup_ratio: Number((r.msgs_per_s / base).toFixed(2)), cores: os.cpus().length, note: 'seconds from the first to the last message at the sink' }) + '\n');
    }
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await db.end();
    await new Promise((r) => setTimeout(r, 1000));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:scale failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
