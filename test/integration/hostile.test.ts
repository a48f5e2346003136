import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { buildOpenApiDocument } from '../../src/http/openapi/index.js';
import { buildMessage, MailHeaderError } from '../../src/mail/message.js';

// Hostile input (issue 7, item 4): every public and admin endpoint, fed wrong types, huge and
// empty strings, unicode, CR/LF, SQL and HTML, in the body, the query string and the path.
// Never a 5xx, never a stack trace, always the error shape on the API, pages on the pages.
// Then the specific attacks: markup in names and titles, header injection, tampered link
// tokens, CORS, oversized bodies, bursts against the rate limit.

const BODY_LIMIT = 16 * 1024;
const ALLOWED_ORIGIN = 'https://news.example';
const STACK = /at .*\.(ts|js):\d+/;
const XSS_SCRIPT = '<script>alert("xss")</script>';
const XSS_IMG = '<img src=x onerror=alert(1)>';

let app: TestApp;
let api: Awaited<ReturnType<typeof apiClient>>;

beforeAll(async () => {
  app = await startTestApp({ SIGNUP_RATE_LIMIT: '5', JSON_BODY_LIMIT: `${BODY_LIMIT}b`, ALLOWED_ORIGINS: ALLOWED_ORIGIN });
  api = await apiClient(app, ['admin']);
  for (const t of [
    { slug: 'html-topic', name: `Kyoto ${XSS_SCRIPT} & <b>bold</b>`, description: `About ${XSS_IMG}`, query: 'kyoto' },
    { slug: 'fuzz-topic', name: 'Fuzz', query: 'fuzz' },
    { slug: 'plain-topic', name: 'Plain', query: 'plainword' },
  ]) {
    expect((await api.post('/api/v1/topics', t)).status).toBe(201);
  }
  // Real link tokens among the path values, so the fuzzer also gets past the token check.
  await signup('fuzz.reader@example.com', ['fuzz-topic']);
  const [mail] = await deliverQueued();
  const subscriber = (await app.ctx.repos.subscribers.findByEmail('fuzz.reader@example.com'))!;
  const now = app.ctx.clock.now();
  PATH_PLAUSIBLE.token!.push(
    linkIn(mail!.html, '/confirm/')!.split('/').pop()!,
    app.ctx.links.unsubscribeToken(subscriber.id, null, now),
    app.ctx.links.manageToken(subscriber.id, now),
  );
  PATH_PLAUSIBLE.id!.push(String(subscriber.id));
  await app.ctx.matcher.sync();
});
afterAll(async () => {
  await app?.close();
});

// ------------------------------------------------------------------ helpers

let ipCounter = 0;
/** A fresh client address per request (TRUST_PROXY=loopback), so the per-IP limits do not mask what is behind them. */
const freshIp = () => `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter++ & 255}`;

interface Sent {
  status: number;
  headers: Headers;
  text: string;
}

async function send(method: string, path: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<Sent> {
  const res = await fetch(`${app.url}${path}`, { method, headers: { 'x-forwarded-for': freshIp(), ...opts.headers }, body: opts.body, redirect: 'manual' });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function signupFields() {
  const res = await fetch(`${app.url}/api/v1/widget-config`);
  const body = (await res.json()) as { formToken: string; consent: { termsVersion: number } };
  app.clock.advance(3000); // past the time trap
  return { formToken: body.formToken, termsVersion: body.consent.termsVersion };
}

async function signup(email: string, topics: string[]) {
  const fields = await signupFields();
  const res = await send('POST', '/api/v1/subscriptions', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, topics, frequency: 'daily', acceptTerms: true, website: '', sourceUrl: 'https://news.example/a', ...fields }),
  });
  expect(res.status, res.text).toBe(202);
}

/** Sends what is queued and returns the outbox messages it produced. */
async function deliverQueued() {
  const before = new Set((await app.ctx.repos.outbox.list(500)).map((m) => m.id));
  await app.ctx.services.sender.runOnce();
  return (await app.ctx.repos.outbox.list(500)).filter((m) => !before.has(m.id));
}

