import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { webhookTestKit, type WebhookTestKit } from '../helpers/webhook-receiver.js';
import { createWebhooks } from '../../src/webhooks/index.js';
import type { Resolver } from '../../src/webhooks/address-guard.js';
import { WebhookHttpClient } from '../../src/webhooks/http-client.js';

// Where the service may send webhooks: link-local never, loopback and private only with
// WEBHOOK_ALLOW_PRIVATE, checked when an endpoint is saved and again on the address DNS gives at
// connect time; no redirect followed, a timeout, a capped answer.

let app: TestApp;
let admin: Awaited<ReturnType<typeof apiClient>>;
let kit: WebhookTestKit;
const receiver = () => kit.receiver();
const endpoint = (r: Awaited<ReturnType<WebhookTestKit['receiver']>>, events?: readonly string[]) => kit.endpoint(r, events);
const emit = (list: { key: string; n: number }[]) => kit.emit(list);

beforeAll(async () => {
  app = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  admin = await apiClient(app);
  kit = webhookTestKit(app, admin);
});
afterAll(async () => {
  await app?.close();
  await kit?.close();
});

describe('where webhooks may go', () => {
  const fakeDns: Resolver = (host, cb) => {
    const table: Record<string, string> = { 'metadata.test': '169.254.169.254', 'loopback.test': '127.0.0.1', 'mixed.test': '127.0.0.1' };
    const extra = host === 'mixed.test' ? [{ address: 'fe80::1', family: 6 }] : [];
    if (table[host]) return cb(null, [{ address: table[host]!, family: 4 }, ...extra]);
    cb(Object.assign(new Error(`${host} not found`), { code: 'ENOTFOUND' }), []);
  };

  it('link-local is refused at creation even with WEBHOOK_ALLOW_PRIVATE, names resolving to it too', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://[fe80::1]/', 'http://[::ffff:169.254.169.254]/', 'http://[fe80::abcd%25eth0]/']) {
      const res = await admin.post('/api/v1/webhooks', { url, events: ['article.matched'] });
      expect(res.status, url).toBe(400);
      expect(res.body.error.issues[0].path).toBe('url');
    }
    const hooks = createWebhooks(app.ctx.repos, app.clock, app.ctx.logger, app.config.webhooks, fakeDns);
    await expect(hooks.service.create({ url: 'http://metadata.test/', events: ['article.matched'] }, 'test')).rejects.toMatchObject({ status: 400 });
    await expect(hooks.service.create({ url: 'http://mixed.test/', events: ['article.matched'] }, 'test')).rejects.toMatchObject({ status: 400 });
    hooks.close();
  });

  it('without the flag, loopback and private addresses are refused at creation and again at connect time', async () => {
    const r = await receiver();
    const strict = createWebhooks(app.ctx.repos, app.clock, app.ctx.logger, { ...app.config.webhooks, allowPrivate: false });
    for (const url of [r.url, `http://localhost:${r.port}/`, 'http://10.1.2.3/', 'http://192.168.0.1/', 'http://[::1]/']) {
      await expect(strict.service.create({ url, events: ['subscription.changed'] }, 'test'), url).rejects.toMatchObject({ status: 400, issues: [{ path: 'url' }] });
    }
    // One saved while the flag was on (or an old row) is refused when the worker connects.
    const id = await endpoint(r, ['subscription.changed']);
    await emit([{ key: 'subscriber:60', n: 1 }]);
    await strict.deliverer.runOnce();
    expect(r.received).toHaveLength(0);
    const [attempt] = (await app.ctx.services.webhooks.activity(id)).attempts;
    expect(attempt!.error).toMatch(/^refused: 127\.0\.0\.1 is a loopback or private address/);
    strict.close();
    await kit.deactivateAll();
  });

  it('at connect time the address DNS gives is checked: a name resolving to link-local is refused, to loopback with the flag is used', async () => {
    const r = await receiver();
    const client = new WebhookHttpClient({ timeoutMs: 2000, allowPrivate: true, maxBodyBytes: 100, resolve: fakeDns });
    const refused = await client.post(`http://metadata.test:${r.port}/hook`, {}, '{}');
    expect(refused).toMatchObject({ ok: false, statusCode: null });
    expect(refused.error).toMatch(/^refused: 169\.254\.169\.254 is a link-local address/);
    expect((await client.post(`http://mixed.test:${r.port}/hook`, {}, '{}')).error).toMatch(/^refused: fe80::1/);
    const used = await client.post(`http://loopback.test:${r.port}/hook`, { 'webhook-id': 'msg_1' }, '{}');
    expect(used).toMatchObject({ ok: true, statusCode: 200 });
    expect(r.received.map((w) => w.id)).toEqual(['msg_1']);
    client.close();
  });

  it('no redirect is followed, a slow receiver times out, a large answer is capped', async () => {
    const http = await import('node:http');
    const server = http.createServer((req, res) => {
      if (req.url === '/redirect') return res.writeHead(307, { location: 'http://169.254.169.254/' }).end();
      if (req.url === '/slow') return setTimeout(() => res.end('late'), 3000);
      res.end('x'.repeat(100_000));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const client = new WebhookHttpClient({ timeoutMs: 500, allowPrivate: true, maxBodyBytes: 4096 });
    expect(await client.post(`${base}/redirect`, {}, '{}')).toMatchObject({ ok: false, statusCode: 307, error: 'redirect to http://169.254.169.254/ not followed' });
    const slow = await client.post(`${base}/slow`, {}, '{}');
    expect(slow).toMatchObject({ ok: false, error: 'timed out after 500 ms' });
    expect(slow.durationMs).toBeLessThan(1500);
    const big = await client.post(`${base}/big`, {}, '{}');
    expect(big.ok).toBe(true);
    expect(big.responseBody).toHaveLength(4096);
    client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});
