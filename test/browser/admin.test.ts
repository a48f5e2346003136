import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, CHROMIUM, HAS_CHROMIUM, launchChromium, seriousAxeViolations, surveyTables } from '../helpers/browser.js';
import { apiClient } from '../helpers/api.js';
import type { SendingHold } from '../../src/deliverability/reputation.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

// The admin console in headless Debian Chromium, against the real app and database: log in,
// tune a topic with the live query test, publish terms, answer a data request, watch a digest
// run finish; axe on every page; screenshots for review in test/artifacts/.

if (!HAS_CHROMIUM) console.warn(`test/browser: ${CHROMIUM} not found, admin console browser tests skipped (apt-get install -y chromium; .ci/run installs it)`);

const EMAIL = 'editor@example.com';
const PASSWORD = 'a long enough password';

describe.skipIf(!HAS_CHROMIUM)('admin console in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let subscriberId: number;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    app = await startTestApp({ PUBLISHER_NAME: 'MENAFN' });
    await app.ctx.services.admin.createAdmin(EMAIL, PASSWORD, 'test');
    const api = await apiClient(app, ['admin']);
    for (const [slug, name, query] of [
      ['japan', 'Japan', 'japan OR tokyo'],
      ['nato', 'NATO', 'nato'],
    ]) {
      expect((await api.post('/api/v1/topics', { slug, name, query })).status).toBe(201);
    }
    const articles = [
      ['Volcano erupts near Reykjavik', 'Lava flows toward the town; flights from Iceland are grounded.'],
      ['Tokyo markets rally', 'Japan stocks rose as the yen fell.'],
      ['NATO summit opens', 'Leaders meet in Brussels.'],
      ['Ash cloud spreads over the Atlantic', 'The volcano keeps erupting.'],
    ];
    for (const [i, [title, body]] of articles.entries()) {
      expect((await api.post('/api/v1/articles', { url: `https://news.example/${i}`, title, body })).status).toBe(201);
    }
    const terms = (await app.ctx.services.terms.current())!;
    await app.ctx.services.subscriptions.signup(
      { email: 'Reader@Example.org', topics: ['japan', 'nato'], frequency: 'daily', acceptTerms: true, termsVersion: terms.version, form: 'api', sourceUrl: 'https://news.example/0' },
      { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (test)' },
    );
    subscriberId = (await app.ctx.repos.subscribers.findByEmail('reader@example.org'))!.id;
    for (let i = 0; i < 40; i++) await app.ctx.services.prompts.record(['japan', 'nato'], 'shown');
    for (let i = 0; i < 7; i++) await app.ctx.services.prompts.record(['japan'], 'dismissed');

    browser = await launchChromium();
    context = await browser.newContext({ reducedMotion: 'reduce', viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      // HTTP errors the tests provoke (a wrong password, an invalid query, a missing page,
      // the favicon) are expected; what must never appear is a CSP refusal or a script error.
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console: ${msg.text()}`);
    });
    page.on('dialog', (d) => void d.accept());
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await app?.close();
  });

  const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });
  const status = () => page.locator('main [role="status"]').first();
  const sentSoFar = () => page.locator('dt', { hasText: /^Sent so far$/ }).locator('xpath=following-sibling::dd[1]').textContent();

  async function axe(label: string): Promise<void> {
    expect(await seriousAxeViolations(page), label).toEqual([]);
  }

  /** axe on each page, light and dark; the page is left in the light scheme. */
  async function axeEveryPage(pages: readonly string[]): Promise<void> {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const path of pages) {
        await page.goto(`${app.url}${path}`);
        await page.locator('main h1').waitFor();
        await axe(`${path} (${scheme})`);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
  }

  it('logs in with the keyboard, lands on the dashboard with its charts', async () => {
    await page.goto(`${app.url}/admin`);
    await heading('Log in to the console').waitFor();
    await axe('login');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByLabel('Password').press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong email or password');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await heading('Dashboard').waitFor();
    const charts = page.locator('figure.chart svg[role="img"]');
    expect(await charts.count()).toBe(8);
    expect(await page.getByRole('img', { name: /Prompts shown, per day/ }).count()).toBe(1);
    await page.getByText('The same figures as a table').click();
    await page.getByRole('table', { name: /Per day, last 30 days/ }).waitFor();
    await axe('dashboard');
    await page.screenshot({ path: `${ARTIFACTS}admin-dashboard.png`, fullPage: true });
  });

  it('creates a topic with the live query test: matches as you type, parse errors with their column', async () => {
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Topics' }).click();
    await heading('Topics').waitFor();
    await page.getByRole('link', { name: 'New topic' }).click();
    await heading('New topic').waitFor();
    await page.getByLabel('Name').fill('Volcanoes');
    await page.getByLabel('Slug').fill('volcanoes');
    const query = page.getByLabel('Match rule');
    const results = page.locator('#query-test-results');
    await query.pressSequentially('volcano', { delay: 20 });
    await expect.poll(() => results.textContent(), { timeout: 5000 }).toMatch(/2 matching articles/);
    expect(await results.getByRole('link').allTextContents()).toEqual(['Ash cloud spreads over the Atlantic', 'Volcano erupts near Reykjavik']);
    await query.fill('volcano "lava');
    await query.dispatchEvent('input');
    await expect.poll(() => results.getByRole('alert').textContent().catch(() => ''), { timeout: 5000 }).toMatch(/unclosed quote.*column 9/);
    expect(await query.getAttribute('aria-invalid')).toBe('true');
    await axe('topic editor with a query error');
    await query.fill('volcano OR "ash cloud" -tokyo');
    await page.getByRole('button', { name: 'Test query' }).click();
    await expect.poll(() => results.textContent(), { timeout: 5000 }).toMatch(/2 matching articles/);
    await page.screenshot({ path: `${ARTIFACTS}admin-topic-editor.png`, fullPage: true });
    await page.getByRole('button', { name: 'Create topic' }).click();
    await expect.poll(() => status().textContent()).toBe('Topic created.');
    await heading(/Topic: Volcanoes/).waitFor();
    await axe('topic edit');
    const topic = await app.ctx.repos.topics.findBySlug('volcanoes');
    expect(topic).toMatchObject({ query: 'volcano OR "ash cloud" -tokyo', status: 'active' });
    expect((await app.ctx.repos.audit.recent(5)).map((a) => [a.actor, a.action])).toContainEqual([`admin:${EMAIL}`, 'topic.create']);
  });

  it('publishes a terms version after its preview, and the widget reports it at once', async () => {
    const before = (await app.ctx.services.terms.current())!.version;
    await page.goto(`${app.url}/admin/terms`);
    await heading('Terms & Conditions').waitFor();
    await axe('terms');
    await page.getByLabel('Title').fill('Terms & Conditions');
    await page.getByLabel('Text (Markdown)').fill('# Our terms\n\nWe send **only** the alerts you chose.\n\n- Unsubscribe with one click.');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('heading', { name: `Preview of version ${before + 1}` }).waitFor();
    expect(await page.locator('.terms-preview strong').textContent()).toBe('only');
    await axe('terms preview');
    await page.getByRole('button', { name: `Publish version ${before + 1}` }).click();
    await expect.poll(() => status().textContent()).toMatch(/^Terms published/);
    const config = await fetch(`${app.url}/api/v1/widget-config?topics=japan`).then((r) => r.json());
    expect(config.consent.termsVersion).toBe(before + 1);
    // A signup naming the version the reader saw before is asked to review the new one.
    const stale = await fetch(`${app.url}/api/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'late@example.com', topics: ['japan'], acceptTerms: true, termsVersion: before, formToken: config.formToken }),
    });
    // (the form token's time trap may drop it silently; when it is checked, the version is outdated)
    expect([202, 409]).toContain(stale.status);
  });

  it('finds a subscriber, exports and erases them', async () => {
    await page.goto(`${app.url}/admin/subscribers`);
    await heading('Subscribers').waitFor();
    await page.getByLabel('Address contains').fill('example.org');
    await page.getByLabel('Address contains').press('Enter');
    await page.getByRole('link', { name: 'Reader@Example.org' }).click();
    await heading(/Subscriber/).waitFor();
    expect(await page.getByRole('table').nth(1).textContent()).toContain('203.0.113.7');
    await axe('subscriber');
    await page.screenshot({ path: `${ARTIFACTS}admin-subscriber.png`, fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export data (JSON)' }).click()]);
    expect(download.suggestedFilename()).toBe(`subscriber-${subscriberId}.json`);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(exported.subscriber.email).toBe('Reader@Example.org');
    expect(exported.consentEvents[0]).toMatchObject({ action: 'requested', topics: ['japan', 'nato'], ip: '203.0.113.7' });

    await page.getByRole('button', { name: /Resend confirmation/ }).click();
    await expect.poll(() => status().textContent()).toBe('A new confirmation mail is queued.');

    await page.getByRole('link', { name: 'Erase…' }).click();
    await heading(/Erase/).waitFor();
    await axe('erase confirmation');
    await page.getByRole('button', { name: 'Erase this subscriber' }).click();
    await expect.poll(() => status().textContent()).toMatch(/^Subscriber erased/);
    expect(await app.ctx.repos.subscribers.findById(subscriberId)).toBeUndefined();
    expect(await app.ctx.repos.suppressions.isSuppressed(app.ctx.links.signer.emailHash('reader@example.org'))).toBe(true);
  });

  it('says a run that queued nothing queued nothing, instead of "0 of 0 (100%)"', async () => {
    const db = app.ctx.database.db;
    const run = await db.insertInto('digest_runs').values({ trigger: 'test', status: 'running', started_at: app.clock.now() }).returning('id').executeTakeFirstOrThrow();
    await page.goto(`${app.url}/admin`);
    expect(await sentSoFar()).toBe('nothing queued yet');
    // Most scheduler ticks end like this: nobody was due.
    await db.updateTable('digest_runs').set({ status: 'finished', finished_at: app.clock.now() }).where('id', '=', run.id).execute();
    await page.goto(`${app.url}/admin`);
    expect(await sentSoFar()).toBe('nothing to send');
    // With no run that queued mail, the deliveries page shows this one: a sentence, no bar at 100%.
    await page.goto(`${app.url}/admin/deliveries`);
    const panel = page.getByRole('region', { name: `Digest run #${run.id} finished` });
    expect(await panel.textContent()).toContain('Nothing to send: this run scanned 0 subscribers and queued no digests.');
    expect(await panel.textContent()).not.toContain('%');
    expect(await panel.locator('progress, [data-progress-url]').count()).toBe(0);
  });

  it('shows a digest run’s progress live until 100%', async () => {
    const db = app.ctx.database.db;
    const run = await db.insertInto('digest_runs').values({ trigger: 'test', status: 'running', started_at: app.clock.now() }).returning('id').executeTakeFirstOrThrow();
    const { subscriber } = await app.ctx.repos.subscribers.upsertByEmail('digest@example.com', 'digest@example.com', { timeZone: 'UTC' });
    for (let i = 0; i < 12; i++) {
      const d = (await app.ctx.repos.deliveries.enqueue({ kind: 'manage-link', subscriberId: subscriber.id, toAddress: 'digest@example.com', idempotencyKey: `browser-run-${i}`, payload: {}, messageId: `<browser-run-${i}@example.com>`, now: app.clock.now() }))!;
      await db.updateTable('deliveries').set({ run_id: Number(run.id) }).where('id', '=', d.id).execute();
    }
    await page.goto(`${app.url}/admin/deliveries`);
    await heading('Deliveries').waitFor();
    const percent = page.locator('output[data-field="percent"]');
    expect(await percent.textContent()).toBe('0%');
    expect(await page.locator('[data-field="queued"]').textContent()).toBe('12');
    await axe('deliveries');
    await db.updateTable('digest_runs').set({ status: 'finished', finished_at: app.clock.now(), deliveries_queued: 12 }).where('id', '=', run.id).execute();
    await app.ctx.services.sender.runOnce();
    // admin.js polls the progress endpoint: no reload.
    await expect.poll(() => percent.textContent(), { timeout: 8000 }).toBe('100%');
    expect(await page.locator('progress[data-field="bar"]').evaluate((p) => (p as HTMLProgressElement).value)).toBe(100);
    expect(await page.locator('[data-field="sent"]').textContent()).toBe('12');
    expect(await page.locator('[data-field="timeLeft"]').textContent()).toBe('done');
    await page.screenshot({ path: `${ARTIFACTS}admin-deliveries.png`, fullPage: true });
    await page.goto(`${app.url}/admin`);
    expect(await sentSoFar()).toBe('12 of 12 (100%)');
  });

  it('fits every console table in its box at 1,280 px with long queries, URLs and addresses; narrower, only scroll regions scroll', async () => {
    const api = await apiClient(app, ['admin']);
    for (const [slug, name, query] of [
      ['world-bank-imf-meetings', 'World Bank and IMF annual meetings', 'tag:worldbankgroupandinternationalmonetaryfundannualmeetingsmarrakechandspringmeetingswashingtondc OR "world bank"'],
      ['middle-east-diplomacy', 'Middle East diplomacy and the Gulf states', '(israel OR gaza OR "west bank" OR lebanon OR iran OR "saudi arabia" OR qatar OR "united arab emirates") (ceasefire OR talks OR diplomacy OR summit) -football -"world cup"'],
      ['climate-cop-negotiations-and-energy-transition-policy', 'Climate: COP negotiations', 'cop30 OR "climate summit" OR "paris agreement" OR emissions OR decarbonisation'],
    ]) {
      expect((await api.post('/api/v1/topics', { slug, name, query })).status).toBe(201);
    }
    const feedUrl = 'https://feeds.publisher-network.example/rss/sections/world/asia-pacific/japan/latest-news.xml?format=rss2&utm_source=topicalerts';
    const feed = await api.post('/api/v1/feeds', { url: feedUrl, name: 'Asia-Pacific: Japan, latest news' });
    expect(feed.status).toBe(201);
    const db = app.ctx.database.db;
    await db.updateTable('feeds').set({ last_error: `fetch failed: getaddrinfo ENOTFOUND ${feedUrl}`, last_error_at: app.clock.now(), consecutive_failures: 3 }).where('id', '=', feed.body.feed.id).execute();
    const email = 'alexandra.konstantinopoulou-vandermeersch@newsroom-subscriptions.publisher-network.example';
    const { subscriber } = await app.ctx.repos.subscribers.upsertByEmail(email, email, { timeZone: 'UTC' });
    const d = (await app.ctx.repos.deliveries.enqueue({ kind: 'manage-link', subscriberId: subscriber.id, toAddress: email, idempotencyKey: 'browser-long-address', payload: {}, messageId: '<browser-long-address@example.com>', now: app.clock.now() }))!;
    await db.updateTable('deliveries').set({ status: 'failed', attempts: 5, last_error: `550-5.1.1 <${email}>: Recipient address rejected: https://support.publisher-network.example/mail/delivery-errors/550-5.1.1` }).where('id', '=', d.id).execute();

    const pages = ['/admin', '/admin/topics', '/admin/articles', '/admin/feeds', '/admin/subscribers?q=example', `/admin/subscribers/${subscriber.id}`, '/admin/deliveries', '/admin/deliveries?status=failed', '/admin/suppressions', '/admin/tokens', '/admin/audit', '/admin/terms'];
    try {
      await page.setViewportSize({ width: 1280, height: 900 });
      expect((await surveyTables(page, app.url, pages)).filter((p) => p.pageOverhang > 0 || p.tables.length > 0)).toEqual([]);
      await page.goto(`${app.url}/admin/topics`);
      await page.screenshot({ path: `${ARTIFACTS}admin-topics-1280.png`, fullPage: true });
      // Too narrow for the dashboard's dozen figure columns: those may scroll, inside their region.
      await page.setViewportSize({ width: 800, height: 900 });
      const narrow = await surveyTables(page, app.url, pages);
      expect(narrow.filter((p) => p.pageOverhang > 0 || p.tables.some((t) => !t.scrollable))).toEqual([]);
      expect(narrow.find((p) => p.path === '/admin/topics')!.tables).toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('shows the Deliverability page, held and with kept inbound mail, and one message, without axe violations, fitting at 800 px', async () => {
    const kept = await app.ctx.services.inbound.receive(Buffer.from(`Subject: not a report\r\nX-Long: ${'x'.repeat(600)}\r\n\r\nnot a report\r\n`), { mailFrom: null, rcptTo: ['complaints@bounces.example'], remoteAddress: '127.0.0.1' });
    const hold: SendingHold = { reason: 'complaints', message: 'The complaint rate reached 0.5% over the last 1000 deliveries, above the 0.1% threshold: sending paused automatically.', rate: 0.005, threshold: 0.001, deliveries: 1000, since: app.clock.now().toISOString() };
    await app.ctx.repos.settings.set('sending.hold', hold, app.clock.now());
    const pages = ['/admin/deliverability', `/admin/deliverability/inbound/${kept.id}`];
    await axeEveryPage(pages);
    try {
      await page.setViewportSize({ width: 800, height: 900 });
      expect((await surveyTables(page, app.url, pages)).filter((p) => p.pageOverhang > 0 || p.tables.some((t) => !t.scrollable))).toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    await page.goto(`${app.url}/admin/deliverability`);
    await page.getByRole('button', { name: 'Resume sending' }).click();
    await expect.poll(() => status().textContent()).toBe('Sending resumed: queued mail goes out with the next send run.');
    expect(await app.ctx.services.reputation.hold()).toBeNull();
    expect(problems).toEqual([]);
  });

  it('has no serious or critical axe violations on any console page, light and dark', async () => {
    const api = await apiClient(app, ['admin']);
    await api.post('/api/v1/feeds', { url: 'https://feeds.example/rss.xml', name: 'Example feed' });
    await app.ctx.services.admin.addSuppression('blocked@example.com', 'test', 'test');
    const pages = [
      '/admin',
      '/admin/topics',
      '/admin/topics/new',
      '/admin/topics/japan',
      '/admin/articles',
      '/admin/feeds',
      '/admin/subscribers',
      '/admin/subscribers?q=example',
      '/admin/terms',
      '/admin/stories',
      '/admin/wording?lang=ar',
      '/admin/wording/edit?lang=ar&key=box.heading.one',
      '/admin/wording/edit?lang=en&key=consent.statement&text=' + encodeURIComponent('By signing up you accept our <terms>Terms</terms>'),
      '/admin/deliveries',
      '/admin/deliveries?status=sent',
      '/admin/suppressions',
      '/admin/tokens',
      '/admin/audit',
      '/admin/nope',
    ];
    await axeEveryPage(pages);
    // A token is shown once, on the page that created it.
    await page.goto(`${app.url}/admin/tokens`);
    await page.getByLabel('Name').fill('CMS webhook');
    await page.getByRole('button', { name: 'Create token' }).click();
    expect(await page.getByLabel(/Token with scopes/).inputValue()).toMatch(/^ta_/);
    await axe('token created');
    // Logging out ends the session.
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect.poll(() => status().textContent()).toBe('You are logged out.');
    await page.goto(`${app.url}/admin/topics`);
    await heading('Log in to the console').waitFor();
    expect(problems).toEqual([]);
    // 20 pages, twice each, and axe on every one: more than the default 30 s on a busy machine.
  }, 120_000);
});
