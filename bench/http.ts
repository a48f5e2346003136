// bench:http — the service's hot public endpoints under load, each against a bare baseline
// measured in the same run, on loopback, on PostgreSQL. Prints one JSON line per endpoint.
//   npm run bench:http [-- --quick]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const quick = process.argv.includes('--quick');
const DURATION = quick ? 5 : 15;
const CONNECTIONS = 20;
const adminUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const log = (m: string) => process.stderr.write(`[bench:http] ${m}\n`);

function withDb(url: string, db: string) {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

function start(cmd: string, args: string[], env: Record<string, string>, readyUrl?: string): Promise<ChildProcess> {
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = async () => {
      if (child.exitCode !== null) return reject(new Error(`process exited:\n${out}`));
      if (readyUrl) {
        try {
          if ((await fetch(readyUrl)).ok) return resolve(child);
        } catch {
          /* not yet */
        }
      } else if (out.includes('ready')) return resolve(child);
      if (Date.now() - started > 60_000) return reject(new Error(`not ready in 60 s:\n${out}`));
      setTimeout(poll, 200);
    };
    void poll();
  });
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(opts: { url: string; method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: () => string }, duration = DURATION): Promise<Load> {
  const instance = autocannon({
    url: opts.url,
    connections: CONNECTIONS,
    duration,
    method: opts.method ?? 'GET',
    headers: opts.headers,
    requests: opts.body ? [{ setupRequest: (req) => ({ ...req, body: opts.body!() }) }] : undefined,
  });
  const r = await instance;
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

async function main() {
  const dbName = `bench_http_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = withDb(adminUrl, dbName);
  const children: ChildProcess[] = [];
  try {
    const port = 39_000 + Math.floor(Math.random() * 1000);
    const base = `http://127.0.0.1:${port}`;
    log(`starting the service on ${base} (PostgreSQL ${dbName})`);
    children.push(
      await start(TSX, ['src/main.ts'], {
        DATABASE_URL: dbUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        ROLES: 'web',
        LOG_LEVEL: 'warn',
        DEMO_SEED: 'false',
        SIGNUP_RATE_LIMIT: '100000',
        NODE_ENV: 'development',
      }, `${base}/readyz`),
    );
    // Topics and the fixture article, through the public API.
    const tokenOut = await new Promise<string>((resolve, reject) => {
      const c = spawn(TSX, ['src/cli.ts', 'token:create', '--name', 'bench', '--scope', 'admin'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: dbUrl, LOG_LEVEL: 'warn' } });
      let o = '';
      c.stdout.on('data', (d: Buffer) => (o += d));
      c.on('exit', (code) => (code === 0 ? resolve(o.trim().split('\n').pop()!) : reject(new Error(o))));
    });
    const auth = { authorization: `Bearer ${tokenOut}`, 'content-type': 'application/json' };
    for (const [slug, name] of [['japan', 'Japan'], ['nato', 'NATO'], ['russia', 'Russia'], ['ukraine', 'Ukraine']]) {
      await fetch(`${base}/api/v1/topics`, { method: 'POST', headers: auth, body: JSON.stringify({ slug, name, query: slug }) });
    }
    const article = JSON.parse(readFileSync(path.join(ROOT, 'src/demo/articles.json'), 'utf8'))[0];
    await fetch(`${base}/api/v1/articles`, { method: 'POST', headers: auth, body: JSON.stringify(article) });

    const configUrl = `${base}/api/v1/widget-config?topics=japan,nato`;
    const articleConfigUrl = `${base}/api/v1/widget-config?article=${encodeURIComponent(article.url)}`;
    const sample = (await (await fetch(configUrl)).json()) as { formToken: string; consent: { termsVersion: number } };
    const barePort = port + 1;
    children.push(await start(TSX, ['bench/lib/bare-server.ts', String(barePort), dbUrl, JSON.stringify(sample)], {}));
    const bare = `http://127.0.0.1:${barePort}`;

    // The time trap wants a form token at least 2 s old; one token serves the whole run.
    await new Promise((r) => setTimeout(r, 2200));
    let n = 0;
    const runId = randomBytes(3).toString('hex');
    const signupBody = () =>
      JSON.stringify({ email: `load-${runId}-${n++}@example.com`, topics: ['japan'], frequency: 'daily', acceptTerms: true, termsVersion: sample.consent.termsVersion, formToken: sample.formToken, website: '' });

    const results = [];
    const signupOpts = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: signupBody };
    for (const [name, serviceOpts, baselineOpts] of [
      ['widget-config', { url: configUrl }, { url: `${bare}/config` }],
      ['widget-config-article', { url: articleConfigUrl }, { url: `${bare}/config` }],
      ['subscriptions', { url: `${base}/api/v1/subscriptions`, ...signupOpts }, { url: `${bare}/signup`, ...signupOpts }],
    ] as const) {
      // Both sides are warmed up (JIT, connection pools) before they are measured.
      log(`${name}: warm-up 2s each`);
      await load(serviceOpts, 2);
      await load(baselineOpts, 2);
      log(`${name}: service ${DURATION}s`);
      const s = await load(serviceOpts);
      log(`${name}: baseline ${DURATION}s`);
      const b = await load(baselineOpts);
      results.push({
        bench: 'http',
        endpoint: name,
        connections: CONNECTIONS,
        duration_s: DURATION,
        requests_per_s: s.rps,
        p50_ms: s.p50,
        p99_ms: s.p99,
        errors: s.errors,
        non_2xx: s.non2xx,
        baseline_requests_per_s: b.rps,
        baseline_p50_ms: b.p50,
        baseline_p99_ms: b.p99,
        baseline_errors: b.errors + b.non2xx,
        ratio: Number((s.rps / b.rps).toFixed(3)),
      });
    }
    for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1500));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:http failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
