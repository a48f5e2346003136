import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { readerFlows } from '../helpers/flows.js';
import { ConsoleClient } from '../helpers/console.js';
import { arf, dsn, returnedHeaders, sendToListener, startBounceApp } from '../helpers/reports.js';
import { testEngine } from '../helpers/db.js';
import { COMMANDS } from '../../src/cli/commands.js';

// The reputation watch: a complaint that takes the rate over its threshold pauses sending (the
// sender claims nothing; queued mail stays queued), the console and /metrics say why, and
// resuming sends every held mail exactly once. Resuming accepts the figures as they are; the
// next complaint or hard bounce over a threshold pauses again.

let smtp: TestSmtpServer;
let app: TestApp;
let port: number;
let admin: Awaited<ReturnType<typeof apiClient>>;
let flows: ReturnType<typeof readerFlows>;
const READERS = Array.from({ length: 8 }, (_, i) => `reader${i}@example.com`);

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await startBounceApp(smtp, {
    // 16 deliveries (8 confirmations, 8 digests): one complaint is 6.25 %, far over 0.1 %.
    REPUTATION_MIN_DELIVERIES: '10',
  });
  port = app.service.inbound!.port;
  admin = await apiClient(app, ['admin']);
  await admin.post('/api/v1/topics', { slug: 'japan', name: 'Japan', query: 'japan' });
  flows = readerFlows(app, smtp);
  for (const email of READERS) await flows.activeSubscriber(email, ['japan'], 'instant');
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

let seq = 0;
/** Publishes a Japan article and queues the instant digests; returns how many were queued. */
async function queueDigests(): Promise<number> {
  app.clock.advance(6 * 60_000);
  await admin.post('/api/v1/articles', { url: `https://news.example/a/${++seq}`, title: `Japan news ${seq}`, summary: 'News.', publishedAt: app.clock.now().toISOString() });
  app.clock.advance(60_000);
  return (await app.ctx.services.scheduler.run('test')).queued;
}
const mailsFor = (title: string) => smtp.received.filter((m) => m.raw.toString('utf8').includes(title)).map((m) => m.rcptTo[0]!);
const queued = async () => (await app.ctx.repos.deliveries.list({ status: 'queued', kind: 'digest', limit: 100 })).length;

