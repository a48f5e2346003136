import { load } from 'cheerio';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { readerFlows } from '../helpers/flows.js';
import { testEngine } from '../helpers/db.js';
import { SubscribersRepository } from '../../src/repositories/subscribers.js';

let smtp: TestSmtpServer;
let app: TestApp;
let admin: Awaited<ReturnType<typeof apiClient>>;

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await startTestApp({ SMTP_URL: smtp.url, SIGNUP_RATE_LIMIT: '1000', MAIL_FROM: 'alerts@news.example', POSTAL_ADDRESS: '1 Fleet Street, London' });
  admin = await apiClient(app);
  for (const [slug, name] of [['japan', 'Japan'], ['nato', 'NATO'], ['energy', 'Energy'], ['old', 'Old']]) {
    await admin.post('/api/v1/topics', { slug, name, query: slug });
  }
  await admin.delete('/api/v1/topics/old');
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

// ---------------------------------------------------------------- helpers

const flows = () => readerFlows(app, smtp);
const signup: ReturnType<typeof readerFlows>['signup'] = (...a) => flows().signup(...a);
const sendQueued = () => flows().sendQueued();
const linkTo: ReturnType<typeof readerFlows>['linkTo'] = (...a) => flows().linkTo(...a);

async function subscriber(email: string) {
  return app.ctx.repos.subscribers.findByEmail(email.toLowerCase());
}

// ---------------------------------------------------------------- tests

