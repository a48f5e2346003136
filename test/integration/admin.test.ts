import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { ConsoleClient } from '../helpers/console.js';
import { loadConfig } from '../../src/config/index.js';
import { cookieNames, setCookie } from '../../src/http/admin/session.js';
import { hashPassword, verifyPassword } from '../../src/services/admin.js';
import { normalizeEmail } from '../../src/services/links.js';

// The admin console over HTTP: accounts, sessions, CSRF, rate limits, the admin API's scopes,
// and an audit entry for every change made through the console.

let app: TestApp;
let api: Awaited<ReturnType<typeof apiClient>>;
const EMAIL = 'editor@example.com';
const PASSWORD = 'correct horse battery staple';

async function auditActions(actor: string) {
  return (await app.ctx.repos.audit.recent(500)).filter((a) => a.actor === actor).map((a) => `${a.action} ${a.target ?? ''}`.trim());
}

beforeAll(async () => {
  app = await startTestApp({ ADMIN_SESSION_TTL: '2h', ADMIN_LOGIN_ATTEMPTS: '5' });
  api = await apiClient(app, ['admin']);
});
afterAll(async () => {
  await app?.close();
});

describe('admin accounts', () => {
  it('the first development start creates one admin with a generated password, once', async () => {
    const first = await app.ctx.services.admin.ensureDevelopmentAdmin();
    expect(first?.email).toBe('admin@localhost');
    expect(first!.password.length).toBeGreaterThanOrEqual(20);
    expect(await app.ctx.services.admin.ensureDevelopmentAdmin()).toBeUndefined();
    const c = new ConsoleClient(app.url);
    expect((await c.login(first!.email, first!.password)).status).toBe(303);
  });

  it('stores scrypt hashes with a random salt, and refuses duplicates and short passwords', async () => {
    const { user, generated } = await app.ctx.services.admin.createAdmin(EMAIL, PASSWORD, 'cli');
    expect(generated).toBe(false);
    const stored = (await app.ctx.repos.admin.findUserForLogin(EMAIL))!.passwordHash;
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(stored).not.toContain(PASSWORD);
    expect(await hashPassword(PASSWORD)).not.toBe(await hashPassword(PASSWORD));
    expect(await verifyPassword(PASSWORD, stored)).toBe(true);
    expect(await verifyPassword('wrong', stored)).toBe(false);
    await expect(app.ctx.services.admin.createAdmin('EDITOR@example.com', undefined, 'cli')).rejects.toMatchObject({ status: 409 });
    await expect(app.ctx.services.admin.createAdmin('x@example.com', 'short', 'cli')).rejects.toMatchObject({ status: 400 });
    const generatedOne = await app.ctx.services.admin.createAdmin('ops@example.com', undefined, 'cli');
    expect(generatedOne.generated).toBe(true);
    expect(generatedOne.password).toMatch(/^[\w-]{24}$/);
    expect((await auditActions('cli')).filter((a) => a.startsWith('admin.create'))).toContain(`admin.create admin:${user.email}`);
  });
});