describe(`the reputation watch (${testEngine()})`, () => {
  it('a complaint over the threshold pauses sending; resuming sends what waited, once', async () => {
    expect(await queueDigests()).toBe(READERS.length);
    await app.ctx.services.sender.runOnce();
    expect(mailsFor('Japan news 1').sort()).toEqual([...READERS].sort());
    expect(await app.ctx.services.reputation.hold()).toBeNull();

    // The next digests are queued; then reader0 complains about the first one.
    expect(await queueDigests()).toBe(READERS.length);
    const first = smtp.received.find((m) => m.rcptTo[0] === 'reader0@example.com' && m.raw.toString('utf8').includes('Japan news 1'))!;
    const r = await sendToListener(port, { to: 'complaints@bounces.news.example', raw: arf({ to: 'complaints@bounces.news.example', originalMailFrom: first.mailFrom, originalRcptTo: 'reader0@example.com', original: first.raw.toString('utf8') }) });
    expect(r.ok, r.response).toBe(true);

    const hold = (await app.ctx.services.reputation.hold())!;
    expect(hold).toMatchObject({ reason: 'complaints', threshold: 0.001 });
    expect(hold.rate).toBeCloseTo(1 / 16, 5);
    expect(hold.message).toContain('complaint rate reached 6.25% over the last 16 deliveries, above the 0.1% threshold');

    // Held: the sender claims nothing, and nothing queued is lost.
    const stats = await app.ctx.services.sender.runOnce();
    expect(stats.claimed).toBe(0);
    expect(mailsFor('Japan news 2')).toEqual([]);
    expect(await queued()).toBe(READERS.length);
    // More news while held is queued as usual.
    expect(await queueDigests()).toBe(READERS.length - 1);

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^topic_alerts_sending_held 1$/m);
    expect(metrics).toMatch(/^topic_alerts_reputation_rate\{kind="complaint"\} 0\.0625$/m);
    expect(metrics).toMatch(/^topic_alerts_reputation_daily_rate\{kind="complaint",domain="news\.example"\} 0\.0625$/m);

    const c = new ConsoleClient(app.url);
    const { user, password } = await app.ctx.services.admin.createAdmin('ops@example.com', 'a long enough password 1', 'test');
    await c.login(user.email, password);
    const page = await c.get('/admin/deliverability');
    expect(page.text).toContain('Sending is paused');
    expect(page.text).toContain('complaint rate reached 6.25%');
    expect((await c.get('/admin')).text).toContain('Sending is paused: The complaint rate reached 6.25%');
    expect(page.text).toMatch(/<th scope="row">news\.example<\/th><td class="num">16<\/td><td class="num">0<\/td><td class="num">0<\/td><td class="num">1<\/td>/);

    // An admin resumes: everything that waited goes out, each once.
    const resumed = await c.post('/admin/deliverability/resume');
    expect(resumed.status).toBe(303);
    expect(await app.ctx.services.reputation.hold()).toBeNull();
    await app.ctx.services.sender.runOnce();
    await app.ctx.services.sender.runOnce();
    const others = READERS.filter((e) => e !== 'reader0@example.com').sort();
    // reader0 complained: unsubscribed and suppressed, their queued digest is cancelled.
    expect(mailsFor('Japan news 2').sort()).toEqual(others);
    expect(mailsFor('Japan news 3').sort()).toEqual(others);
    expect(await queued()).toBe(0);
    const perRecipient = new Map<string, number>();
    for (const m of smtp.received) {
      const key = `${m.rcptTo[0]} ${/^Message-ID: (\S+)/im.exec(m.raw.toString('utf8'))?.[1]}`;
      perRecipient.set(key, (perRecipient.get(key) ?? 0) + 1);
    }
    expect(perRecipient.size).toBe(smtp.received.length);
    expect([...perRecipient.values()].every((n) => n === 1)).toBe(true);
    expect((await (await fetch(`${app.url}/metrics`)).text())).toMatch(/^topic_alerts_sending_held 0$/m);

    // The rate is still over the threshold, but nothing new came: no new pause.
    expect(await app.ctx.services.reputation.evaluate()).toBeNull();
    const audit = await app.ctx.repos.audit.recent(20);
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['sending.hold', 'sending.resume', 'bounce.complaint']));
  });

  it('a hard bounce over its threshold pauses again; sending:resume resumes', async () => {
    expect(await queueDigests()).toBe(READERS.length - 1);
    const last = smtp.received.at(-1)!;
    const raw = last.raw.toString('utf8');
    const r = await sendToListener(port, { to: last.mailFrom, raw: dsn({ to: last.mailFrom, recipient: last.rcptTo[0]!, status: '5.1.1', diagnostic: '550 5.1.1 user unknown', original: returnedHeaders(raw) }) });
    expect(r.ok, r.response).toBe(true);
    const hold = (await app.ctx.services.reputation.hold())!;
    expect(hold.reason).toBe('hard-bounces');
    expect((await app.ctx.services.sender.runOnce()).claimed).toBe(0);

    const out = await COMMANDS['sending:resume']!.run(app.ctx, {});
    expect(out.notes[0]).toContain('hard-bounce rate reached');
    expect(out.result).toBe('sending resumed');
    expect((await COMMANDS['sending:resume']!.run(app.ctx, {})).result).toBe('sending was not paused');
    const before = smtp.received.length;
    await app.ctx.services.sender.runOnce();
    // Everyone still subscribed and not suppressed gets news 4, once.
    const got = smtp.received.slice(before).map((m) => m.rcptTo[0]!);
    expect(got).toHaveLength(new Set(got).size);
    expect(got).not.toContain(last.rcptTo[0]);
    expect(got.length).toBe(READERS.length - 2);
    expect(await queued()).toBe(0);
  });
});
