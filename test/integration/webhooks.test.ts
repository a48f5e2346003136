import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { readerFlows } from '../helpers/flows.js';
import { webhookTestKit, type WebhookReceiver, type WebhookTestKit } from '../helpers/webhook-receiver.js';
import { event, WEBHOOK_EVENT_TYPES } from '../../src/webhooks/index.js';
import { ConsoleClient } from '../helpers/console.js';

// Signed outgoing webhooks end to end: real changes through the API and the reader's pages,
// the outbox, the worker's deliverer, and a real HTTP receiver on loopback that verifies every
// signature with the standardwebhooks package.

let smtp: TestSmtpServer;
let app: TestApp;
let admin: Awaited<ReturnType<typeof apiClient>>;
let kit: WebhookTestKit;
const receiver = () => kit.receiver();
const endpoint = (r: WebhookReceiver, events?: readonly string[]) => kit.endpoint(r, events);
const deliver = () => kit.deliver();
const emit = (list: { key: string; n: number }[]) => kit.emit(list);
const deactivateAll = () => kit.deactivateAll();

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await startTestApp({
    SMTP_URL: smtp.url,
    SIGNUP_RATE_LIMIT: '1000',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_SCHEDULE: '1s,2s,4s',
    WEBHOOK_LEASE_SECONDS: '5',
    WEBHOOK_SECRET_GRACE: '3s',
  });
  admin = await apiClient(app);
  kit = webhookTestKit(app, admin);
  for (const slug of ['japan', 'nato']) await admin.post('/api/v1/topics', { slug, name: slug, query: slug });
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
  await kit?.close();
});

