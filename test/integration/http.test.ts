import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDown, migrateToLatest } from '../../src/db/migrator.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ JSON_BODY_LIMIT: '1kb' });
});
afterAll(async () => {
  await app?.close();
});

describe('HTTP foundation', () => {
  it('answers liveness and readiness', async () => {
    const live = await fetch(`${app.url}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: 'ok' });
  });

  it('is not ready while a migration is pending', async () => {
    await migrateDown(app.db.db);
    try {
      const res = await fetch(`${app.url}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { pendingMigrations: string[] };
      expect(body.pendingMigrations.length).toBe(1);
    } finally {
      await migrateToLatest(app.db.db);
    }
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  });

  it('answers unknown API routes with the JSON error shape', async () => {
    const res = await fetch(`${app.url}/api/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string; issues: unknown[] } };
    expect(body.error.code).toBe('not_found');
    expect(body.error.issues).toEqual([]);
  });

  it('maps malformed and oversized bodies to 400 and 413, never a stack trace', async () => {
    const bad = await fetch(`${app.url}/api/v1/anything`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(bad.status).toBe(400);
    const badBody = await bad.text();
    expect(JSON.parse(badBody).error.code).toBe('invalid_json');
    expect(badBody).not.toMatch(/at .*\.(js|ts):\d+/);

    const big = await fetch(`${app.url}/api/v1/anything`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 'x'.repeat(5000) }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  it('sends security headers and a request id', async () => {
    const res = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });
});