describe('login, sessions, logout', () => {
  it('logs in with the right password only, with an HttpOnly SameSite cookie', async () => {
    const anonymous = new ConsoleClient(app.url);
    const redirected = await anonymous.get('/admin/topics');
    expect(redirected.status).toBe(303);
    expect(redirected.location).toBe('/admin/login?next=%2Fadmin%2Ftopics');

    const c = new ConsoleClient(app.url);
    const wrong = await c.login(EMAIL, 'not the password');
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Wrong email or password');
    const unknown = await c.login('nobody@example.com', PASSWORD);
    expect(unknown.status).toBe(401);
    expect(unknown.text).toContain('Wrong email or password');

    const page = await c.get('/admin/login');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.text).not.toMatch(/<script>|style="/);
    const nonce = /name="_login" value="([^"]+)"/.exec(page.text)![1]!;
    const ok = await c.request('POST', '/admin/login', { _login: nonce, email: 'Editor@Example.com', password: PASSWORD, next: '/admin/terms' });
    expect(ok.status).toBe(303);
    expect(ok.location).toBe('/admin/terms');
    const cookie = ok.headers.getSetCookie().find((s) => s.startsWith('ta_admin='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Max-Age=7200/);
    expect(cookie).not.toMatch(/Secure/); // BASE_URL is http here
    const dashboard = await c.get('/admin');
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('cache-control')).toBe('no-store');
    expect(dashboard.text).toContain('editor@example.com');

    // Only the hash of the 256-bit session id is stored.
    const id = c.cookies.get('ta_admin')!;
    expect(id).toMatch(/^[\w-]{43}$/);
    const rows = await app.ctx.database.db.selectFrom('admin_sessions').select(['id_sha256']).execute();
    expect(rows.map((r) => r.id_sha256)).not.toContain(id);
    expect(await auditActions(`admin:${EMAIL}`)).toContain(`admin.login admin:${EMAIL}`);
  });

  it('rejects a login form without its login token, and ignores foreign return paths', async () => {
    const c = new ConsoleClient(app.url);
    const res = await c.request('POST', '/admin/login', { email: EMAIL, password: PASSWORD });
    expect(res.status).toBe(403);
    const page = await c.get('/admin/login');
    const nonce = /name="_login" value="([^"]+)"/.exec(page.text)![1]!;
    const ok = await c.request('POST', '/admin/login', { _login: nonce, email: EMAIL, password: PASSWORD, next: '//evil.example/admin' });
    expect(ok.status).toBe(303);
    expect(ok.location).toBe('/admin');
  });

  it('marks cookies Secure (and __Host-) when BASE_URL is https', () => {
    const config = loadConfig({ NODE_ENV: 'test', BASE_URL: 'https://alerts.example.com' });
    expect(config.admin.secureCookies).toBe(true);
    const names = cookieNames(true);
    expect(names.session).toBe('__Host-ta_admin');
    const headers: string[] = [];
    setCookie({ append: (_: string, v: string) => headers.push(v) } as never, names.session, 'x', { secure: true, maxAgeSeconds: 60 });
    expect(headers[0]).toBe('__Host-ta_admin=x; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=60');
  });

  it('ends a session when it expires', async () => {
    const c = new ConsoleClient(app.url);
    await c.login(EMAIL, PASSWORD);
    expect((await c.get('/admin/topics')).status).toBe(200);
    app.clock.advance(2 * 3_600_000 + 1000);
    const after = await c.get('/admin/topics');
    expect(after.status).toBe(303);
    expect(after.location).toMatch(/^\/admin\/login\?next=%2Fadmin%2Ftopics&done=expired$/);
    const login = await c.get(after.location!);
    expect(login.text).toContain('Your session has ended');
    expect(await app.ctx.services.admin.purgeExpiredSessions()).toBeGreaterThan(0);
  });

  it('logs out with a POST carrying the CSRF token', async () => {
    const c = new ConsoleClient(app.url);
    await c.login(EMAIL, PASSWORD);
    const forged = await c.request('POST', '/admin/logout', {});
    expect(forged.status).toBe(403);
    expect((await c.get('/admin')).status).toBe(200);
    const out = await c.post('/admin/logout');
    expect(out.status).toBe(303);
    expect(out.location).toBe('/admin/login?done=logged-out');
    expect(c.cookies.has('ta_admin')).toBe(false);
    expect(await auditActions(`admin:${EMAIL}`)).toContain(`admin.logout admin:${EMAIL}`);
    // The old cookie no longer works even if a copy was kept.
    const replay = new ConsoleClient(app.url);
    replay.cookies.set('ta_admin', 'A'.repeat(43));
    expect((await replay.get('/admin')).status).toBe(303);
  });

  it('sets a new password (admin:password): the old one and every open session stop working', async () => {
    const email = 'forgetful@example.com';
    await app.ctx.services.admin.createAdmin(email, 'the first password', 'cli');
    const c = new ConsoleClient(app.url);
    expect((await c.login(email, 'the first password')).status).toBe(303);
    expect((await c.get('/admin')).status).toBe(200);

    const reset = await app.ctx.services.admin.resetPassword('Forgetful@Example.com', undefined, 'cli');
    expect(reset).toMatchObject({ generated: true, sessionsEnded: 1, user: { email } });
    expect(reset.password.length).toBeGreaterThanOrEqual(20);
    expect((await c.get('/admin')).status).toBe(303); // logged out
    expect((await new ConsoleClient(app.url).login(email, 'the first password')).status).toBe(401);
    expect((await new ConsoleClient(app.url).login(email, reset.password)).status).toBe(303);
    expect(await auditActions('cli')).toContain(`admin.password_reset admin:${email}`);

    await expect(app.ctx.services.admin.resetPassword(email, 'short', 'cli')).rejects.toMatchObject({ status: 400 });
    await expect(app.ctx.services.admin.resetPassword('nobody@example.com', undefined, 'cli')).rejects.toMatchObject({ status: 404 });
  });
});

