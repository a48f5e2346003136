import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { headerValues, rawHeaderFields, startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { readerFlows } from '../helpers/flows.js';

let smtp: TestSmtpServer;
let app: TestApp;
let admin: Awaited<ReturnType<typeof apiClient>>;
let flows: ReturnType<typeof readerFlows>;

// Monday 23 November 2026, 06:00 UTC.
const T0 = new Date('2026-11-23T06:00:00Z');

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await startTestApp({
    SMTP_URL: smtp.url,
    SIGNUP_RATE_LIMIT: '1000',
    MAIL_FROM: 'Daily Bugle Alerts <alerts@news.example>',
    POSTAL_ADDRESS: '1 Fleet Street, London',
    BOUNCE_DOMAIN: 'bounces.news.example',
    UNSUBSCRIBE_MAILTO: 'unsubscribe@news.example',
    MAX_ITEMS_PER_DIGEST: '3',
    PUBLISHER_NAME: 'Daily Bugle',
  });
  app.clock.set(T0);
  admin = await apiClient(app, ['admin']);
  flows = readerFlows(app, smtp);
  for (const [slug, name, query] of [['japan', 'Japan', 'japan'], ['nato', 'NATO', 'nato'], ['energy', 'Energy', 'oil OR gas']]) {
    await admin.post('/api/v1/topics', { slug, name, query });
  }
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

let articleSeq = 0;
async function publish(title: string, extra: Record<string, unknown> = {}) {
  const res = await admin.post('/api/v1/articles', { url: `https://news.example/a/${++articleSeq}`, title, summary: `Summary of ${title}`, publishedAt: app.clock.now().toISOString(), ...extra });
  expect(res.status).toBe(201);
  return res.body;
}

async function runScheduler() {
  return app.ctx.services.scheduler.run('test');
}

async function digestsTo(email: string) {
  return (await flows.sendQueued()).filter((m) => flows.recipient(m) === email);
}

describe('digests', () => {
  it('sends an instant digest with the right articles, once, with the right headers and both parts', async () => {
    const a = await flows.activeSubscriber('instant@example.com', ['japan', 'nato'], 'instant');
    await flows.activeSubscriber('paused@example.com', ['japan'], 'instant');
    const paused = (await app.ctx.repos.subscribers.findByEmail('paused@example.com'))!;
    await app.ctx.repos.subscribers.updateSettings(paused.id, { pausedIndefinitely: true });

    app.clock.set(new Date('2026-11-23T06:01:00Z'));
    await publish('Japan and NATO sign a pact');
    app.clock.set(new Date('2026-11-23T06:02:00Z'));
    const run = await runScheduler();
    expect(run.queued).toBe(1);
    const again = await runScheduler();
    expect(again.queued).toBe(0);

    const mails = await flows.sendQueued();
    expect(mails.map(flows.recipient)).toEqual(['instant@example.com']);
    const mail = mails[0]!;
    expect(mail.subject).toMatch(/1 new article/);
    expect(mail.subject).toMatch(/Japan|NATO/);
    // An article that matched two of their topics appears once.
    expect(String(mail.html).split('href="https://news.example/a/1"').length - 1).toBe(1);
    expect(mail.text).toContain('Japan and NATO sign a pact');
    expect(mail.html).toContain('<html lang="en"');
    expect(mail.text).toContain('1 Fleet Street, London');

    const fields = rawHeaderFields(mail.raw);
    const listUnsubscribe = headerValues(fields, 'List-Unsubscribe');
    expect(listUnsubscribe).toHaveLength(1);
    expect(listUnsubscribe[0]).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/unsubscribe\/[^>]+>, <mailto:unsubscribe@news\.example>$/);
    expect(headerValues(fields, 'List-Unsubscribe-Post')).toEqual(['List-Unsubscribe=One-Click']);
    expect(headerValues(fields, 'List-Id')[0]).toContain('alerts.news.example');
    const delivery = (await app.ctx.repos.deliveries.listForSubscriber(a.id)).find((d) => d.kind === 'digest')!;
    expect(mail.messageId).toBe(delivery.messageId);
    // VERP: the return path names the delivery, signed (bounces+<id>-<mac>).
    expect(smtp.received.at(-1)!.mailFrom).toMatch(new RegExp(`^bounces\\+${delivery.id}-[0-9a-f]{16}@bounces\\.news\\.example$`));
    // MAIL_FROM with a display name: shown as written; Message-ID and List-Id from its address.
    expect(mail.from?.value).toEqual([{ name: 'Daily Bugle Alerts', address: 'alerts@news.example' }]);
    expect(delivery.messageId).toMatch(/@news\.example>$/);

    // Links work when followed.
    for (const url of flows.links(mail).filter((u) => u.startsWith(app.url))) {
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
    }
    expect(flows.links(mail)).toContain('https://news.example/a/1');

    // Nothing new: no second mail.
    app.clock.set(new Date('2026-11-23T06:10:00Z'));
    await runScheduler();
    expect(await flows.sendQueued()).toHaveLength(0);
  });

  it('sends daily digests at the subscriber hour, and one-click unsubscribe stops the next one', async () => {
    await flows.activeSubscriber('daily@example.com', ['japan'], 'daily');
    await flows.activeSubscriber('leaver@example.com', ['japan'], 'daily');
    app.clock.set(new Date('2026-11-23T07:00:00Z'));
    await publish('Japan budget passes');

    // Before 08:00 UTC nothing is due.
    app.clock.set(new Date('2026-11-23T07:59:00Z'));
    await runScheduler();
    const early = (await flows.sendQueued()).map(flows.recipient);
    expect(early).toEqual(['instant@example.com']); // the instant subscriber follows Japan too

    app.clock.set(new Date('2026-11-23T08:01:00Z'));
    await runScheduler();
    const mails = await flows.sendQueued();
    expect(mails.map(flows.recipient).sort()).toEqual(['daily@example.com', 'leaver@example.com']);
    for (const m of mails) {
      expect(m.text).toContain('Japan budget passes');
      // Matched before they confirmed? No: the pact article (06:01) predates these subscriptions.
      expect(m.text).not.toContain('Japan and NATO sign a pact');
    }

    // One-click from the mail client: POST to the List-Unsubscribe URL.
    const leaverMail = mails.find((m) => flows.recipient(m) === 'leaver@example.com')!;
    const url = headerValues(rawHeaderFields(leaverMail.raw), 'List-Unsubscribe')[0]!.match(/<(http[^>]+)>/)![1]!;
    const oneClick = await fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(oneClick.status).toBe(200);

    app.clock.set(new Date('2026-11-23T12:00:00Z'));
    await publish('Japan wins the vote');
    app.clock.set(new Date('2026-11-24T08:00:30Z'));
    await runScheduler();
    const next = (await flows.sendQueued()).filter((m) => flows.recipient(m) !== 'instant@example.com');
    expect(next.map(flows.recipient)).toEqual(['daily@example.com']);
    expect(next[0]!.text).toContain('Japan wins the vote');
    expect(next[0]!.text).not.toContain('Japan budget passes');
  });

  it('honours time zones and the weekly day', async () => {
    const sub = await flows.activeSubscriber('weekly@example.com', ['japan'], 'weekly');
    const prefs = app.ctx.links.preferencesUrl(sub.id, app.clock.now());
    const saved = await fetch(prefs, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ topics: 'japan', frequency_japan: 'weekly', timeZone: 'Asia/Tokyo', digestHour: '7', digestWeekday: '5', pause: 'none' }).toString(),
    });
    expect(saved.status).toBe(303);
    app.clock.set(new Date('2026-11-24T10:00:00Z'));
    await publish('Japan weekly story');

    // Friday 07:00 in Tokyo is Thursday 22:00 UTC.
    app.clock.set(new Date('2026-11-26T21:59:00Z'));
    await runScheduler();
    expect(await digestsTo('weekly@example.com')).toHaveLength(0);
    app.clock.set(new Date('2026-11-26T22:00:30Z'));
    await runScheduler();
    const [mail] = await digestsTo('weekly@example.com');
    expect(mail).toBeDefined();
    expect(mail!.text).toContain('Japan weekly story');
  });

  it('lists at most MAX_ITEMS_PER_DIGEST articles, then "N more" linking to the topic page', async () => {
    await flows.activeSubscriber('energy@example.com', ['energy'], 'instant');
    app.clock.set(new Date('2026-11-27T09:00:00Z'));
    for (let i = 1; i <= 5; i++) {
      app.clock.advance(60_000);
      await publish(`Oil story ${i}`);
    }
    app.clock.set(new Date('2026-11-27T09:10:00Z'));
    await runScheduler();
    const [mail] = await digestsTo('energy@example.com');
    expect(mail!.subject).toMatch(/5 new articles/);
    const shown = [1, 2, 3, 4, 5].filter((i) => String(mail!.html).includes(`Oil story ${i}<`));
    expect(shown).toEqual([3, 4, 5]);
    expect(mail!.text).toMatch(/2 more/);
    expect(flows.links(mail!).some((u) => u.endsWith('/topics/energy'))).toBe(true);
  });

  it("one-click from the mail client ends every alert of the list; a section's own link ends only its topic", async () => {
    const email = 'two-topics@example.com';
    await flows.activeSubscriber(email, ['japan', 'nato'], 'daily');
    app.clock.set(new Date('2026-11-28T07:00:00Z'));
    await publish('Japan opens a port');
    await publish('NATO meets in Brussels');
    app.clock.set(new Date('2026-11-28T08:00:30Z'));
    await runScheduler();
    const [mail, ...more] = await digestsTo(email);
    expect(more).toHaveLength(0);
    expect(mail!.text).toContain('Japan opens a port');
    expect(mail!.text).toContain('NATO meets in Brussels');

    // The header's link names the whole list, and its page says so, naming both topics.
    const header = headerValues(rawHeaderFields(mail!.raw), 'List-Unsubscribe')[0]!.match(/<(http[^>]+)>/)![1]!;
    const headerPage = await (await fetch(header)).text();
    expect(headerPage).toContain('every email alert');
    expect(headerPage).toMatch(/Japan and NATO|NATO and Japan/);
    // A section's link names its topic only.
    const sectionLinks = flows.links(mail!).filter((u) => u.includes('/unsubscribe/') && u !== header);
    const sectionPages = await Promise.all(sectionLinks.map(async (u) => (await fetch(u)).text()));
    expect(sectionPages.some((p) => /This stops alerts about <strong>Japan<\/strong>\. Other topics/.test(p))).toBe(true);

    const oneClick = await fetch(header, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(oneClick.status).toBe(200);
    const sub = (await app.ctx.repos.subscribers.findByEmail(email))!;
    expect((await app.ctx.repos.subscriptions.forSubscriber(sub.id)).map((s) => [s.topicSlug, s.status])).toEqual([
      ['japan', 'unsubscribed'],
      ['nato', 'unsubscribed'],
    ]);

    // Nothing more for either topic.
    app.clock.set(new Date('2026-11-28T12:00:00Z'));
    await publish('Japan closes the port');
    await publish('NATO leaves Brussels');
    app.clock.set(new Date('2026-11-29T08:00:30Z'));
    await runScheduler();
    expect(await digestsTo(email)).toHaveLength(0);
  });

  it('previews a digest for the admin and sends a test digest, and lists deliveries by status', async () => {
    const sub = await flows.activeSubscriber('preview@example.com', ['nato'], 'daily');
    app.clock.advance(60_000);
    await publish('NATO summit opens');
    const preview = await admin.get(`/api/v1/digests/preview?subscriber=${sub.id}`);
    expect(preview.status).toBe(200);
    expect(preview.body.digests[0].html).toContain('NATO summit opens');
    expect((await admin.get('/api/v1/digests/preview?subscriber=999999')).status).toBe(404);

    const test = await admin.post('/api/v1/digests/test', { email: 'editor@example.com' });
    expect(test.status).toBe(202);
    const [mail] = await digestsTo('editor@example.com');
    expect(mail!.subject).toMatch(/^\[Test\]/);

    const sent = await admin.get('/api/v1/deliveries?status=sent&limit=5');
    expect(sent.status).toBe(200);
    expect(sent.body.deliveries.every((d: { status: string }) => d.status === 'sent')).toBe(true);
    expect(sent.body.counts.sent).toBeGreaterThan(0);
    const run = await admin.post('/api/v1/digests/run');
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ skipped: false });
  });
});

