import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { readerFlows } from '../helpers/flows.js';
import { ConsoleClient } from '../helpers/console.js';
import { arf, dsn, returnedHeaders, sendToListener, startBounceApp } from '../helpers/reports.js';
import { testEngine } from '../helpers/db.js';

// Bounces and complaints coming back by mail, over SMTP to the listener (ROLES=bounces) as a
// relay or a provider's feedback loop would send them, must end exactly as the same report
// posted to the bounces API: the same suppression, delivery status, bounce events,
// unsubscriptions and consent records. Each case runs both ways on two readers and compares.

let smtp: TestSmtpServer;
let app: TestApp;
let port: number;
let bouncer: Awaited<ReturnType<typeof apiClient>>;
const sent = new Map<string, { raw: string; mailFrom: string; deliveryId: number; messageId: string }>();

const READERS = ['hard-api', 'hard-smtp', 'soft-api', 'soft-smtp', 'complaint-api', 'complaint-smtp', 'arf-ref', 'arf-mid', 'erased'].map((n) => `${n}@example.com`);

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await startBounceApp(smtp, {
    INBOUND_RATE_LIMIT: '10000',
    // This file checks recording; the thresholds' pause is reputation.test.ts's.
    REPUTATION_MIN_DELIVERIES: '100000',
  });
  port = app.service.inbound!.port;
  const admin = await apiClient(app, ['admin']);
  bouncer = await apiClient(app, ['bounces']);
  await admin.post('/api/v1/topics', { slug: 'japan', name: 'Japan', query: 'japan' });
  const flows = readerFlows(app, smtp);
  for (const email of READERS) await flows.activeSubscriber(email, ['japan'], 'instant');
  app.clock.advance(60_000);
  await admin.post('/api/v1/articles', { url: 'https://news.example/a/1', title: 'Japan signs a treaty', summary: 'A treaty.', publishedAt: app.clock.now().toISOString() });
  app.clock.advance(60_000);
  await app.ctx.services.scheduler.run('test');
  const before = smtp.received.length;
  await app.ctx.services.sender.runOnce();
  const deliveries = await app.ctx.repos.deliveries.list({ kind: 'digest', limit: 100 });
  for (const m of smtp.received.slice(before)) {
    const d = deliveries.find((x) => x.toAddress === m.rcptTo[0])!;
    sent.set(m.rcptTo[0]!, { raw: m.raw.toString('utf8'), mailFrom: m.mailFrom, deliveryId: d.id, messageId: d.messageId });
  }
  expect(sent.size).toBe(READERS.length);
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

/** Everything a report can change about one reader and their delivery. */
async function state(email: string) {
  const s = sent.get(email)!;
  const db = app.ctx.database.db;
  const hash = app.ctx.links.signer.emailHash(email);
  const suppression = await db.selectFrom('suppressions').select(['reason']).where('email_hash', '=', hash).executeTakeFirst();
  const events = await db.selectFrom('bounce_events').select(['kind', 'delivery_id']).where('email_hash', '=', hash).orderBy('id').execute();
  const delivery = (await app.ctx.repos.deliveries.findById(s.deliveryId))!;
  const status = (await db.selectFrom('deliveries').select('status').where('id', '=', delivery.id).executeTakeFirstOrThrow()).status;
  const subscriber = (await app.ctx.repos.subscribers.findByEmail(email))!;
  const subscriptions = (await app.ctx.repos.subscriptions.forSubscriber(subscriber.id)).map((x) => x.status);
  const consent = (await db.selectFrom('consent_events').select(['action', 'consent_text']).where('subscriber_id', '=', subscriber.id).orderBy('id').execute()).map((c) => `${c.action}:${c.consent_text ?? ''}`);
  return { suppression: suppression?.reason ?? null, events: events.map((e) => `${e.kind}:${e.delivery_id === s.deliveryId ? 'this' : e.delivery_id}`), status, subscriptions, lastConsent: consent.at(-1) };
}

const original = (email: string) => returnedHeaders(sent.get(email)!.raw);