describe('CSRF', () => {
  it('refuses every console POST without this session’s token, and changes nothing', async () => {
    const c = new ConsoleClient(app.url);
    await c.login(EMAIL, PASSWORD);
    const other = new ConsoleClient(app.url);
    await other.login(EMAIL, PASSWORD);
    const cases: [string, Record<string, string>][] = [
      ['/admin/topics', { slug: 'csrf-topic', name: 'CSRF', query: 'csrf' }],
      ['/admin/suppressions', { email: 'csrf@example.com' }],
      ['/admin/tokens', { name: 'csrf', scopes: 'admin' }],
      ['/admin/terms', { title: 'T', bodyMarkdown: 'x' }],
      ['/admin/deliveries/retry', {}],
    ];
    for (const [path, body] of cases) {
      const missing = await c.request('POST', path, body);
      expect(missing.status, path).toBe(403);
      expect(missing.text).toContain('Nothing was changed');
      const foreign = await c.request('POST', path, { ...body, _csrf: other.csrf });
      expect(foreign.status, path).toBe(403);
    }
    expect(await app.ctx.repos.topics.findBySlug('csrf-topic')).toBeUndefined();
    expect(await app.ctx.repos.suppressions.isSuppressed(app.ctx.links.signer.emailHash('csrf@example.com'))).toBe(false);
  });
});