describe('bounces and complaints', () => {
  it('suppresses on a hard bounce, after 3 soft bounces in 14 days, and on a complaint (which also unsubscribes)', async () => {
    const bouncer = await apiClient(app, ['bounces']);
    expect((await admin.post('/api/v1/bounces', { email: 'x@example.com', type: 'hard' })).status).toBe(200); // admin has every scope
    const ingest = await apiClient(app, ['ingest']);
    expect((await ingest.post('/api/v1/bounces', { email: 'x@example.com', type: 'hard' })).status).toBe(403);
    expect((await bouncer.post('/api/v1/bounces', { type: 'hard' })).status).toBe(400);
    expect((await bouncer.post('/api/v1/bounces', { email: 'x@example.com', type: 'bogus' })).status).toBe(400);

    const hash = (e: string) => app.ctx.links.signer.emailHash(e);
    const delivery = (await app.ctx.repos.deliveries.list({ status: 'sent', kind: 'digest', limit: 50 })).find((d) => d.toAddress === 'instant@example.com')!;
    const hard = await bouncer.post('/api/v1/bounces', { messageId: delivery.messageId, type: 'hard', detail: '550 mailbox unavailable' });
    expect(hard.body).toMatchObject({ suppressed: true, deliveryId: delivery.id });
    expect(await app.ctx.repos.suppressions.isSuppressed(hash('instant@example.com'))).toBe(true);

    for (let i = 0; i < 2; i++) expect((await bouncer.post('/api/v1/bounces', { email: 'soft@example.com', type: 'soft' })).body.suppressed).toBe(false);
    expect((await bouncer.post('/api/v1/bounces', { email: 'soft@example.com', type: 'soft' })).body.suppressed).toBe(true);

    const complaint = await bouncer.post('/api/v1/bounces', { email: 'daily@example.com', type: 'complaint' });
    expect(complaint.body).toMatchObject({ suppressed: true, unsubscribed: 1 });
    const daily = (await app.ctx.repos.subscribers.findByEmail('daily@example.com'))!;
    expect((await app.ctx.repos.subscriptions.forSubscriber(daily.id)).every((s) => s.status === 'unsubscribed')).toBe(true);

    // VERP: the return path names the delivery.
    const other = (await app.ctx.repos.deliveries.list({ status: 'sent', kind: 'digest', limit: 50 })).find((d) => d.toAddress === 'weekly@example.com')!;
    const verp = await bouncer.post('/api/v1/bounces', { email: `bounces+${other.id}@bounces.news.example`, type: 'hard' });
    expect(verp.body).toMatchObject({ suppressed: true, deliveryId: other.id });
    expect(await app.ctx.repos.suppressions.isSuppressed(hash('weekly@example.com'))).toBe(true);

    // Suppressed and unsubscribed people get no more digests.
    app.clock.set(new Date('2026-12-01T09:00:00Z'));
    await publish('Japan news after the bounces');
    app.clock.set(new Date('2026-12-04T23:00:00Z'));
    await runScheduler();
    const mails = await flows.sendQueued();
    expect(mails.map(flows.recipient)).not.toContain('instant@example.com');
    expect(mails.map(flows.recipient)).not.toContain('daily@example.com');
    expect(mails.map(flows.recipient)).not.toContain('weekly@example.com');
  });
});