describe('the webhooks API', () => {
  it('creates with a secret shown once, lists, changes and deletes; bad input is a 400, no token a 401', async () => {
    const r = await receiver();
    const created = await admin.post('/api/v1/webhooks', { url: r.url, events: ['article.matched'], description: 'CRM' });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const id = created.body.webhook.id;
    expect(created.body.webhook).toMatchObject({ url: r.url, events: ['article.matched'], description: 'CRM', active: true, disabledReason: null });
    const one = await admin.get(`/api/v1/webhooks/${id}`);
    expect(one.status).toBe(200);
    expect(JSON.stringify(one.body)).not.toContain(created.body.secret);
    expect(JSON.stringify((await admin.get('/api/v1/webhooks')).body)).not.toContain('whsec_');
    const patched = await admin.patch(`/api/v1/webhooks/${id}`, { events: ['delivery.sent', 'delivery.bounced'], active: false });
    expect(patched.body.webhook).toMatchObject({ events: ['delivery.sent', 'delivery.bounced'], active: false });

    const bad = await admin.post('/api/v1/webhooks', { url: 'ftp://x.example/', events: ['nope'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['events.0', 'url']);
    expect((await admin.patch(`/api/v1/webhooks/${id}`, {})).status).toBe(400);
    expect((await fetch(`${app.url}/api/v1/webhooks`)).status).toBe(401);

    expect((await admin.delete(`/api/v1/webhooks/${id}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/webhooks/${id}`)).status).toBe(404);
    const doc = (await (await fetch(`${app.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown>; webhooks: Record<string, { post: { requestBody: unknown } }> };
    expect(Object.keys(doc.webhooks).sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/webhooks', '/api/v1/webhooks/{id}', '/api/v1/webhooks/{id}/rotate-secret']));
    expect(JSON.stringify(doc.webhooks['subscriber.erased']!.post.requestBody)).toContain('WebhookEvent_subscriber_erased');
    const audit = await app.ctx.repos.audit.recent(20);
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['webhook.create', 'webhook.update', 'webhook.delete']));
  });
});

describe('every event type, once per change, signed', () => {
  it('follows two readers and an article through the lifecycle; erasure scrubs the address', async () => {
    const r = await receiver();
    const id = await endpoint(r);
    const flows = readerFlows(app, smtp);

    // A signs up and confirms; B signs up and declines.
    await flows.signup({ email: 'a@example.com', topics: ['japan'] });
    await flows.signup({ email: 'b@example.com', topics: ['nato'] });
    const mails = await flows.sendQueued();
    const mailTo = (to: string) => mails.find((m) => flows.recipient(m) === to)!;
    expect((await fetch(flows.linkTo(mailTo('a@example.com'), '/confirm/')!, { method: 'POST' })).status).toBe(200);
    expect((await fetch(flows.linkTo(mailTo('b@example.com'), '/decline/')!, { method: 'POST' })).status).toBe(200);
    const a = (await app.ctx.repos.subscribers.findByEmail('a@example.com'))!;
    const b = (await app.ctx.repos.subscribers.findByEmail('b@example.com'))!;

    // A adds a topic, an article matches, A leaves; B's address bounces, A complains, A is erased.
    const meta = { ip: null, userAgent: null };
    await app.ctx.services.preferences.updatePreferences(a, { topics: ['japan', 'nato'], frequencies: {}, timeZone: 'UTC', digestHour: 8, digestWeekday: 1, snooze: { kind: 'keep' } }, meta);
    const article = await admin.post('/api/v1/articles', { url: 'https://news.example/japan-1', title: 'Japan today', body: 'japan news' });
    expect(article.body.matchedTopics).toEqual(['japan']);
    await app.ctx.services.preferences.unsubscribeAll(a, 'preferences', meta);
    expect((await admin.post('/api/v1/bounces', { email: 'b@example.com', type: 'hard', detail: '550 no such user' })).status).toBe(200);
    expect((await admin.post('/api/v1/bounces', { email: 'a@example.com', type: 'complaint' })).status).toBe(200);
    expect((await admin.delete(`/api/v1/subscribers/${a.id}`)).status).toBe(204);

    await deliver();
    const got = r.received;
    expect(r.duplicates()).toBe(0);
    expect(got.every((w) => w.verifiedWith.length === 1)).toBe(true);
    expect(got.map((w) => w.payload.type).sort()).toEqual(
      [
        'subscriber.signup_requested', 'subscriber.signup_requested', 'delivery.sent', 'delivery.sent', 'subscriber.confirmed', 'subscriber.declined',
        'subscription.changed', 'article.matched', 'subscriber.unsubscribed', 'delivery.bounced', 'delivery.complained', 'subscriber.erased',
      ].sort(),
    );
    expect(new Set(got.map((w) => w.payload.type))).toEqual(new Set(WEBHOOK_EVENT_TYPES));
    // One subscriber's events in the order they happened.
    const ofA = got.filter((w) => w.payload.data.subscriberId === a.id).map((w) => w.payload.type);
    expect(ofA).toEqual(['subscriber.signup_requested', 'delivery.sent', 'subscriber.confirmed', 'subscription.changed', 'subscriber.unsubscribed', 'delivery.complained', 'subscriber.erased']);
    // Erasure: A's address is in none of them; B's is where it belongs.
    expect(got.some((w) => w.body.includes('a@example.com'))).toBe(false);
    expect(got.find((w) => w.payload.type === 'subscriber.erased')!.payload.data).toEqual({ subscriberId: a.id });
    expect(got.find((w) => w.payload.type === 'subscriber.declined')!.payload.data).toEqual({ subscriberId: b.id, email: 'b@example.com', topics: ['nato'] });
    expect(got.find((w) => w.payload.type === 'delivery.bounced')!.payload.data).toMatchObject({ subscriberId: b.id, bounceType: 'hard', suppressed: true });
    expect(got.find((w) => w.payload.type === 'subscription.changed')!.payload.data.subscriptions).toEqual([
      { topic: 'japan', status: 'active', frequency: 'daily' },
      { topic: 'nato', status: 'active', frequency: 'daily' },
    ]);
    expect(got.find((w) => w.payload.type === 'article.matched')!.payload.data).toMatchObject({ url: 'https://news.example/japan-1', topics: ['japan'] });

    // Nothing more to send; a second run delivers nothing twice.
    await deliver();
    expect(r.received.length).toBe(got.length);
    const { attempts, counts } = await app.ctx.services.webhooks.activity(id);
    expect(counts).toEqual({ delivered: 12 });
    expect(attempts.every((x) => x.ok && x.statusCode === 200 && x.responseBody === 'ok')).toBe(true);
    await deactivateAll();
  });

  it('writes nothing for a rolled-back change', async () => {
    const r = await receiver();
    await endpoint(r, ['subscription.changed']);
    const count = async () => Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_events`.execute(app.db.db)).rows[0]!.n);
    const before = await count();
    await expect(
      app.ctx.repos.transaction(async (t) => {
        await t.webhooks.emit([event('subscription.changed', 'subscriber:999', { subscriberId: 999, email: null, subscriptions: [], source: 'test' })], app.clock.now());
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await count()).toBe(before);
    await deliver();
    expect(r.received).toHaveLength(0);
    await deactivateAll();
  });
});

describe('delivery', () => {
  it('a receiver answering 500 then 200 gets the event after a retry, with the same webhook-id', async () => {
    const r = await receiver();
    const id = await endpoint(r, ['subscription.changed']);
    const seen = new Set<string>();
    r.respond = (w) => (seen.has(w.id) ? 200 : (seen.add(w.id), 500));
    await emit([{ key: 'subscriber:1', n: 1 }]);
    await deliver();
    expect(r.received).toHaveLength(1);
    await deliver(); // not due yet
    expect(r.received).toHaveLength(1);
    app.clock.advance(1000);
    await deliver();
    expect(r.received).toHaveLength(2);
    expect(r.received[0]!.id).toBe(r.received[1]!.id);
    expect(r.received.every((w) => w.verifiedWith.length === 1)).toBe(true);
    const { attempts, counts } = await app.ctx.services.webhooks.activity(id);
    expect(attempts.map((a) => [a.attempt, a.statusCode, a.ok]).reverse()).toEqual([[1, 500, false], [2, 200, true]]);
    expect(attempts.at(-1)!.responseBody).toBe('no (500)');
    expect(counts).toEqual({ delivered: 1 });
    await deactivateAll();
  });

  it('a receiver down for a while gets everything, each subscriber in order, once it is back', async () => {
    const r = await receiver();
    await endpoint(r, ['subscription.changed']);
    await r.stop();
    const keys = ['subscriber:11', 'subscriber:12', 'subscriber:13'];
    for (let n = 0; n < 4; n++) await emit(keys.map((key, k) => ({ key, n: k * 100 + n })));
    await deliver(); // refused: the first of each subscriber fails, the rest wait behind it
    app.clock.advance(1000);
    await deliver();
    await r.start();
    app.clock.advance(2000);
    await deliver();
    expect(r.unique()).toHaveLength(12);
    for (const [k] of keys.entries()) {
      expect(r.unique().filter((w) => Math.floor(w.payload.data.subscriberId / 100) === k).map((w) => w.payload.data.subscriberId % 100)).toEqual([0, 1, 2, 3]);
    }
    expect(r.duplicates()).toBe(0);
    await deactivateAll();
  });

  it('after every retry fails the endpoint is disabled with the reason; enabling it resumes in order', async () => {
    const r = await receiver();
    const id = await endpoint(r, ['subscription.changed']);
    r.respond = () => 503;
    await emit([{ key: 'subscriber:21', n: 1 }]);
    await emit([{ key: 'subscriber:21', n: 2 }]);
    for (const wait of [0, 1000, 2000, 4000]) {
      app.clock.advance(wait);
      await deliver();
    }
    expect(r.received.map((w) => w.payload.data.subscriberId)).toEqual([1, 1, 1, 1]);
    const disabled = (await admin.get(`/api/v1/webhooks/${id}`)).body.webhook;
    expect(disabled.active).toBe(false);
    expect(disabled.disabledReason).toBe('4 attempts failed; last: HTTP 503');
    app.clock.advance(60_000);
    await deliver();
    expect(r.received).toHaveLength(4);

    r.respond = () => 200;
    const resumed = await admin.patch(`/api/v1/webhooks/${id}`, { active: true });
    expect(resumed.body.webhook).toMatchObject({ active: true, disabledReason: null });
    await deliver();
    expect(r.received.slice(4).map((w) => w.payload.data.subscriberId)).toEqual([1, 2]);
    await deactivateAll();
  });

  it('a worker that dies mid-delivery loses nothing: its claims return after the lease', async () => {
    const r = await receiver();
    const id = await endpoint(r, ['subscription.changed']);
    await emit(Array.from({ length: 20 }, (_, n) => ({ key: `subscriber:${300 + n}`, n })));
    // The dead worker claimed ten, posted five of them, and never recorded anything.
    const now = app.clock.now();
    const held = await app.ctx.repos.webhooks.claim('dead-worker', now, new Date(now.getTime() + 5000), 10);
    expect(held).toHaveLength(10);
    for (const m of held.slice(0, 5)) {
      await fetch(r.url, { method: 'POST', headers: { 'webhook-id': m.eventId, 'webhook-timestamp': '0', 'webhook-signature': 'v1,x' }, body: m.body });
    }
    await deliver();
    expect(r.unique()).toHaveLength(15);
    app.clock.advance(6000);
    await deliver();
    expect(r.unique()).toHaveLength(20);
    expect(r.duplicates()).toBe(5);
    expect((await app.ctx.services.webhooks.activity(id)).counts).toEqual({ delivered: 20 });
    await deactivateAll();
  });

  it('a replay sends the event again with its webhook-id', async () => {
    const r = await receiver();
    const id = await endpoint(r, ['subscription.changed']);
    await emit([{ key: 'subscriber:40', n: 40 }]);
    await deliver();
    const [message] = (await app.ctx.services.webhooks.activity(id)).messages;
    await app.ctx.services.webhooks.replay(id, message!.id, 'test');
    await deliver();
    expect(r.received.map((w) => w.id)).toEqual([message!.eventId, message!.eventId]);
    await deactivateAll();
  });

  it('a rotated secret: both signatures during the grace period, only the new one after it', async () => {
    const r = await receiver();
    const id = await endpoint(r, ['subscription.changed']);
    const rotated = await admin.post(`/api/v1/webhooks/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.webhook.previousSecretValidUntil).not.toBeNull();
    r.secrets.push(rotated.body.secret);
    await emit([{ key: 'subscriber:50', n: 1 }]);
    await deliver();
    expect(r.received[0]!.signature.split(' ')).toHaveLength(2);
    expect(r.received[0]!.verifiedWith).toEqual(r.secrets);
    app.clock.advance(4000);
    await emit([{ key: 'subscriber:50', n: 2 }]);
    await deliver();
    expect(r.received[1]!.verifiedWith).toEqual([rotated.body.secret]);
    await deactivateAll();
  });
});

describe('the console', () => {
  it('adds an endpoint (secret shown once), shows each attempt with its answer, replays one, pauses and deletes', async () => {
    const r = await receiver();
    await app.ctx.services.admin.createAdmin('hooks@example.com', 'correct horse battery staple', 'test');
    const c = new ConsoleClient(app.url);
    await c.login('hooks@example.com', 'correct horse battery staple');
    expect((await c.get('/admin/webhooks')).text).toContain('href="/admin/webhooks"');
    const bad = await c.post('/admin/webhooks', { url: 'http://169.254.169.254/', events: ['subscription.changed'] });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('link-local');
    const added = await c.post('/admin/webhooks', { url: r.url, description: 'warehouse', events: ['subscription.changed'] });
    expect(added.status).toBe(200);
    const secret = /whsec_[A-Za-z0-9+/=]+/.exec(added.text)![0];
    r.secrets.push(secret);
    const id = (await app.ctx.services.webhooks.list()).find((e) => e.url === r.url)!.id;
    expect((await c.get(`/admin/webhooks/${id}`)).text).not.toContain(secret);

    r.respond = (w) => (r.received.filter((x) => x.id === w.id).length === 1 ? 502 : 200);
    await emit([{ key: 'subscriber:70', n: 1 }]);
    await deliver();
    app.clock.advance(1000);
    await deliver();
    const page = (await c.get(`/admin/webhooks/${id}`)).text;
    expect(page).toContain('failed 502');
    expect(page).toContain('no (502)');
    expect(page).toMatch(/delivered 200/);
    const messageId = /name="messageId" value="(\d+)"/.exec(page)![1]!;
    const replayed = await c.post(`/admin/webhooks/${id}/replay`, { messageId });
    expect(replayed.status).toBe(303);
    await deliver();
    expect(r.received.map((w) => w.id)).toEqual([r.received[0]!.id, r.received[0]!.id, r.received[0]!.id]);
    expect(r.received.every((w) => w.verifiedWith.length === 1)).toBe(true);

    const rotated = await c.post(`/admin/webhooks/${id}/rotate`);
    expect(rotated.text).toMatch(/New secret[\s\S]*whsec_/);
    expect((await c.post(`/admin/webhooks/${id}/active`, { active: 'false' })).status).toBe(303);
    expect((await app.ctx.services.webhooks.get(id)).active).toBe(false);
    expect((await c.post(`/admin/webhooks/${id}/delete`)).location).toBe('/admin/webhooks?done=webhook-deleted');
    expect((await app.ctx.services.webhooks.list()).some((e) => e.id === id)).toBe(false);
  });
});