describe(`inbound bounces and complaints over SMTP (${testEngine()})`, () => {
  it('signs the return path and names the delivery in X-Delivery-Ref', () => {
    const s = sent.get('hard-smtp@example.com')!;
    const token = /^bounces\+(\d+-[0-9a-f]{16})@bounces\.news\.example$/.exec(s.mailFrom)?.[1];
    expect(token).toBeDefined();
    expect(token!.startsWith(`${s.deliveryId}-`)).toBe(true);
    expect(s.raw).toContain(`X-Delivery-Ref: ${token}`);
  });

  it('refuses every recipient but the signed return path and the complaints address at RCPT', async () => {
    const s = sent.get('hard-smtp@example.com')!;
    const forged = s.mailFrom.replace(/-[0-9a-f]{16}@/, '-0000000000000000@');
    for (const to of ['someone@bounces.news.example', `bounces+${s.deliveryId}@bounces.news.example`, forged, 'complaints@other.example', 'postmaster@news.example']) {
      const r = await sendToListener(port, { to, raw: 'Subject: hi\r\n\r\nhello\r\n' });
      expect(r.ok, to).toBe(false);
      expect(r.responseCode, to).toBe(550);
    }
    expect((await app.ctx.services.inbound.recent(100)).length).toBe(0);
  });

  it('a hard DSN (5.1.1) suppresses and marks the delivery bounced, as the API does', async () => {
    await bouncer.post('/api/v1/bounces', { email: sent.get('hard-api@example.com')!.mailFrom, type: 'hard', detail: '5.1.1 smtp; 550 5.1.1 <hard-api@example.com>: Recipient address rejected: User unknown' });
    const s = sent.get('hard-smtp@example.com')!;
    const r = await sendToListener(port, { to: s.mailFrom, raw: dsn({ to: s.mailFrom, recipient: 'hard-smtp@example.com', status: '5.1.1', diagnostic: '550 5.1.1 <hard-smtp@example.com>: Recipient address rejected: User unknown', original: original('hard-smtp@example.com') }) });
    expect(r.ok, r.response).toBe(true);
    const [api, mail] = [await state('hard-api@example.com'), await state('hard-smtp@example.com')];
    expect(mail).toEqual(api);
    expect(mail).toMatchObject({ suppression: 'hard-bounce', status: 'bounced', events: ['hard:this'] });
    const [stored] = await app.ctx.services.inbound.recent(1);
    expect(stored).toMatchObject({ status: 'processed', reportKind: 'dsn', outcome: { type: 'hard', deliveryId: s.deliveryId, suppressed: true } });
  });

  it('soft DSNs (4.x.x) count, and the third in 14 days suppresses, as the API does', async () => {
    const s = sent.get('soft-smtp@example.com')!;
    for (let i = 1; i <= 3; i++) {
      await bouncer.post('/api/v1/bounces', { email: sent.get('soft-api@example.com')!.mailFrom, type: 'soft', detail: '4.2.2 mailbox full' });
      const r = await sendToListener(port, { to: s.mailFrom, raw: dsn({ to: s.mailFrom, recipient: 'soft-smtp@example.com', status: '4.2.2', diagnostic: '452 4.2.2 Mailbox full', original: original('soft-smtp@example.com') }) });
      expect(r.ok, r.response).toBe(true);
      const [api, mail] = [await state('soft-api@example.com'), await state('soft-smtp@example.com')];
      expect(mail).toEqual(api);
      expect(mail.suppression).toBe(i < 3 ? null : 'soft-bounce');
      expect(mail.events).toHaveLength(i);
      expect(mail.status).toBe('sent');
    }
  });

  it('an ARF abuse report suppresses and unsubscribes, as a complaint through the API does', async () => {
    await bouncer.post('/api/v1/bounces', { email: sent.get('complaint-api@example.com')!.mailFrom, type: 'complaint', detail: 'ARF abuse from SomeGenerator/1.0' });
    const s = sent.get('complaint-smtp@example.com')!;
    const r = await sendToListener(port, { from: 'abuse@mailbox.example', to: 'complaints@bounces.news.example', raw: arf({ to: 'complaints@bounces.news.example', originalMailFrom: s.mailFrom, originalRcptTo: 'complaint-smtp@example.com', original: s.raw }) });
    expect(r.ok, r.response).toBe(true);
    const [api, mail] = [await state('complaint-api@example.com'), await state('complaint-smtp@example.com')];
    expect(mail).toEqual(api);
    expect(mail).toMatchObject({ suppression: 'complaint', subscriptions: ['unsubscribed'], lastConsent: 'withdrawn:spam complaint', events: ['complaint:this'] });
  });

  it('finds the delivery of a report from X-Delivery-Ref, or else from the Message-ID', async () => {
    const ref = sent.get('arf-ref@example.com')!;
    // No Original-Mail-From: only the returned headers name the delivery.
    expect((await sendToListener(port, { to: 'complaints@bounces.news.example', raw: arf({ to: 'complaints@bounces.news.example', originalRcptTo: 'arf-ref@example.com', original: ref.raw }) })).ok).toBe(true);
    expect(await state('arf-ref@example.com')).toMatchObject({ suppression: 'complaint', events: ['complaint:this'] });

    const mid = sent.get('arf-mid@example.com')!;
    const withoutRef = original('arf-mid@example.com').replace(/^X-Delivery-Ref:.*\r\n/m, '');
    expect(withoutRef).not.toContain('X-Delivery-Ref');
    expect((await sendToListener(port, { to: 'complaints@bounces.news.example', raw: arf({ to: 'complaints@bounces.news.example', originalRcptTo: 'arf-mid@example.com', original: withoutRef }) })).ok).toBe(true);
    expect(await state('arf-mid@example.com')).toMatchObject({ suppression: 'complaint', events: ['complaint:this'] });
  });

  it('keeps a malformed report, and a report that names nothing of ours, and lists them in the console', async () => {
    const garbled = [
      'From: <abuse@mailbox.example>',
      'To: <complaints@bounces.news.example>',
      'Subject: report',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=feedback-report; boundary="XX"',
      '',
      '--XX',
      'Content-Type: text/plain',
      '',
      'Something happened, but the machine-readable part is missing.',
      '--XX--',
      '',
    ].join('\r\n');
    expect((await sendToListener(port, { to: 'complaints@bounces.news.example', raw: garbled })).ok).toBe(true);
    const stranger = arf({ to: 'complaints@bounces.news.example', originalRcptTo: 'someone@example.org', original: 'Message-ID: <not-ours@elsewhere.example>\r\nSubject: spam\r\n\r\nbuy\r\n' });
    expect((await sendToListener(port, { to: 'complaints@bounces.news.example', raw: stranger })).ok).toBe(true);

    const kept = await app.ctx.services.inbound.needsLook(10);
    expect(kept.map((m) => m.status).slice(0, 2)).toEqual(['ignored', 'unparseable']);
    expect(kept[1]!.error).toContain('multipart/report without a delivery-status or feedback-report part');
    const raw = (await app.ctx.services.inbound.find(kept[1]!.id))!.raw.toString('utf8');
    expect(raw).toContain('the machine-readable part is missing');

    const c = new ConsoleClient(app.url);
    const { user, password } = await app.ctx.services.admin.createAdmin('ops@example.com', 'a long enough password 1', 'test');
    expect((await c.login(user.email, password)).status).toBe(303);
    const page = await c.get('/admin/deliverability');
    expect(page.status).toBe(200);
    expect(page.text).toContain('multipart/report without a delivery-status or feedback-report part');
    expect(page.text).toContain('names no delivery of ours');
    const one = await c.get(`/admin/deliverability/inbound/${kept[1]!.id}`);
    expect(one.status).toBe(200);
    expect(one.text).toContain('the machine-readable part is missing');
  });

  it('a bounce for a reader erased since is kept, not an error, and the erasure stands', async () => {
    const s = sent.get('erased@example.com')!;
    const subscriber = (await app.ctx.repos.subscribers.findByEmail('erased@example.com'))!;
    const admin = await apiClient(app, ['admin']);
    expect((await admin.delete(`/api/v1/subscribers/${subscriber.id}`)).status).toBeLessThan(300);
    const r = await sendToListener(port, { to: s.mailFrom, raw: dsn({ to: s.mailFrom, recipient: 'erased@example.com', status: '5.1.1', diagnostic: '550 5.1.1 unknown', original: original('erased@example.com') }) });
    expect(r.ok).toBe(true);
    const [stored] = await app.ctx.services.inbound.recent(1);
    expect(stored!.status).toBe('ignored');
  });

  it('forgets recorded messages after 30 days and the ones kept for a look after 90', async () => {
    const counts = await app.ctx.services.inbound.counts();
    expect(counts.processed).toBeGreaterThan(0);
    app.clock.advance(31 * 86_400_000);
    expect(await app.ctx.services.inbound.purgeOld()).toBe(counts.processed);
    expect(await app.ctx.services.inbound.counts()).toMatchObject({ processed: 0, unparseable: counts.unparseable, ignored: counts.ignored });
    app.clock.advance(60 * 86_400_000);
    expect(await app.ctx.services.inbound.purgeOld()).toBe(counts.unparseable + counts.ignored);
  });
});