describe('console changes are audited', () => {
  it('stories: a threshold previewed on recent articles, then saved; a story lists its copies', async () => {
    const c = new ConsoleClient(app.url);
    await c.login(EMAIL, PASSWORD);
    const text = 'The harbour authority said on Monday that the new container terminal will open in spring, doubling the port’s capacity and creating two thousand jobs along the coast.';
    const first = await api.post('/api/v1/articles', { url: 'https://one.example/port', title: 'Port expansion approved', body: text });
    await api.post('/api/v1/articles', { url: 'https://two.example/port', title: 'New terminal for the harbour', body: `${text} Share us on your social networks:` });
    await api.post('/api/v1/articles', { url: 'https://three.example/rain', title: 'Heavy rain expected', body: 'Forecasters warned of flooding in the valleys as a slow storm crossed the mountains overnight, with rivers expected to peak on Tuesday.' });
    const storyId = first.body.story.id;

    const page = await c.get('/admin/stories');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Copies by feed and day');
    expect(page.text).toMatch(/<strong>1<\/strong> of \d+ recent articles join an earlier story/);
    expect(page.text).toContain(`href="/admin/stories/${storyId}"`);
    // A threshold so strict nothing joins: previewed, nothing saved yet.
    const strict = await c.get('/admin/stories?threshold=1');
    expect(strict.text).toMatch(/At 1: <strong>0<\/strong> of/);
    expect(await app.ctx.services.stories.threshold()).toBe(0.45);
    expect((await c.post('/admin/stories/threshold', { threshold: '0.6' })).location).toBe('/admin/stories?done=threshold-saved');
    expect(await app.ctx.services.stories.threshold()).toBe(0.6);
    expect(await auditActions(`admin:${EMAIL}`)).toContain('stories.threshold');
    expect((await c.post('/admin/stories/threshold', { threshold: '7' })).status).toBe(400);

    const story = await c.get(`/admin/stories/${storyId}`);
    expect(story.text).toContain('two.example');
    expect(story.text).toContain('one.example');
    expect((await c.get('/admin/stories/999999')).status).toBe(404);
    await c.post('/admin/stories/threshold', { threshold: '0.45' });
  });

  it('topics: create with a live query test, edit, archive, restore', async () => {
    const c = new ConsoleClient(app.url);
    await c.login(EMAIL, PASSWORD);
    await api.post('/api/v1/articles', { url: 'https://news.example/a1', title: 'Volcano erupts in Iceland', body: 'Lava and ash near Reykjavik.' });

    const live = await c.get('/admin/topics/test.json?query=volcano&days=30');
    expect(live.status).toBe(200);
    expect(JSON.parse(live.text)).toMatchObject({ count: 1, matches: [{ title: 'Volcano erupts in Iceland' }] });
    const bad = await c.get('/admin/topics/test.json?query=volcano%20%22lava');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error).toMatchObject({ code: 'invalid_query', column: 9 });

    // Without JS the Test button posts the form and gets it back with the matches.
    const tested = await c.post('/admin/topics', { intent: 'test', slug: 'volcanoes', name: 'Volcanoes', query: 'volcano OR lava', days: '30' });
    expect(tested.status).toBe(200);
    expect(tested.text).toContain('Volcano erupts in Iceland');
    expect(await app.ctx.repos.topics.findBySlug('volcanoes')).toBeUndefined();

    const invalid = await c.post('/admin/topics', { intent: 'save', slug: 'Bad Slug', name: '', query: 'x' });
    expect(invalid.status).toBe(400);
    expect(invalid.text).toMatch(/aria-invalid="true"/);
    expect(invalid.text).toContain('kebab-case');

    const created = await c.post('/admin/topics', { intent: 'save', slug: 'volcanoes', name: 'Volcanoes', query: 'volcano OR lava', promptPriority: '5', name_ar: 'البراكين', name_fr: 'Volcans' });
    expect(created.status).toBe(303);
    expect(created.location).toBe('/admin/topics/volcanoes?done=topic-created');
    expect((await c.get('/admin/topics')).text).toContain('Volcanoes');
    expect((await app.ctx.repos.topics.findBySlug('volcanoes'))!.names).toEqual({ ar: 'البراكين', fr: 'Volcans' });
    // The edit form shows the names per language, right to left for Arabic.
    const edit = await c.get('/admin/topics/volcanoes');
    expect(edit.text).toMatch(/name="name_ar"[^>]*value="البراكين"|value="البراكين"[^>]*name="name_ar"/);
    expect(edit.text).toMatch(/name="name_ar"[^>]*dir="rtl"|dir="rtl"[^>]*name="name_ar"/);
    const saved = await c.post('/admin/topics/volcanoes', { intent: 'save', name: 'Volcanoes & eruptions', query: 'volcano OR lava OR eruption', promptHidden: 'on', name_ar: 'البراكين' });
    expect(saved.status).toBe(303);
    const topic = (await app.ctx.repos.topics.findBySlug('volcanoes'))!;
    expect(topic).toMatchObject({ name: 'Volcanoes & eruptions', promptHidden: true, promptPriority: 0, names: { ar: 'البراكين' } });
    expect((await c.post('/admin/topics/volcanoes/archive')).status).toBe(303);
    expect((await app.ctx.repos.topics.findBySlug('volcanoes'))!.status).toBe('archived');
    expect((await c.post('/admin/topics/volcanoes/restore')).status).toBe(303);
    expect(await auditActions(`admin:${EMAIL}`)).toEqual(
      expect.arrayContaining(['topic.create topic:volcanoes', 'topic.update topic:volcanoes']),
    );
    expect((await auditActions(`admin:${EMAIL}`)).filter((a) => a === 'topic.update topic:volcanoes')).toHaveLength(3);
    // Articles are matched when they arrive: a new one lands under the topic.
    await api.post('/api/v1/articles', { url: 'https://news.example/a2', title: 'Eruption grounds flights', body: 'A volcano in Iceland.' });
    const articles = await c.get('/admin/articles?topic=volcanoes');
    expect(articles.text).toContain('Eruption grounds flights');
    expect(articles.text).not.toContain('Volcano erupts in Iceland');
    expect((await c.get('/admin/articles')).text).toMatch(/Eruption grounds flights[\s\S]*href="\/admin\/topics\/volcanoes"/);
  });

  it('feeds, terms, tokens, suppressions, deliveries', async () => {
    const c = new ConsoleClient(app.url);
    await c.login(EMAIL, PASSWORD);
    const actor = `admin:${EMAIL}`;

    expect((await c.post('/admin/feeds', { url: 'not a url' })).status).toBe(400);
    expect((await c.post('/admin/feeds', { url: 'https://feeds.example/rss.xml', name: 'Example', tags: 'a, b' })).status).toBe(303);
    const feed = (await app.ctx.services.feeds.list()).find((f) => f.url === 'https://feeds.example/rss.xml')!;
    expect(feed.defaultTags).toEqual(['a', 'b']);
    expect((await c.post('/admin/feeds', { url: 'https://feeds.example/rss.xml' })).text).toContain('already registered');
    expect((await c.post(`/admin/feeds/${feed.id}/remove`)).status).toBe(303);

    // Terms: publishing needs the preview of exactly that text first.
    const before = (await app.ctx.services.terms.current())!.version;
    const unpreviewed = await c.post('/admin/terms', { title: 'Terms', bodyMarkdown: 'New **terms**.' });
    expect(unpreviewed.status).toBe(400);
    const preview = await c.post('/admin/terms/preview', { title: 'Terms', bodyMarkdown: 'New **terms**.\n\n<script>alert(1)</script>' });
    expect(preview.text).toContain('<strong>terms</strong>');
    expect(preview.text).not.toContain('<script>alert(1)</script>');
    const previewed = /name="previewed" value="([0-9a-f]{64})"/.exec(preview.text)![1]!;
    const tampered = await c.post('/admin/terms', { title: 'Terms', bodyMarkdown: 'Other text', previewed });
    expect(tampered.status).toBe(400);
    const published = await c.post('/admin/terms', { title: 'Terms', bodyMarkdown: 'New **terms**.\n\n<script>alert(1)</script>', previewed });
    expect(published.status).toBe(303);
    const current = (await app.ctx.services.terms.current())!;
    expect(current.version).toBe(before + 1);
    expect(current.publishedBy).toBe(actor);
    const widget = await fetch(`${app.url}/api/v1/widget-config`).then((r) => r.json());
    expect(widget.consent.termsVersion).toBe(current.version);

    // Tokens: shown once, revocable.
    const created = await c.post('/admin/tokens', { name: 'CMS', scopes: ['ingest'] });
    expect(created.status).toBe(200);
    const token = /id="new-token" class="token" readonly value="(ta_[\w-]+)"/.exec(created.text)![1]!;
    const record = (await app.ctx.repos.tokens.list()).find((t) => t.name === 'CMS')!;
    expect(record.scopes).toEqual(['ingest']);
    expect((await fetch(`${app.url}/api/v1/articles`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await c.get('/admin/tokens')).text).not.toContain(token);
    expect((await c.post(`/admin/tokens/${record.id}/revoke`)).status).toBe(303);
    expect((await fetch(`${app.url}/api/v1/articles`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);

    // Suppressions: the hash of the normalised address, never the address.
    const add = await c.post('/admin/suppressions', { email: '  Blocked@Example.COM ', note: 'asked by phone' });
    expect(add.status).toBe(303);
    const hash = app.ctx.links.signer.emailHash(normalizeEmail('blocked@example.com'));
    expect(await app.ctx.repos.suppressions.isSuppressed(hash)).toBe(true);
    const list = await c.get('/admin/suppressions');
    expect(list.text).toContain(hash.slice(0, 16));
    expect(list.text).not.toContain('blocked@example.com');
    expect((await c.post('/admin/suppressions', { email: 'not-an-address' })).status).toBe(400);
    expect((await c.post('/admin/suppressions/remove', { emailHash: hash })).status).toBe(303);
    expect(await app.ctx.repos.suppressions.isSuppressed(hash)).toBe(false);
    expect((await c.post('/admin/suppressions/remove', { emailHash: hash })).status).toBe(404);

    // Deliveries: failed ones go back to the queue, due now.
    const now = app.clock.now();
    const failed = (await app.ctx.repos.deliveries.enqueue({ kind: 'test', subscriberId: null, toAddress: 'x@example.com', idempotencyKey: 'admin-test-1', payload: {}, messageId: '<t1@example.com>', now }))!;
    await app.ctx.database.db.updateTable('deliveries').set({ status: 'failed', attempts: 8, last_error: '550 nope' }).where('id', '=', failed.id).execute();
    const page = await c.get('/admin/deliveries?status=failed');
    expect(page.text).toContain('550 nope');
    expect((await c.post(`/admin/deliveries/${failed.id}/retry`)).status).toBe(303);
    const row = await app.ctx.database.db.selectFrom('deliveries').select(['status', 'attempts', 'next_attempt_at']).where('id', '=', failed.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'queued', attempts: 0 });
    expect(new Date(row.next_attempt_at).getTime()).toBeLessThanOrEqual(app.clock.now().getTime());

    const actions = await auditActions(actor);
    for (const a of [
      `feed.create feed:${feed.id}`,
      `feed.delete feed:${feed.id}`,
      `terms.publish terms:${current.version}`,
      `token.create token:${record.id}`,
      `token.revoke token:${record.id}`,
      `suppression.add suppression:${hash.slice(0, 16)}`,
      `suppression.remove suppression:${hash.slice(0, 16)}`,
      `deliveries.retry delivery:${failed.id}`,
    ]) {
      expect(actions).toContain(a);
    }
  });
});

describe('subscribers through the console', () => {
  async function signup(email: string, slug = 'volcanoes') {
    const terms = (await app.ctx.services.terms.current())!;
    await app.ctx.services.subscriptions.signup(
      { email, topics: [slug], frequency: 'daily', acceptTerms: true, termsVersion: terms.version, form: 'api', sourceUrl: 'https://news.example/a1' },
      { ip: '203.0.113.7', userAgent: 'Test UA' },
    );
    return (await app.ctx.repos.subscribers.findByEmail(normalizeEmail(email)))!;
  }

  it('finds one, shows the consent history, exports, resends the confirmation and erases', async () => {
    const sub = await signup('Reader.One@example.org');
    const c = new ConsoleClient(app.url);
    await c.login(EMAIL, PASSWORD);
    const search = await c.get('/admin/subscribers?q=reader.one');
    expect(search.text).toContain(`/admin/subscribers/${sub.id}`);
    expect((await c.get('/admin/subscribers?q=nobody-here')).text).toContain('No subscriber');

    const detail = await c.get(`/admin/subscribers/${sub.id}`);
    expect(detail.text).toContain('Reader.One@example.org');
    expect(detail.text).toContain('requested');
    expect(detail.text).toContain('203.0.113.7');
    expect(detail.text).toContain('Test UA');
    expect(detail.text).toContain('I agree to the Terms &amp; Conditions');
    expect(detail.text).toMatch(/href="\/terms\/\d+">v\d+/);

    const exported = await c.post(`/admin/subscribers/${sub.id}/export`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toBe(`attachment; filename="subscriber-${sub.id}.json"`);
    const data = JSON.parse(exported.text);
    expect(data.subscriber.email).toBe('Reader.One@example.org');
    expect(data.consentEvents[0]).toMatchObject({ action: 'requested', ip: '203.0.113.7', topics: ['volcanoes'] });
    expect(data.subscriptions[0]).toMatchObject({ topic: 'volcanoes', status: 'pending' });

    const before = await app.ctx.repos.deliveries.countRecent(sub.id, 'confirmation', new Date(0));
    expect((await c.post(`/admin/subscribers/${sub.id}/resend`)).location).toBe(`/admin/subscribers/${sub.id}?done=confirmation-queued`);
    expect(await app.ctx.repos.deliveries.countRecent(sub.id, 'confirmation', new Date(0))).toBe(before + 1);

    const confirmPage = await c.get(`/admin/subscribers/${sub.id}/erase`);
    expect(confirmPage.text).toContain('cannot be undone');
    const erased = await c.post(`/admin/subscribers/${sub.id}/erase`);
    expect(erased.location).toBe('/admin/subscribers?done=erased');
    expect(await app.ctx.repos.subscribers.findById(sub.id)).toBeUndefined();
    expect(await app.ctx.repos.suppressions.isSuppressed(app.ctx.links.signer.emailHash('reader.one@example.org'))).toBe(true);
    expect((await c.get(`/admin/subscribers/${sub.id}`)).status).toBe(404);

    expect(await auditActions(`admin:${EMAIL}`)).toEqual(
      expect.arrayContaining([`subscriber.export subscriber:${sub.id}`, `subscriber.resend_confirmation subscriber:${sub.id}`, `subscriber.erase subscriber:${sub.id}`]),
    );
  });
});

describe('admin API: stats and subscribers', () => {
  it('needs the admin scope or a console session (with its CSRF header for changes)', async () => {
    const sub = await app.ctx.services.subscriptions.signup(
      { email: 'api.reader@example.net', topics: ['volcanoes'], frequency: 'weekly', acceptTerms: true, termsVersion: (await app.ctx.services.terms.current())!.version, form: 'api' },
      { ip: null, userAgent: null },
    ).then(() => app.ctx.repos.subscribers.findByEmail('api.reader@example.net'));
    for (const path of ['/api/v1/stats', '/api/v1/subscribers?q=api.reader', `/api/v1/subscribers/${sub!.id}`, `/api/v1/subscribers/${sub!.id}/export`]) {
      expect((await fetch(`${app.url}${path}`)).status, path).toBe(401);
      const ingest = await apiClient(app, ['ingest']);
      expect((await ingest.get(path)).status, path).toBe(403);
      expect((await api.get(path)).status, path).toBe(200);
    }
    const one = await api.get(`/api/v1/subscribers/${sub!.id}`);
    expect(one.body).toMatchObject({ subscriber: { email: 'api.reader@example.net' }, subscriptions: [{ topic: 'volcanoes', frequency: 'weekly' }], consentEvents: [{ action: 'requested' }] });
    expect((await api.get('/api/v1/subscribers?q=a')).status).toBe(400);
    expect((await api.get('/api/v1/subscribers/999999')).status).toBe(404);

    const c = new ConsoleClient(app.url);
    await c.login(EMAIL, PASSWORD);
    const viaSession = await c.request('GET', '/api/v1/subscribers?q=api.reader');
    expect(viaSession.status).toBe(200);
    expect(JSON.parse(viaSession.text).subscribers).toHaveLength(1);
    expect((await c.request('DELETE', `/api/v1/subscribers/${sub!.id}`)).status).toBe(403);
    const del = await c.request('DELETE', `/api/v1/subscribers/${sub!.id}`, undefined, { 'x-csrf-token': c.csrf });
    expect(del.status).toBe(204);
    expect((await api.delete(`/api/v1/subscribers/${sub!.id}`)).status).toBe(404);
    expect(await auditActions(`admin:${EMAIL}`)).toContain(`subscriber.erase subscriber:${sub!.id}`);
  });

  it('reports per-day and per-topic figures, and the dashboard draws them', async () => {
    const today = app.clock.now().toISOString().slice(0, 10);
    await app.ctx.services.prompts.record(['volcanoes'], 'shown');
    await app.ctx.services.prompts.record(['volcanoes'], 'shown');
    await app.ctx.services.prompts.record(['volcanoes'], 'dismissed');
    for (const email of ['s1@example.com', 's2@example.com']) {
      await app.ctx.services.subscriptions.signup(
        { email, topics: ['volcanoes'], frequency: 'daily', acceptTerms: true, termsVersion: (await app.ctx.services.terms.current())!.version, form: 'api' },
        { ip: null, userAgent: null },
      );
    }
    const stats = await api.get('/api/v1/stats?days=7');
    expect(stats.status).toBe(200);
    expect(stats.body.days).toHaveLength(7);
    const day = stats.body.days.find((d: { day: string }) => d.day === today);
    expect(day).toMatchObject({ shown: 2, dismissed: 1 });
    expect(day.signups).toBeGreaterThanOrEqual(2);
    const topic = stats.body.topics.find((t: { slug: string }) => t.slug === 'volcanoes');
    expect(topic).toMatchObject({ shown: 2, dismissed: 1 });
    expect(topic.conversion).toBeCloseTo(topic.signups / 2, 3);
    const one = await api.get('/api/v1/stats?topic=volcanoes&days=1');
    expect(one.body.topics).toHaveLength(1);
    expect(one.body.days[0]).toMatchObject({ day: today, shown: 2 });
    expect((await api.get('/api/v1/stats?days=0')).status).toBe(400);
    expect((await api.get('/api/v1/stats?topic=nope')).status).toBe(404);

    const c = new ConsoleClient(app.url);
    await c.login(EMAIL, PASSWORD);
    const dash = await c.get('/admin');
    expect(dash.text.match(/<svg viewBox="[^"]+" width="100%" role="img"/g)).toHaveLength(8);
    expect(dash.text).toContain('<title id="chart-shown-t">Prompts shown, per day</title>');
    expect(dash.text).toContain('<caption>Per day, last 30 days</caption>');
    expect(dash.text).toContain('Volcanoes');
  });

  it('follows a digest run to 100%', async () => {
    const c = new ConsoleClient(app.url);
    await c.login(EMAIL, PASSWORD);
    const db = app.ctx.database.db;
    const run = await db.insertInto('digest_runs').values({ trigger: 'test', status: 'running', started_at: app.clock.now() }).returning('id').executeTakeFirstOrThrow();
    const sub = await app.ctx.repos.subscribers.upsertByEmail('run@example.com', 'run@example.com', { timeZone: 'UTC' });
    for (let i = 0; i < 3; i++) {
      const d = (await app.ctx.repos.deliveries.enqueue({ kind: 'manage-link', subscriberId: sub.subscriber.id, toAddress: 'run@example.com', idempotencyKey: `run-${i}`, payload: {}, messageId: `<run-${i}@example.com>`, now: app.clock.now() }))!;
      await db.updateTable('deliveries').set({ run_id: Number(run.id) }).where('id', '=', d.id).execute();
    }
    const progress = async () => JSON.parse((await c.get('/admin/deliveries/progress.json')).text);
    expect(await progress()).toMatchObject({ run: { id: Number(run.id), status: 'running' }, total: 3, done: 0, percent: 0, finished: false });
    expect((await c.get('/admin/deliveries')).text).toContain(`data-progress-url="/admin/deliveries/progress.json?run=${run.id}"`);
    await db.updateTable('digest_runs').set({ status: 'finished', finished_at: app.clock.now(), deliveries_queued: 3 }).where('id', '=', run.id).execute();
    await app.ctx.services.sender.runOnce();
    expect(await progress()).toMatchObject({ total: 3, done: 3, percent: 100, finished: true, counts: { sent: 3 }, ratePerMinute: 3 });
  });
});

describe('login rate limits', () => {
  it('limits failed logins per account, then per IP address', async () => {
    await app.ctx.services.admin.createAdmin('target@example.com', PASSWORD, 'cli');
    const c = new ConsoleClient(app.url);
    for (let i = 0; i < 5; i++) expect((await c.login('target@example.com', `wrong ${i}`)).status).toBe(401);
    const blocked = await c.login('target@example.com', PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.text).toContain('Too many failed logins for this account');
    // Another account from the same address still gets in: the account limit is per account.
    expect((await new ConsoleClient(app.url).login(EMAIL, PASSWORD)).status).toBe(303);
    // Failures across many accounts hit the per-IP limit (4 × 5 = 20 per 15 minutes).
    let status = 0;
    for (let i = 0; i < 25 && status !== 429; i++) status = (await c.login(`spray${i}@example.com`, 'guess')).status;
    expect(status).toBe(429);
    const ipBlocked = await new ConsoleClient(app.url).login(EMAIL, PASSWORD);
    expect(ipBlocked.status).toBe(429);
    expect(ipBlocked.text).toContain('from this address');
  });
});
