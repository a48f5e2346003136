import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { freePort } from '../helpers/app.js';
import { createTestDatabase, testEngine } from '../helpers/db.js';
import { spawnService, waitFor200 } from '../helpers/process.js';

const workDir = mkdtempSync(path.join(tmpdir(), 'topic-alerts-proc-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Starts a POST whose body arrives in two halves, so the request is in flight in between. */
function slowRequest(url: string): { sendRest(): void; response: Promise<{ status: number; body: string }> } {
  const body = JSON.stringify({ pad: 'x'.repeat(40) });
  const half = Math.floor(body.length / 2);
  let sendRest!: () => void;
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${url}/api/v1/in-flight`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.write(body.slice(0, half));
    req.flushHeaders();
    sendRest = () => req.end(body.slice(half));
  });
  return { sendRest: () => sendRest(), response };
}

describe('the service process', () => {
  it('refuses to start in production without its required variables, naming every one', async () => {
    const proc = spawnService({ NODE_ENV: 'production' }, workDir);
    const { code } = await proc.exited;
    expect(code).toBe(1);
    const out = proc.output();
    for (const key of ['SECRET_KEY', 'BASE_URL', 'DATABASE_URL', 'SMTP_URL', 'MAIL_FROM', 'POSTAL_ADDRESS']) expect(out).toContain(key);
    expect(out.match(/Invalid configuration/g)).toHaveLength(1);
    expect(out).not.toMatch(/\n\s+at /);
  });

  it('runs on embedded PGlite with nothing configured, keeps data across restarts, and stops cleanly on SIGTERM', async () => {
    const pgliteDir = path.join(workDir, 'pglite');
    const port = await freePort();
    const env = { PORT: String(port), HOST: '127.0.0.1', PGLITE_DIR: pgliteDir, LOG_LEVEL: 'warn' };
    const base = `http://127.0.0.1:${port}`;

    const first = spawnService(env, workDir);
    expect(await waitFor200(`${base}/readyz`, 30_000, first)).toBeLessThan(30_000);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    // SIGTERM while a request is in flight: the request is answered, then the process exits 0.
    const inFlight = slowRequest(base);
    await new Promise((r) => setTimeout(r, 200));
    const signalledAt = Date.now();
    first.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    inFlight.sendRest();
    const answered = await inFlight.response;
    expect(answered.status).toBe(404);
    expect(JSON.parse(answered.body).error.code).toBe('not_found');
    const exit = await first.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);

    // A row written between runs is still there after the service has run again.
    const direct = await openDatabase({ pgliteDir });
    await direct.db.insertInto('topics').values({ slug: 'persisted', name: 'Persisted', query: 'x', normalized_query: 'x' }).execute();
    await direct.close();

    const second = spawnService(env, workDir);
    await waitFor200(`${base}/readyz`, 30_000, second);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    const reopened = await openDatabase({ pgliteDir });
    const row = await reopened.db.selectFrom('topics').select('slug').where('slug', '=', 'persisted').executeTakeFirst();
    await reopened.close();
    expect(row?.slug).toBe('persisted');
  }, 120_000);

  it.runIf(testEngine() === 'postgres')('runs on PostgreSQL when DATABASE_URL is set', async () => {
    const database = await createTestDatabase({ migrated: false });
    try {
      const port = await freePort();
      const proc = spawnService({ PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: database.url!, LOG_LEVEL: 'warn' }, workDir);
      expect(await waitFor200(`http://127.0.0.1:${port}/readyz`, 30_000, proc)).toBeLessThan(30_000);
      const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { engine: string };
      expect(ready.engine).toBe('postgres');
      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
    } finally {
      await database.close();
    }
  }, 60_000);
});