const linkIn = (htmlBody: string, path: string) => {
  const m = new RegExp(`${app.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${path}[^"'\\s<>]+`).exec(htmlBody);
  return m ? m[0].replace(/&amp;/g, '&').replace(/&#x3D;/g, '=') : undefined;
};

/** Lone surrogates become U+FFFD: what a client's UTF-8 encoder does before percent-encoding. */
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Every token that differs from `token` in exactly one character (a sample of replacements per position). */
function oneCharVariants(token: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token[i]!;
    const pool = c === '.' ? ['A', '_', '-'] : [...B64URL].filter((x) => x !== c);
    // The neighbours in the alphabet differ only in the low bits: the case lenient decoding forgives.
    const at = B64URL.indexOf(c);
    const picks = new Set([pool[(at + pool.length) % pool.length], pool[(at + 1) % pool.length], pool[(at + 7) % pool.length], '.'].filter((x): x is string => !!x && x !== c));
    for (const p of picks) out.push(token.slice(0, i) + p + token.slice(i + 1));
  }
  return out;
}

// ------------------------------------------------------------------ explicit attacks

describe('markup in topic names and article titles', () => {
  it('is escaped on the topic page, the hosted signup page and the feed', async () => {
    const ingested = await app.ctx.services.articles.ingest({
      url: 'https://news.example/kyoto-1',
      title: `Kyoto news ${XSS_IMG}`,
      summary: `Summary ${XSS_SCRIPT}`,
      body: 'kyoto kyoto',
      publishedAt: app.clock.now(),
    });
    expect(ingested.matchedTopics).toContain('html-topic');

    const page = await send('GET', '/topics/html-topic');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(XSS_SCRIPT);
    expect(page.text).not.toContain(XSS_IMG);
    expect(page.text).not.toContain('<b>bold</b>');
    expect(page.text).toContain('Kyoto &lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(page.text).toContain('Kyoto news &lt;img src=x onerror=alert(1)&gt;');
    expect(page.text).toContain('Summary &lt;script&gt;');

    const hosted = await send('GET', '/subscribe?topics=html-topic');
    expect(hosted.status).toBe(200);
    expect(hosted.text).not.toContain(XSS_SCRIPT);
    expect(hosted.text).toContain('&lt;script&gt;');

    const feed = await send('GET', '/topics/html-topic/feed.xml');
    expect(feed.status).toBe(200);
    // In RSS, markup is either escaped or inside CDATA, never live XML.
    const outsideCdata = feed.text.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
    expect(outsideCdata).not.toContain('<img');
    expect(outsideCdata).not.toContain('<script');
  });

  it('is escaped in mail: the confirmation through the whole pipeline, and a digest render', async () => {
    await signup('markup.reader@example.com', ['html-topic']);
    const [mail] = await deliverQueued();
    expect(mail).toBeDefined();
    expect(mail!.html).not.toContain(XSS_SCRIPT);
    expect(mail!.html).not.toContain('<b>bold</b>');
    expect(mail!.html).toContain('&lt;script&gt;');
    // The text part is plain text: the name as written, which no client renders as markup.
    expect(mail!.text).toContain('Kyoto');
    // The dev outbox page shows the subject and the text part escaped.
    const outbox = await send('GET', `/dev/mail/${mail!.id}`);
    expect(outbox.status).toBe(200);
    expect(outbox.text).not.toContain(XSS_SCRIPT);

    const rendered = app.ctx.templates.render('digest', {
      lang: 'en',
      timeZone: 'UTC',
      publisherName: `Daily ${XSS_SCRIPT}`,
      postalAddress: '1 Street',
      baseUrl: app.url,
      sections: [
        {
          topic: { name: `Topic ${XSS_SCRIPT}`, slug: 'html-topic', url: `${app.url}/topics/html-topic` },
          unsubscribeUrl: `${app.url}/unsubscribe/x`,
          articles: [{ title: `Title ${XSS_IMG}`, url: 'https://news.example/a?x=1&y="2"', summary: `Sum ${XSS_SCRIPT}`, publishedAt: new Date() }],
          moreCount: 0,
          moreUrl: `${app.url}/topics/html-topic`,
        },
      ],
      articleCount: 1,
      topicNames: [`Topic ${XSS_SCRIPT}`],
      confirmedAt: new Date(),
      preferencesUrl: `${app.url}/preferences/x`,
      unsubscribeUrl: `${app.url}/unsubscribe/x`,
    });
    expect(rendered.html).not.toContain(XSS_SCRIPT);
    expect(rendered.html).not.toContain(XSS_IMG);
    expect(rendered.html).not.toContain('y="2"');
    expect(rendered.html).toContain('Title &lt;img');
    expect(rendered.subject).not.toMatch(/[\r\n]/);
  });
});

describe('CR/LF never reaches a mail header', () => {
  it('is refused in topic names by the API', async () => {
    for (const name of ['Evil\r\nBcc: victim@example.com', 'Evil\nSubject: x', 'Evil\rX']) {
      const res = await api.post('/api/v1/topics', { slug: 'crlf-topic', name, query: 'crlf' });
      expect(res.status).toBe(400);
      expect(res.body.error.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'name' })]));
      expect((await api.patch('/api/v1/topics/plain-topic', { name })).status).toBe(400);
    }
  });

  it('is folded out of the subject by the template, and buildMessage refuses it in any header', () => {
    const rendered = app.ctx.templates.render('confirm', {
      lang: 'en',
      timeZone: 'UTC',
      publisherName: 'Daily\r\nBcc: a@example.com',
      postalAddress: '1 Street',
      baseUrl: app.url,
      topics: [{ name: 'Evil\r\nBcc: victim@example.com\r\n\r\n<b>body</b>', slug: 'evil' }],
      frequency: 'daily',
      confirmUrl: `${app.url}/confirm/x`,
      declineUrl: `${app.url}/decline/x`,
      expiresAt: new Date(),
      termsVersion: 1,
      termsUrl: `${app.url}/terms/1`,
    });
    expect(rendered.subject).not.toMatch(/[\r\n\u2028\u2029]/);
    const base = { from: { name: 'Daily', address: 'alerts@example.com' }, to: 'reader@example.com', html: 'x', text: 'x', messageId: '<1@example.com>' };
    expect(() => buildMessage({ ...base, subject: rendered.subject })).not.toThrow();
    for (const bad of [
      { subject: 'a\r\nBcc: victim@example.com' },
      { subject: 'a\nb' },
      { from: { name: 'Daily\r\nBcc: x@example.com', address: 'alerts@example.com' }, subject: 's' },
      { to: 'reader@example.com\r\nBcc: x@example.com', subject: 's' },
      { subject: 's', headers: { 'X-Test': 'a\r\nBcc: x@example.com' } },
      { subject: 's', unsubscribeUrl: `${app.url}/unsubscribe/x\r\nBcc: x@example.com` },
    ]) {
      expect(() => buildMessage({ ...base, ...bad } as Parameters<typeof buildMessage>[0])).toThrow(MailHeaderError);
    }
  });

  it('stays out of the headers of a real mail even when a stored name carries it', async () => {
    // Validation keeps CR/LF out of the API; a row written another way (an old import, a
    // database console) must still not inject a header.
    const topic = await app.ctx.repos.topics.insert({ slug: 'stored-crlf', name: 'Stored\r\nBcc: victim@example.com\r\nX-Evil: 1', query: 'storedcrlf', normalizedQuery: 'storedcrlf' });
    expect(topic).toBeDefined();
    await app.ctx.matcher.sync();
    await signup('crlf.reader@example.com', ['stored-crlf']);
    const mails = await deliverQueued();
    expect(mails).toHaveLength(1);
    // Unfolded, every header is one line: the name stays inside the Subject, as text.
    const headers = mails[0]!.rawHeaders.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/);
    const names = headers.map((h) => h.slice(0, h.indexOf(':')).toLowerCase());
    expect(names).not.toContain('bcc');
    expect(names).not.toContain('x-evil');
    expect(headers.filter((h) => h.includes('victim@example.com'))).toEqual([expect.stringMatching(/^Subject: .*Stored Bcc: victim@example\.com X-Evil: 1/)]);
    expect(mails[0]!.subject).not.toMatch(/[\r\n]/);
    expect(mails[0]!.recipient).toBe('crlf.reader@example.com');
  });
});

