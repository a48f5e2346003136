import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { freePort } from '../helpers/app.js';
import { ROOT, waitFor200, type ServiceProcess } from '../helpers/process.js';

// The operator's side as the README tells it: `npm start` in one terminal, the CLI in a second,
// then SIGTERM to the `npm start` process (what a container stop, systemd or some shells' Ctrl-C
// send: to the top process only). Runs the real npm, on the embedded database, in a folder of
// its own; every variable that a developer's .env could set is given explicitly.

const workDir = mkdtempSync(path.join(tmpdir(), 'topic-alerts-operator-'));
const children: ServiceProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  rmSync(workDir, { recursive: true, force: true });
});

// Documented: SHUTDOWN_TIMEOUT_MS (default 8000) of grace, then the process is gone.
const SHUTDOWN_TIMEOUT_MS = 8000;

function npmEnv(port: number): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: '',
    SMTP_URL: '',
    ROLES: 'web,worker',
    PGLITE_DIR: path.join(workDir, 'pglite'),
    TEMPLATE_CACHE_DIR: path.join(workDir, 'cache'),
    LOG_LEVEL: 'warn',
    DEMO_SEED: 'true',
  };
}

/** `npm <args>` from the project folder, as a person types it. */
function npm(args: string[], env: Record<string, string>): ServiceProcess {
  const execPath = process.env.npm_execpath;
  const [cmd, argv] = execPath && execPath.endsWith('.js') ? [process.execPath, [execPath, ...args]] : ['npm', args];
  const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const proc = { child, output: () => out, exited };
  children.push(proc);
  return proc;
}

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; lastLine: string }> {
  const proc = npm(['run', '-s', 'cli', '--', ...args], env);
  const { code } = await proc.exited;
  const lines = proc.output().trimEnd().split('\n');
  return { code, stdout: proc.output(), lastLine: lines.at(-1) ?? '' };
}

/** The pids of a process's children (Linux /proc). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function until(what: string, ms: number, check: () => Promise<boolean> | boolean): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not happen within ${ms} ms`);
}

describe('the operator, as the README tells it', () => {
  it('npm start prints the URLs, the CLI works beside it, and SIGTERM to npm stops the service and frees port and database', async () => {
    const port = await freePort();
    const env = npmEnv(port);
    const base = `http://127.0.0.1:${port}`;

    const first = npm(['start'], env);
    await waitFor200(`${base}/readyz`, 60_000, first);
    await until('the welcome block', 10_000, () => first.output().includes('Admin console login'));
    expect(first.output()).toContain(`topic-alerts is running at ${base}`);
    expect(first.output()).toContain(`${base}/demo`);
    expect(first.output()).toMatch(/Admin console login \(development, shown once\): admin@localhost {2}password \S{12,}/);

    // The second terminal: the README's commands while the service holds the embedded database.
    const published = await cli(['demo:publish'], env);
    expect(published.code, published.stdout).toBe(0);
    expect(published.lastLine).toMatch(/^published 3 sample articles, matched: /);
    const run = await cli(['digests:run'], env);
    expect(run.code, run.stdout).toBe(0);
    expect(run.lastLine).toMatch(/^run \d+: \d+ subscribers scanned, \d+ digests queued/);
    // Retention's dry run, through the service: nothing is old enough to go on a new install.
    const retention = await cli(['history:retention', '--dry-run'], env);
    expect(retention.code, retention.stdout).toBe(0);
    expect(retention.stdout).toContain('consent_events: nothing older than');
    expect(retention.lastLine).toBe('dry run: 0 partitions would drop (0.0 MB)');
    const reset = await cli(['admin:password', '--email', 'admin@localhost', '--password', 'correct horse battery'], env);
    expect(reset.code, reset.stdout).toBe(0);
    expect(reset.lastLine).toBe('admin admin@localhost has a new password (id 1)');
    // What the service can answer but must refuse is refused with one line, and nothing changes.
    const down = await cli(['migrate', '--down'], env);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^error: .*stop it first\n$/m);
    // The articles went into the service's own database, and its index matched them.
    const token = /Admin API token \(development, shown once\): (\S+)/.exec(first.output())![1]!;
    const japan = await fetch(`${base}/api/v1/articles?topic=japan`, { headers: { authorization: `Bearer ${token}` } });
    const titles = ((await japan.json()) as { articles: { title: string }[] }).articles.map((a) => a.title);
    expect(titles.length, JSON.stringify(titles)).toBeGreaterThanOrEqual(2);

    // SIGTERM to the npm process alone.
    const npmPid = first.child.pid!;
    const servicePids = childPids(npmPid);
    expect(servicePids).toHaveLength(1);
    const signalledAt = Date.now();
    process.kill(npmPid, 'SIGTERM');
    const limit = SHUTDOWN_TIMEOUT_MS + 1500;
    await until('the service process to exit', limit, () => !alive(servicePids[0]!));
    await until('the port to be free', limit, () => portFree(port));
    expect(existsSync(path.join(env.PGLITE_DIR!, '.topic-alerts.lock'))).toBe(false);
    expect(Date.now() - signalledAt).toBeLessThan(limit);
    expect((await first.exited).code).toBe(0);
    expect(first.output()).not.toMatch(/\n\s+at /);

    // With nothing running, the CLI opens the database itself.
    const alone = await cli(['digests:run'], env);
    expect(alone.code, alone.stdout).toBe(0);
    expect(alone.stdout).not.toContain('run by the service');

    // A restart prints the URLs again; the credentials only when they were created.
    const second = npm(['start'], env);
    await waitFor200(`${base}/readyz`, 60_000, second);
    await until('the welcome block', 10_000, () => second.output().includes('admin:password'));
    expect(second.output()).toContain(`Admin console:                     ${base}/admin`);
    expect(second.output()).not.toContain('shown once');
    // The password the CLI set is the one the console takes.
    const loginPage = await fetch(`${base}/admin/login`);
    const nonce = /name="_login" value="([^"]+)"/.exec(await loginPage.text())![1]!;
    const cookie = loginPage.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const login = await fetch(`${base}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ _login: nonce, email: 'admin@localhost', password: 'correct horse battery', next: '/admin' }).toString(),
    });
    expect(login.status).toBe(303);
    process.kill(second.child.pid!, 'SIGINT');
    expect((await second.exited).code).toBe(0);
    await until('the port to be free', SHUTDOWN_TIMEOUT_MS + 1500, () => portFree(port));

    // The data is all there for the next process.
    const db = await openDatabase({ pgliteDir: env.PGLITE_DIR });
    const n = await db.db.selectFrom('articles').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await db.close();
    expect(Number(n.n)).toBe(4);
  }, 240_000);
});