describe('signup, confirmation mail and double opt-in', () => {
  it('queues one confirmation mail with both parts and working links; GET changes nothing, POST confirms', async () => {
    const res = await signup({ email: 'Reader.One@Example.com', topics: ['japan', 'nato'], frequency: 'instant' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'pending', message: 'Check your inbox to confirm your subscription.' });

    const sub = (await subscriber('reader.one@example.com'))!;
    expect(sub.email).toBe('Reader.One@Example.com');
    expect((await app.ctx.repos.subscriptions.forSubscriber(sub.id)).map((s) => [s.topicSlug, s.status, s.frequency])).toEqual([
      ['japan', 'pending', 'instant'],
      ['nato', 'pending', 'instant'],
    ]);

    const [mail, ...rest] = await sendQueued();
    expect(rest).toHaveLength(0);
    // The local part is kept as typed; nodemailer lower-cases the domain.
    expect(mail!.to && 'text' in mail!.to ? mail!.to.text : '').toBe('Reader.One@example.com');
    expect(mail!.subject).toBe('Confirm your alerts: Japan and NATO');
    // A bare MAIL_FROM: the publisher's name is the display name, the address the envelope sender.
    expect(mail!.from?.value).toEqual([{ name: 'Topic Alerts', address: 'alerts@news.example' }]);
    expect(smtp.received.at(-1)!.mailFrom).toBe('alerts@news.example');
    expect(mail!.html).toContain('<html lang="en"');
    expect(mail!.text).toContain('1 Fleet Street, London');
    expect(mail!.text).toMatch(/expire/i);
    const confirmUrl = linkTo(mail!, '/confirm/')!;
    const declineUrl = linkTo(mail!, '/decline/')!;
    expect(confirmUrl).toBeDefined();
    expect(declineUrl).toBeDefined();
    expect(mail!.text).toContain(confirmUrl);
    expect(mail!.html).toMatch(/No thanks, this wasn(’|'|&#x27;|&#39;)t me/);
    expect(confirmUrl).not.toMatch(/reader/i);

    // A mail scanner opening the link changes nothing.
    const page = await fetch(confirmUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toContain('<form method="post"');
    expect((await app.ctx.repos.subscriptions.forSubscriber(sub.id)).every((s) => s.status === 'pending')).toBe(true);

    const confirmed = await fetch(confirmUrl, { method: 'POST' });
    expect(confirmed.status).toBe(200);
    expect(load(await confirmed.text())('h1').text()).toBe("You're subscribed");
    expect((await app.ctx.repos.subscriptions.forSubscriber(sub.id)).every((s) => s.status === 'active' && s.confirmedAt)).toBe(true);

    // Single-use and harmless twice.
    const again = await fetch(confirmUrl, { method: 'POST' });
    expect(again.status).toBe(200);
    const history = await app.ctx.repos.consentEvents.history(sub.id);
    expect(history.map((e) => e.action)).toEqual(['requested', 'confirmed']);
  });

  it('records every field of the consent event', async () => {
    await signup({ email: 'consent@example.com', topics: ['energy'] });
    const sub = (await subscriber('consent@example.com'))!;
    const [event] = await app.ctx.repos.consentEvents.history(sub.id);
    const terms = (await app.ctx.repos.terms.current())!;
    expect(event).toMatchObject({
      action: 'requested',
      topics: ['energy'],
      termsVersion: terms.version,
      termsSha256: terms.bodySha256,
      consentText: 'I agree to the Terms & Conditions',
      consentMode: 'checkbox',
      sourceUrl: 'https://news.example/article',
      form: 'widget',
      userAgent: 'LifecycleTest/1.0',
    });
    expect(event!.ip).toMatch(/127\.0\.0\.1/);
    expect(event!.createdAt).toBeInstanceOf(Date);
    await sendQueued();
  });

  it('accepts form-encoded bodies too', async () => {
    const res = await signup({ email: 'form@example.com', topics: ['japan', 'energy'] }, { contentType: 'form' });
    expect(res.status).toBe(202);
    const sub = (await subscriber('form@example.com'))!;
    expect((await app.ctx.repos.subscriptions.forSubscriber(sub.id)).map((s) => s.topicSlug)).toEqual(['energy', 'japan']);
    await sendQueued();
  });

  it('asks an active subscriber to confirm added topics by email too', async () => {
    await signup({ email: 'reader.one@example.com', topics: ['japan', 'energy'] });
    const [mail] = await sendQueued();
    expect(mail!.subject).toBe('Confirm your alerts: Energy');
    const sub = (await subscriber('reader.one@example.com'))!;
    const subs = await app.ctx.repos.subscriptions.forSubscriber(sub.id);
    expect(subs.find((s) => s.topicSlug === 'energy')!.status).toBe('pending');
    expect(subs.find((s) => s.topicSlug === 'japan')!.status).toBe('active');
  });
});

describe('decline', () => {
  it('opens a page from the mail that changes nothing; its button declines, and that address gets no confirmation for 30 days', async () => {
    await signup({ email: 'not-me@example.com', topics: ['nato'] });
    const [mail] = await sendQueued();
    const declineUrl = linkTo(mail!, '/decline/')!;
    // The link in the mail opens a page (scanners open it too: GET changes nothing).
    const page = await fetch(declineUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const $ = load(await page.text());
    expect($('h1').text()).toBe("Didn't ask for these alerts?");
    expect($('main').text()).toContain('NATO');
    expect($('main').text()).toContain('30 days');
    const sub = (await subscriber('not-me@example.com'))!;
    expect((await app.ctx.repos.subscriptions.forSubscriber(sub.id)).map((s) => s.status)).toEqual(['pending']);

    // The reader presses the page's one button.
    const form = $('form[method="post"]').filter((_, f) => $(f).find('button').text().includes("this wasn't me"));
    expect(form).toHaveLength(1);
    const declined = await fetch(new URL(form.attr('action')!, declineUrl), { method: 'POST' });
    expect(declined.status).toBe(200);
    expect(await declined.text()).toContain('Thanks for letting us know');
    expect(await app.ctx.repos.subscriptions.forSubscriber(sub.id)).toEqual([]);
    expect((await app.ctx.repos.consentEvents.history(sub.id)).map((e) => e.action)).toEqual(['requested', 'declined']);
    expect((await fetch(declineUrl)).status).toBe(200); // answered: says so, still a page

    const again = await signup({ email: 'not-me@example.com', topics: ['nato'] });
    expect(again.status).toBe(202);
    expect(await sendQueued()).toHaveLength(0);

    // The nightly purge of unconfirmed signups keeps the decline until its quiet period ends.
    app.clock.advance(8 * 86_400_000);
    try {
      await app.ctx.services.subscriptions.purgeUnconfirmed();
      expect(await subscriber('not-me@example.com')).toBeDefined();
      expect((await signup({ email: 'not-me@example.com', topics: ['nato'] })).status).toBe(202);
      expect(await sendQueued()).toHaveLength(0);
      // After 30 days the address may be asked again.
      app.clock.advance(23 * 86_400_000);
      expect((await signup({ email: 'not-me@example.com', topics: ['nato'] })).status).toBe(202);
      expect((await sendQueued()).map((m) => m.subject)).toEqual(['Confirm your alerts: NATO']);
    } finally {
      app.clock.advance(-31 * 86_400_000);
    }
  });
});

describe('one-click unsubscribe (RFC 8058)', () => {
  const activeSubscriber = (email: string, topics: string[]) => flows().activeSubscriber(email, topics);

  it('unsubscribes with an urlencoded or a multipart one-click POST: 200, no redirect, idempotent', async () => {
    const sub = await activeSubscriber('oneclick@example.com', ['japan', 'nato']);
    const japanOnly = app.ctx.links.unsubscribeUrl(sub.id, [(await app.ctx.repos.topics.findBySlug('japan'))!.id], app.clock.now());

    const page = await fetch(japanOnly);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('This stops alerts about <strong>Japan</strong>. Other topics you follow are not affected.');

    const first = await fetch(japanOnly, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(first.status).toBe(200);
    const second = await fetch(japanOnly, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(second.status).toBe(200);
    const subs = await app.ctx.repos.subscriptions.forSubscriber(sub.id);
    expect(subs.find((s) => s.topicSlug === 'japan')!.status).toBe('unsubscribed');
    expect(subs.find((s) => s.topicSlug === 'nato')!.status).toBe('active');

    const all = app.ctx.links.unsubscribeUrl(sub.id, null, app.clock.now());
    const multipart = new FormData();
    multipart.set('List-Unsubscribe', 'One-Click');
    const viaMultipart = await fetch(all, { method: 'POST', redirect: 'manual', body: multipart });
    expect(viaMultipart.status).toBe(200);
    expect((await app.ctx.repos.subscriptions.forSubscriber(sub.id)).every((s) => s.status === 'unsubscribed')).toBe(true);

    const withdrawals = (await app.ctx.repos.consentEvents.history(sub.id)).filter((e) => e.action === 'withdrawn');
    expect(withdrawals.map((e) => [e.topics, e.form])).toEqual([
      [['japan'], 'one-click'],
      [['nato'], 'one-click'],
    ]);
  });

  it('refuses a token with one character changed, and honours links for at least 60 days', async () => {
    const sub = (await subscriber('oneclick@example.com'))!;
    const url = app.ctx.links.unsubscribeUrl(sub.id, null, app.clock.now());
    const tampered = url.slice(0, -3) + (url.at(-3) === 'A' ? 'B' : 'A') + url.slice(-2);
    expect((await fetch(tampered, { method: 'POST' })).status).toBe(404);
    app.clock.advance(61 * 86_400_000);
    expect((await fetch(url, { method: 'POST' })).status).toBe(200);
    app.clock.advance(-61 * 86_400_000);
  });
});

describe('uniform answers, limits and traps', () => {
  it('answers the same for new, pending, active, declined and suppressed addresses', async () => {
    await app.ctx.repos.suppressions.add(app.ctx.links.signer.emailHash('suppressed@example.com'), 'manual', null, app.clock.now());
    const answers = [];
    for (const email of ['brand-new@example.com', 'form@example.com', 'reader.one@example.com', 'not-me@example.com', 'suppressed@example.com']) {
      const started = performance.now();
      const r = await signup({ email, topics: ['japan'] });
      answers.push({ status: r.status, body: r.body, ms: performance.now() - started });
    }
    for (const a of answers) expect({ status: a.status, body: a.body }).toEqual({ status: answers[0]!.status, body: answers[0]!.body });
    // Suppressed: nothing mailed.
    const mails = await sendQueued();
    expect(mails.map((m) => (m.to && 'text' in m.to ? m.to.text : ''))).not.toContain('suppressed@example.com');
  });

  it('sends at most 3 confirmation mails a day to one address', async () => {
    for (let i = 0; i < 5; i++) expect((await signup({ email: 'eager@example.com', topics: ['nato'] })).status).toBe(202);
    const mails = await sendQueued();
    expect(mails.filter((m) => m.to && 'text' in m.to && m.to.text === 'eager@example.com')).toHaveLength(3);
  });

  it('writes concurrent signups in batches, each exactly once, repeated and suppressed addresses included', async () => {
    await app.ctx.repos.suppressions.add(app.ctx.links.signer.emailHash('burst-suppressed@example.com'), 'manual', null, app.clock.now());
    const { formToken, termsVersion } = await flows().widgetToken();
    app.clock.advance(3000);
    const post = (email: string, topics: string[]) =>
      fetch(`${app.url}/api/v1/subscriptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, topics, frequency: 'weekly', acceptTerms: true, termsVersion, formToken, website: '' }),
      });
    const emails = [
      ...Array.from({ length: 40 }, (_, i) => `burst-${i}@example.com`),
      // one address four times (different case, different topics): never in one statement twice
      'Burst-Dup@example.com', 'burst-dup@example.com', 'BURST-DUP@example.com', 'burst-dup@EXAMPLE.com',
      'burst-suppressed@example.com',
    ];
    // On the prototype: the write runs on the transaction's own repositories (with its webhook events).
    const writes = vi.spyOn(SubscribersRepository.prototype, 'requestSignups');
    try {
      const answers = await Promise.all(emails.map((e, i) => post(e, i % 2 === 0 ? ['japan'] : ['nato', 'energy'])));
      expect(answers.map((r) => r.status)).toEqual(emails.map(() => 202));
      if (app.db.engine === 'postgres') {
        // fewer statements than requests: later arrivals waited and went together (embedded
        // PGlite runs each statement on the event loop, so requests arrive one at a time there)
        expect(writes.mock.calls.length).toBeLessThan(emails.length);
        expect(Math.max(...writes.mock.calls.map(([items]) => items.length))).toBeGreaterThan(1);
      }
      for (const [items] of writes.mock.calls) expect(new Set(items.map((i) => i.normalized)).size).toBe(items.length);
    } finally {
      writes.mockRestore();
    }

    for (let i = 0; i < 40; i++) {
      const sub = (await subscriber(`burst-${i}@example.com`))!;
      expect((await app.ctx.repos.subscriptions.forSubscriber(sub.id)).map((s) => [s.topicSlug, s.status, s.frequency])).toEqual(
        i % 2 === 0 ? [['japan', 'pending', 'weekly']] : [['energy', 'pending', 'weekly'], ['nato', 'pending', 'weekly']],
      );
      expect((await app.ctx.repos.consentEvents.history(sub.id)).map((e) => e.action)).toEqual(['requested']);
    }
    const dup = (await subscriber('burst-dup@example.com'))!;
    expect((await app.ctx.repos.consentEvents.history(dup.id)).filter((e) => e.action === 'requested')).toHaveLength(4);
    expect((await app.ctx.repos.subscriptions.forSubscriber(dup.id)).map((s) => s.topicSlug)).toEqual(['energy', 'japan', 'nato']);
    expect(await subscriber('burst-suppressed@example.com')).toBeUndefined();

    const mails = await sendQueued();
    const to = mails.map(flows().recipient);
    for (let i = 0; i < 40; i++) expect(to.filter((t) => t === `burst-${i}@example.com`)).toHaveLength(1);
    expect(to.filter((t) => t === 'burst-dup@example.com')).toHaveLength(3); // the daily limit holds across batches
    expect(to).not.toContain('burst-suppressed@example.com');
  });

  it.runIf(testEngine() === 'postgres')('holds the daily limit when two batches for one address wait on the same row lock', async () => {
    // Two mails already today: one left. Both batches below take their snapshot, then queue on
    // the subscriber's row lock; the second to get it must still see the first one's mail.
    for (let i = 0; i < 2; i++) expect((await signup({ email: 'race@example.com', topics: ['japan'] })).status).toBe(202);
    expect((await sendQueued()).map(flows().recipient)).toEqual(['race@example.com', 'race@example.com']);
    const sub = (await subscriber('race@example.com'))!;

    const holder = new pg.Client({ connectionString: app.db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM subscribers WHERE id = $1 FOR UPDATE', [sub.id]);
      const answers = Promise.all(['nato', 'energy'].map((t) => signup({ email: 'race@example.com', topics: [t] })));
      // the same address never shares a batch, so these are two statements, both waiting on the lock
      const deadline = Date.now() + 10_000;
      for (;;) {
        await holder.query('SELECT pg_stat_clear_snapshot()'); // else it reads the view as it was at BEGIN
        const { rows } = await holder.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%prepare:signups%'`,
        );
        if (rows[0]!.n === 2) break;
        if (Date.now() > deadline) throw new Error(`expected two signup statements waiting on the lock, saw ${rows[0]!.n}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await holder.query('COMMIT');
      expect((await answers).map((a) => a.status)).toEqual([202, 202]);
    } finally {
      await holder.end();
    }
    expect((await app.ctx.repos.subscriptions.forSubscriber(sub.id)).map((s) => s.topicSlug)).toEqual(['energy', 'japan', 'nato']);
    expect((await sendQueued()).map(flows().recipient)).toEqual(['race@example.com']);
  });

  it('drops honeypot and too-fast submissions silently: 202, nothing stored', async () => {
    const honeypot = await signup({ email: 'bot1@example.com', website: 'http://spam.example' });
    expect(honeypot.status).toBe(202);
    const tooFast = await signup({ email: 'bot2@example.com' }, { wait: false });
    expect(tooFast.status).toBe(202);
    const noToken = await signup({ email: 'bot3@example.com', formToken: undefined });
    expect(noToken.status).toBe(202);
    const forged = await signup({ email: 'bot4@example.com', formToken: 'MTIz.AAAAAAAAAAAAAAAAAAAAAA' });
    expect(forged.status).toBe(202);
    for (const e of ['bot1@example.com', 'bot2@example.com', 'bot3@example.com', 'bot4@example.com']) expect(await subscriber(e)).toBeUndefined();
  });

  it('rejects bad input with 400s naming the field, and outdated terms with 409', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ email: 'not-an-address' }, 'email'],
      [{ email: 'a@example.com\r\nBcc: x@example.com' }, 'email'],
      [{ email: `${'a'.repeat(250)}@example.com` }, 'email'],
      [{ email: 'a@example.com', topics: ['no-such-topic', 'old'] }, 'topics'],
      [{ email: 'a@example.com', topics: [] }, 'topics'],
      [{ email: 'a@example.com', frequency: 'hourly' }, 'frequency'],
      [{ email: 'a@example.com', acceptTerms: false }, 'acceptTerms'],
    ];
    for (const [fields, path] of cases) {
      const r = await signup(fields);
      expect(r.status, JSON.stringify(fields)).toBe(400);
      expect(r.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    }
    const unknown = await signup({ email: 'a@example.com', topics: ['no-such-topic', 'old'] });
    expect(unknown.body.error.message).toContain('no-such-topic, old');

    const current = (await app.ctx.repos.terms.current())!.version;
    const outdated = await signup({ email: 'a@example.com', termsVersion: current + 7 });
    expect(outdated.status).toBe(409);
    expect(outdated.body.error).toMatchObject({ code: 'terms_outdated', currentVersion: current });

    const wrongType = await fetch(`${app.url}/api/v1/subscriptions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(wrongType.status).toBe(415);
  });

  it('limits signups per IP with 429', async () => {
    const limited = await startTestApp({ SIGNUP_RATE_LIMIT: '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) {
        const r = await fetch(`${limited.url}/api/v1/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `x${i}@example.com` }) });
        statuses.push(r.status);
        if (r.status === 429) expect(((await r.json()) as any).error.code).toBe('rate_limited');
      }
      expect(statuses).toEqual([400, 400, 400, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('expiry, preferences, manage links and erasure', () => {
  it('shows a 410 page with a way back once a confirmation link expired', async () => {
    await signup({ email: 'late@example.com', topics: ['energy'] });
    const [mail] = await sendQueued();
    app.clock.advance(8 * 86_400_000);
    try {
      const page = await fetch(linkTo(mail!, '/confirm/')!);
      expect(page.status).toBe(410);
      expect(await page.text()).toContain('/subscribe?topics=energy');
      expect((await fetch(linkTo(mail!, '/confirm/')!, { method: 'POST' })).status).toBe(410);
    } finally {
      app.clock.advance(-8 * 86_400_000);
    }
  });

  it('changes topics, frequency, time and pause from the preference centre', async () => {
    const sub = (await subscriber('reader.one@example.com'))!;
    const url = app.ctx.links.preferencesUrl(sub.id, app.clock.now());
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('name="topics" value="japan" checked');

    const form = new URLSearchParams([
      ['topics', 'japan'],
      ['topics', 'energy'],
      ['frequency_japan', 'weekly'],
      ['frequency_energy', 'instant'],
      ['timeZone', 'Asia/Tokyo'],
      ['digestHour', '7'],
      ['digestWeekday', '5'],
      ['pause', 'until'],
      ['pausedUntil', '2030-01-01'],
    ]);
    const saved = await fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    expect(saved.status).toBe(303);
    const subs = await app.ctx.repos.subscriptions.forSubscriber(sub.id);
    expect(subs.map((s) => [s.topicSlug, s.status, s.frequency])).toEqual([
      ['energy', 'active', 'instant'],
      ['japan', 'active', 'weekly'],
      ['nato', 'unsubscribed', 'instant'],
    ]);
    const after = (await subscriber('reader.one@example.com'))!;
    expect(after).toMatchObject({ timeZone: 'Asia/Tokyo', digestHour: 7, digestWeekday: 5 });
    expect(after.pausedUntil?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    const actions = (await app.ctx.repos.consentEvents.history(sub.id)).map((e) => e.action);
    expect(actions.slice(-2)).toEqual(['withdrawn', 'preferences-changed']);

    const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'timeZone=Mars%2FOlympus' });
    expect(bad.status).toBe(400);
  });

  it('mails a preference link on /manage and answers the same for unknown addresses', async () => {
    const known = await fetch(`${app.url}/manage`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=reader.one%40example.com' });
    const unknown = await fetch(`${app.url}/manage`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=nobody%40example.com' });
    expect(known.status).toBe(unknown.status);
    expect(await known.text()).toBe(await unknown.text());
    const mails = await sendQueued();
    expect(mails).toHaveLength(1);
    const prefs = linkTo(mails[0]!, '/preferences/')!;
    expect((await fetch(prefs)).status).toBe(200);
    app.clock.advance(31 * 86_400_000);
    expect((await fetch(prefs)).status).toBe(410);
    app.clock.advance(-31 * 86_400_000);

    // Three a day however many ask at once (CONFIRM_MAIL_DAILY_LIMIT): one sent, two to go.
    const burst = await Promise.all(
      Array.from({ length: 6 }, () => fetch(`${app.url}/manage`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=reader.one%40example.com' })),
    );
    expect(burst.map((r) => r.status)).toEqual(burst.map(() => known.status));
    expect((await sendQueued()).map(flows().recipient)).toEqual(['reader.one@example.com', 'reader.one@example.com']);
  });

  it('exports and erases: only the suppression hash remains, and the address is never mailed again', async () => {
    const sub = (await subscriber('form@example.com'))!;
    const url = app.ctx.links.preferencesUrl(sub.id, app.clock.now());
    const exported = await fetch(`${url.replace('/preferences/', '/preferences/')}/export`);
    expect(exported.headers.get('content-disposition')).toContain('attachment');
    const data = (await exported.json()) as any;
    expect(data.subscriber.email).toBe('form@example.com');
    expect(data.consentEvents.length).toBeGreaterThan(0);
    expect(data.deliveries.length).toBeGreaterThan(0);

    const confirmStep = await fetch(`${url}/erase`, { method: 'POST' });
    expect(await confirmStep.text()).toContain('Yes, erase my data');
    expect(await subscriber('form@example.com')).toBeDefined();

    const erased = await fetch(`${url}/erase`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
    expect(erased.status).toBe(200);
    expect(await subscriber('form@example.com')).toBeUndefined();
    expect(await app.ctx.repos.consentEvents.history(sub.id)).toEqual([]);
    const deliveries = await app.ctx.repos.deliveries.listForSubscriber(sub.id);
    expect(deliveries).toEqual([]);
    const { rows } = await (await import('kysely')).sql<{ n: number }>`
      SELECT count(*)::int AS n FROM deliveries WHERE to_address = 'form@example.com' OR payload::text LIKE '%form@example.com%'`.execute(app.db.db);
    expect(rows[0]!.n).toBe(0);
    const suppressions = await app.ctx.repos.suppressions.list(100);
    expect(suppressions.find((s) => s.emailHash === app.ctx.links.signer.emailHash('form@example.com'))?.reason).toBe('erased');
    expect(JSON.stringify(suppressions)).not.toContain('form@example.com');

    expect((await signup({ email: 'form@example.com' })).status).toBe(202);
    expect(await sendQueued()).toHaveLength(0);
    expect(await subscriber('form@example.com')).toBeUndefined(); // an erased address is not stored again
    expect((await fetch(url)).status).toBe(404);
  });

  it('purges signups never confirmed after PENDING_TTL', async () => {
    await signup({ email: 'never-confirms@example.com', topics: ['nato'] });
    await sendQueued();
    app.clock.advance(8 * 86_400_000);
    try {
      const result = await app.ctx.services.subscriptions.purgeUnconfirmed();
      expect(result.subscribersDeleted).toBeGreaterThan(0);
      expect(await subscriber('never-confirms@example.com')).toBeUndefined();
      expect(await subscriber('reader.one@example.com')).toBeDefined();
    } finally {
      app.clock.advance(-8 * 86_400_000);
    }
  });
});

describe('terms', () => {
  it('shows the terms in force and each past version, safely rendered', async () => {
    const published = await admin.post('/api/v1/terms', { title: 'Terms & Conditions', bodyMarkdown: '# Our terms\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) **bold**' });
    expect(published.status).toBe(201);
    const v = published.body.terms.version;
    const page = await (await fetch(`${app.url}/terms`)).text();
    expect(page).toContain(`Version ${v}`);
    expect(page).toContain('<strong>bold</strong>');
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).not.toContain('href="javascript:');
    const old = await fetch(`${app.url}/terms/1`);
    expect(old.status).toBe(200);
    expect(await old.text()).toContain('see the version in force');
    expect((await fetch(`${app.url}/terms/999`)).status).toBe(404);
  });

  it('refuses signups in production until terms are published (503)', async () => {
    const prod = await startTestApp({
      NODE_ENV: 'production',
      SECRET_KEY: 'x'.repeat(40),
      DATABASE_URL: 'postgres://unused.invalid/x',
      SMTP_URL: smtp.url,
      MAIL_FROM: 'alerts@news.example',
      POSTAL_ADDRESS: 'Somewhere',
    });
    try {
      if (await prod.ctx.repos.terms.current()) return; // a shared database already has terms
      const cfg = (await (await fetch(`${prod.url}/api/v1/widget-config?topics=japan`)).json()) as any;
      prod.clock.advance(3000);
      const r = await fetch(`${prod.url}/api/v1/subscriptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'p@example.com', topics: ['japan'], acceptTerms: true, termsVersion: 1, formToken: cfg.formToken }),
      });
      expect(r.status).toBe(503);
      expect(((await r.json()) as any).error.code).toBe('terms_unavailable');
      expect((await fetch(`${prod.url}/dev/mail`)).status).toBe(404);
    } finally {
      await prod.close();
    }
  });
});