describe('link tokens', () => {
  it('refuses a confirmation token with any one character changed, and accepts the real one', async () => {
    await signup('token.reader@example.com', ['plain-topic']);
    const [mail] = await deliverQueued();
    const confirm = linkIn(mail!.html, '/confirm/')!;
    const decline = linkIn(mail!.html, '/decline/')!;
    expect(confirm).toBeDefined();
    expect(decline).toBeDefined();
    const token = confirm.slice(`${app.url}/confirm/`.length);
    const variants = oneCharVariants(token);
    expect(variants.length).toBeGreaterThan(token.length * 2);
    for (const v of variants) {
      const res = await send('POST', `/confirm/${encodeURIComponent(v)}`);
      expect(res.status, `confirm ${v}`).toBe(404);
    }
    for (const v of variants.filter((_, i) => i % 3 === 0)) {
      expect((await send('GET', `/confirm/${encodeURIComponent(v)}`)).status, `GET confirm ${v}`).toBe(404);
      expect((await send('POST', `/decline/${encodeURIComponent(v)}`)).status, `decline ${v}`).toBe(404);
    }
    const subscriber = (await app.ctx.repos.subscribers.findByEmail('token.reader@example.com'))!;
    const before = await app.ctx.services.preferences.exportData(subscriber.id);
    expect(before!.subscriptions.map((s) => s.status)).toEqual(['pending']);
    expect((await send('POST', `/confirm/${token}`)).status).toBe(200);
    const after = await app.ctx.services.preferences.exportData(subscriber.id);
    expect(after!.subscriptions.map((s) => s.status)).toEqual(['active']);
  });

  it('refuses unsubscribe and preference tokens with any one character changed', async () => {
    const subscriber = (await app.ctx.repos.subscribers.findByEmail('token.reader@example.com'))!;
    const now = app.ctx.clock.now();
    const unsubscribe = app.ctx.links.unsubscribeToken(subscriber.id, null, now);
    const manage = app.ctx.links.manageToken(subscriber.id, now);
    for (const v of oneCharVariants(unsubscribe)) {
      expect((await send('POST', `/unsubscribe/${encodeURIComponent(v)}`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })).status, `unsubscribe ${v}`).toBe(404);
    }
    for (const v of oneCharVariants(manage)) {
      expect((await send('GET', `/preferences/${encodeURIComponent(v)}`)).status, `preferences ${v}`).toBe(404);
    }
    for (const v of oneCharVariants(manage).filter((_, i) => i % 4 === 0)) {
      expect((await send('POST', `/preferences/${encodeURIComponent(v)}/erase`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' })).status).toBe(404);
      expect((await send('GET', `/preferences/${encodeURIComponent(v)}/export`)).status).toBe(404);
    }
    // A token for one purpose is not one for another.
    expect((await send('GET', `/preferences/${unsubscribe}`)).status).toBe(404);
    expect((await send('GET', `/unsubscribe/${manage}`)).status).toBe(404);
    // The subscriber is untouched; the real tokens work.
    expect((await app.ctx.services.preferences.exportData(subscriber.id))!.subscriptions.map((s) => s.status)).toEqual(['active']);
    expect((await send('GET', `/preferences/${manage}`)).status).toBe(200);
    expect((await send('GET', `/unsubscribe/${unsubscribe}`)).status).toBe(200);
  });
});

describe('CORS', () => {
  it('answers only ALLOWED_ORIGINS (and the service itself) on the widget endpoints', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/widget-config'],
      ['OPTIONS', '/api/v1/subscriptions'],
      ['OPTIONS', '/api/v1/prompt-events'],
    ] as const) {
      const allowed = await send(method, path, { headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' } });
      expect(allowed.headers.get('access-control-allow-origin'), `${method} ${path}`).toBe(ALLOWED_ORIGIN);
      expect(allowed.headers.get('vary')).toMatch(/Origin/i);
      for (const origin of ['https://evil.example', 'https://news.example.evil.example', 'null', `${ALLOWED_ORIGIN}.evil`, 'http://news.example']) {
        const refused = await send(method, path, { headers: { origin, 'access-control-request-method': 'POST' } });
        expect(refused.headers.get('access-control-allow-origin'), `${origin} on ${method} ${path}`).toBeNull();
        expect(refused.headers.get('access-control-allow-credentials')).toBeNull();
      }
    }
  });

  it('is never granted on the admin API', async () => {
    for (const path of ['/api/v1/topics', '/api/v1/subscribers?q=ab', '/api/v1/deliveries']) {
      const res = await send('GET', path, { headers: { origin: ALLOWED_ORIGIN, authorization: `Bearer ${api.token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

describe('bodies over the limit', () => {
  it('get 413 with the error shape on the API (with or without a token) and a page on the forms', async () => {
    const huge = 'x'.repeat(BODY_LIMIT + 1);
    const json = { 'content-type': 'application/json' };
    for (const [path, headers] of [
      ['/api/v1/subscriptions', json],
      ['/api/v1/prompt-events', json],
      ['/api/v1/articles', { ...json, authorization: `Bearer ${api.token}` }],
      ['/api/v1/topics', json],
      ['/api/v1/terms', { ...json, authorization: `Bearer ${api.token}` }],
    ] as const) {
      const res = await send('POST', path, { headers, body: JSON.stringify({ title: huge, bodyMarkdown: huge, email: huge }) });
      expect(res.status, path).toBe(413);
      expect(JSON.parse(res.text)).toEqual({ error: { code: 'payload_too_large', message: expect.any(String), issues: [] } });
    }
    // Just under the limit is parsed (and then judged on its content).
    const under = await send('POST', '/api/v1/prompt-events', { headers: json, body: JSON.stringify({ topics: ['x'], event: 'shown', pad: 'x'.repeat(BODY_LIMIT - 100) }) });
    expect(under.status).toBe(400);
    const form = await send('POST', '/subscribe', { headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: `email=${huge}` });
    expect(form.status).toBe(413);
    expect(form.headers.get('content-type')).toMatch(/^text\/html/);
    expect(form.text).not.toMatch(STACK);
  });
});

describe('rate limits under a burst', () => {
  it('let at most SIGNUP_RATE_LIMIT of 20 parallel signups from one address through', async () => {
    const fields = await signupFields();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${app.url}/api/v1/subscriptions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.77' },
          body: JSON.stringify({ email: `burst${i}@example.com`, topics: ['plain-topic'], acceptTerms: true, ...fields }),
        }).then(async (r) => ({ status: r.status, body: await r.text() })),
      ),
    );
    const through = results.filter((r) => r.status !== 429);
    expect(through.length).toBeLessThanOrEqual(5);
    expect(through.length).toBeGreaterThan(0);
    for (const r of results.filter((x) => x.status === 429)) {
      expect(JSON.parse(r.body)).toEqual({ error: { code: 'rate_limited', message: expect.any(String), issues: [] } });
    }
    // Another address is not affected.
    const other = await send('POST', '/api/v1/subscriptions', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'other@example.com', topics: ['plain-topic'], acceptTerms: true, ...fields }) });
    expect(other.status).toBe(202);
  });

  it('hold on /manage and the hosted form too', async () => {
    for (const [path, body] of [
      ['/manage', 'email=someone%40example.com'],
      ['/subscribe', 'email=someone%40example.com&topics=plain-topic'],
    ] as const) {
      const ip = `203.0.113.${path.length}`;
      const statuses = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip }, body }).then((r) => r.status),
        ),
      );
      expect(statuses.filter((s) => s !== 429).length, path).toBeLessThanOrEqual(5);
      expect(statuses.some((s) => s >= 500)).toBe(false);
    }
  });
});

// ------------------------------------------------------------------ property-based: every endpoint

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\r\n',
  'a\r\nBcc: victim@example.com',
  'line1\nline2',
  '\u0000',
  'nul\u0000byte',
  '\u202eRTL override\u202c',
  'مرحبا بالعالم',
  'שלום',
  '😀🇯🇵👩‍👩‍👧',
  '\ud800',
  'lone \udfff surrogate',
  '\ufeffBOM',
  "'; DROP TABLE subscribers; --",
  "1' OR '1'='1",
  '1; SELECT pg_sleep(10)',
  '$1',
  '%',
  '%00',
  '%ZZ',
  '\\',
  '../../etc/passwd',
  XSS_SCRIPT,
  XSS_IMG,
  '"><svg onload=alert(1)>',
  '{{constructor.constructor("return process")()}}',
  '__proto__',
  'constructor',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e309',
  '99999999999999999999999999999',
  '2026-02-30T25:61:00Z',
  'true',
  'null',
  'a'.repeat(81),
  'é'.repeat(300),
  'x'.repeat(5000),
];

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('\r', '\n', '<', '>', '"', "'", '&', ';', '-', '\u0000', 'a', '😀', '\ud800'), maxLength: 30 }) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 20_000 }).map((n) => 'y'.repeat(n)) },
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0, 1.5, 2 ** 31, 2 ** 53 + 1, -0, 1e308) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.array(fc.constant('fuzz-topic'), { minLength: 21, maxLength: 25 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('a', '__proto__', 'toString', '$gt'), hostileString, { maxKeys: 3 }) },
);

// Plausible values per field: most fields valid and one hostile reach further into a handler.
const PLAUSIBLE: Record<string, unknown[]> = {
  email: ['reader@example.com', 'READER@Example.com '],
  topics: [['fuzz-topic'], 'fuzz-topic,plain-topic'],
  frequency: ['daily', 'instant'],
  acceptTerms: [true, 'on'],
  termsVersion: [1, '1'],
  sourceUrl: ['https://news.example/a'],
  website: [''],
  event: ['shown', 'dismissed'],
  slug: ['fuzz-new', 'fuzz-topic'],
  name: ['Fuzz name'],
  description: ['d'],
  query: ['fuzz OR japan', 'tag:x'],
  status: ['active', 'archived'],
  promptPriority: [0],
  promptHidden: [false],
  days: [7, '7'],
  limit: [5, '5'],
  url: ['https://news.example/fuzz'],
  title: ['Fuzz title'],
  externalId: ['ext-1'],
  tags: [['a']],
  section: ['world'],
  language: ['en'],
  publishedAt: ['2026-01-01T00:00:00Z'],
  bodyMarkdown: ['# Terms'],
  type: ['hard', 'soft', 'complaint'],
  messageId: ['<1@example.com>'],
  subscriber: ['1'],
  q: ['reader'],
  before: ['1'],
  kind: ['digest'],
  topic: ['fuzz-topic'],
  since: ['2026-01-01T00:00:00Z'],
  cursor: ['MjAyNi0wMS0wMVQwMDowMDowMC4wMDBafDE'],
  article: ['https://news.example/a'],
  timeZone: ['Europe/London'],
  digestHour: ['7'],
  digestWeekday: ['1'],
  pause: ['none', 'until'],
  pausedUntil: ['2030-01-01'],
  confirm: ['yes'],
  scope: ['all'],
  'List-Unsubscribe': ['One-Click'],
};
const plausible = (name: string) => (Object.hasOwn(PLAUSIBLE, name) ? PLAUSIBLE[name] : undefined);
const fieldValue = (name: string) => {
  const values = plausible(name);
  return values ? fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: hostileValue }) : hostileValue;
};

const PATH_PLAUSIBLE: Record<string, string[]> = { slug: ['fuzz-topic', 'nope'], id: ['1', '999999'], token: ['abc.def', 'MQ.AAAAAAAAAAAAAAAAAAAAAA'], version: ['1', '2'] };
const pathValue = (name: string) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...(Object.hasOwn(PATH_PLAUSIBLE, name) ? PATH_PLAUSIBLE[name]! : ['x'])) },
    { weight: 4, arbitrary: hostileString.filter((s) => s.length < 3000).map((s) => encodeURIComponent(wellFormed(s))) },
    // Raw: broken percent-encodings and dot segments, as a client could send them.
    { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%00', '..', '.', '%2e%2e', '%2F', 'a%0d%0aX-Evil:%201', '%F0%9F%98', '%C0%AF') },
  );

interface Operation {
  method: string;
  path: string;
  auth: boolean;
  params: string[];
  query: string[];
  body: string[];
  bodyTypes: string[];
}

function operations(): Operation[] {
  const doc = buildOpenApiDocument({ baseUrl: 'http://x', version: '0', publisherName: 'x' }) as any;
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(item)) {
      const params = (op.parameters ?? []) as { name: string; in: string }[];
      const content = (op.requestBody?.content ?? {}) as Record<string, { schema: any }>;
      const schema = Object.values(content)[0]?.schema;
      const resolved = schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
      ops.push({
        method: method.toUpperCase(),
        path,
        auth: Array.isArray(op.security) && op.security.length > 0,
        params: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: params.filter((p) => p.in === 'query').map((p) => p.name),
        body: Object.keys(resolved?.properties ?? {}),
        bodyTypes: Object.keys(content),
      });
    }
  }
  // Development-only pages, not in the contract.
  ops.push({ method: 'GET', path: '/dev/mail/{id}', auth: false, params: ['id'], query: [], body: [], bodyTypes: [] });
  ops.push({ method: 'GET', path: '/dev/mail/{id}/html', auth: false, params: ['id'], query: [], body: [], bodyTypes: [] });
  return ops;
}

/** A JSON object text that keeps duplicate and `__proto__` keys (JSON.stringify of an object would not). */
const objectText = (entries: [string, unknown][]) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`;

function formText(entries: [string, unknown][]): string {
  const params = new URLSearchParams();
  for (const [k, v] of entries) {
    const values = Array.isArray(v) ? v : [v];
    for (const x of values) params.append(k, typeof x === 'string' ? wellFormed(x) : typeof x === 'object' ? JSON.stringify(x) : String(x));
  }
  return params.toString();
}

function bodyArbitrary(op: Operation): fc.Arbitrary<{ contentType?: string; body?: string }> {
  const names = [...op.body, ...op.body, '__proto__', 'constructor', 'unexpected'];
  const entries = fc.array(
    fc.constantFrom(...names).chain((name) => fieldValue(name).map((v) => [name, v] as [string, unknown])),
    { maxLength: 10 },
  );
  // Start from every known field plausible, then spoil some: deeper than random dictionaries get.
  const mostlyValid = fc
    .tuple(...(op.body.length ? op.body.map((n) => fc.constantFrom(...(plausible(n) ?? ['x']))) : [fc.constant(undefined)]), entries)
    .map((parts) => {
      const spoilt = parts[parts.length - 1] as [string, unknown][];
      const base: [string, unknown][] = op.body.map((n, i) => [n, parts[i]]);
      const keys = new Set(spoilt.map(([k]) => k));
      return [...base.filter(([k]) => !keys.has(k)), ...spoilt];
    });
  return fc.oneof(
    { weight: 4, arbitrary: mostlyValid.map((e) => ({ contentType: 'application/json', body: objectText(e) })) },
    { weight: 2, arbitrary: entries.map((e) => ({ contentType: 'application/json', body: objectText(e) })) },
    { weight: 2, arbitrary: mostlyValid.map((e) => ({ contentType: 'application/x-www-form-urlencoded', body: formText(e) })) },
    { weight: 1, arbitrary: hostileValue.map((v) => ({ contentType: 'application/json', body: JSON.stringify(v) ?? 'null' })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { contentType: 'application/json', body: '{"email":' },
        { contentType: 'application/json', body: '{"a":"\\ud800\\udc00\\ud800"}' },
        { contentType: 'application/json', body: '{"email":"\\u0000"}' },
        { contentType: 'application/json', body: '[1,2,3' },
        { contentType: 'application/json', body: `{${'"a":{'.repeat(5000)}` },
        { contentType: 'application/json', body: 'x'.repeat(BODY_LIMIT + 10) },
        { contentType: 'application/json', body: JSON.stringify({ topics: ['fuzz-topic'], event: 'shown', pad: 'p'.repeat(BODY_LIMIT) }) },
        { contentType: 'application/json; charset=utf-16', body: '{}' },
        { contentType: 'application/json; charset=latin1', body: '{"email":"\u00e9"}' },
        { contentType: 'application/x-www-form-urlencoded', body: 'email=%ZZ&topics=%E0%A4%A' },
        { contentType: 'application/x-www-form-urlencoded', body: Array.from({ length: 300 }, (_, i) => `k${i}=v`).join('&') },
        { contentType: 'application/x-www-form-urlencoded', body: `email=${'e'.repeat(BODY_LIMIT + 1)}` },
        { contentType: 'multipart/form-data; boundary=xyz', body: '--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n--xyz--\r\n' },
        { contentType: 'multipart/form-data', body: 'garbage' },
        { contentType: 'text/plain', body: 'hello' },
        { contentType: 'application/xml', body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>' },
        { contentType: undefined, body: 'no content type' },
        { contentType: 'application/json', body: '' },
      ),
    },
    { weight: 1, arbitrary: fc.constant({}) },
  );
}

function queryArbitrary(op: Operation): fc.Arbitrary<string> {
  const names = [...op.query, 'unexpected', 'topics[]', '__proto__'];
  return fc
    .array(fc.constantFrom(...names).chain((n) => fc.oneof(fieldValue(n), hostileString).map((v) => [n, v] as [string, unknown])), { maxLength: 6 })
    .map((entries) => {
      const text = formText(entries.map(([k, v]) => [k, typeof v === 'string' ? v.slice(0, 1500) : v]));
      return text ? `?${text.slice(0, 6000)}` : '';
    });
}

function check(op: Operation, path: string, res: Sent): void {
  const where = `${op.method} ${path.slice(0, 200)} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, where).toBeLessThan(500);
  expect(res.text, where).not.toMatch(STACK);
  expect(res.text, where).not.toMatch(/node_modules|ZodError|TypeError|SyntaxError:|at async /);
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/html')) {
    // Reflected markup is shown, never executed.
    expect(res.text, where).not.toContain(XSS_SCRIPT);
    expect(res.text, where).not.toContain(XSS_IMG);
    expect(res.text, where).not.toContain('<svg onload');
  }
  if (res.status < 400) return;
  if (path.startsWith('/api/')) {
    expect(type, where).toMatch(/^application\/json/);
    const body = JSON.parse(res.text);
    expect(body, where).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.any(String), issues: expect.any(Array) }) });
    for (const issue of body.error.issues) expect(issue, where).toEqual({ path: expect.any(String), message: expect.any(String) });
  } else if (isPage(op.path)) {
    expect(type, where).toMatch(/^text\/html/);
    expect(res.text, where).toMatch(/^<!doctype html>/i);
  }
}

const NOT_PAGES = /^\/(widget\.js|healthz|readyz|metrics)$|\/feed\.xml$|\/export$|^\/dev\/mail\/\{id\}\/html$/;
const isPage = (path: string) => !path.startsWith('/api/') && !NOT_PAGES.test(path);

describe('every endpoint under hostile input', () => {
  const RUNS = Number(process.env.HOSTILE_RUNS ?? 60);

  for (const op of operations()) {
    it(`${op.method} ${op.path}`, async () => {
      const request = fc.record({
        params: fc.tuple(...(op.params.length ? op.params.map(pathValue) : [fc.constant('')])),
        query: queryArbitrary(op),
        body: op.method === 'GET' ? fc.constant({} as { contentType?: string; body?: string }) : bodyArbitrary(op),
        auth: op.auth ? fc.constantFrom('admin', 'admin', 'admin', 'none', 'garbage', 'ingest-only') : fc.constantFrom('none', 'admin'),
        accept: isPage(op.path) ? fc.constantFrom('text/html,application/xhtml+xml,*/*;q=0.8', '*/*', undefined) : fc.constantFrom('application/json', '*/*', undefined),
      });
      const ingestOnly = op.auth ? await apiClient(app, ['ingest']) : undefined;
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          let path = op.path;
          op.params.forEach((name, i) => (path = path.replace(`{${name}}`, r.params[i] as string)));
          path += r.query;
          const headers: Record<string, string> = {};
          if (r.body.contentType) headers['content-type'] = r.body.contentType;
          if (r.accept) headers.accept = r.accept;
          if (r.auth === 'admin') headers.authorization = `Bearer ${api.token}`;
          if (r.auth === 'garbage') headers.authorization = 'Bearer ta_\u00e9\u00e9 x';
          if (r.auth === 'ingest-only') headers.authorization = `Bearer ${ingestOnly!.token}`;
          let res: Sent;
          try {
            res = await send(op.method, path, { headers, body: r.body.body });
          } catch (err) {
            // fetch refuses some header values (non-Latin-1) before anything is sent: not the server's doing.
            if (err instanceof TypeError && /header|ByteString/i.test(String(err.message) + String((err as { cause?: Error }).cause?.message))) return;
            throw err;
          }
          check(op, path, res);
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
    });
  }
});
