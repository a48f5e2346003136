import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, CHROMIUM, HAS_CHROMIUM, launchChromium } from '../helpers/browser.js';
import { apiClient } from '../helpers/api.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

// The embeddable signup box in headless Debian Chromium, on an article page served from another
// origin than the service (as on a publisher's site), against the real app and database.

if (!HAS_CHROMIUM) console.warn(`test/browser: ${CHROMIUM} not found, browser tests skipped (apt-get install -y chromium; .ci/run installs it)`);

const AXE = fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url));
const ARTICLE = readFileSync(new URL('./fixtures/article-page.txt', import.meta.url), 'utf8');
// (a copy of /work/shared/fixtures/article-page.txt: the real page the box comes from)
const CHECKBOX_TEXT = 'I agree to the Terms & Conditions';
const STATEMENT_TEXT = 'By signing to this email alert, you agree to our Terms & Conditions';
const SUCCESS = 'Check your inbox to confirm your subscription.';
const HEADING = /^Get the latest news on th(is topic|ese topics)\.$/;

// Today at noon UTC: the tests advance the app's clock by seconds, never across midnight.
const MIDDAY = new Date(`${new Date().toISOString().slice(0, 10)}T12:00:00Z`);

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The article page of the fixture, with the signup box where the publisher's own box was.
 * `?src=` is the widget script, `?topics=` / `?article=` its data attributes. The page's own
 * styles are deliberately loud, so that a leak into the box would show.
 */
function articlePage(url: URL): string {
  const body = ARTICLE.split('Legal Disclaimer:')[0]!.trim().split(/\n\s*\n/);
  const [, title, ...paragraphs] = body;
  const attrs = [
    url.searchParams.has('topics') ? `data-topics="${esc(url.searchParams.get('topics')!)}"` : '',
    url.searchParams.has('article') ? `data-article="${esc(url.searchParams.get('article')!)}"` : '',
  ].join(' ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title!)}</title>
<style>
  body { font: 19px/2.2 Georgia, serif; color: #222; max-width: 44rem; margin: 0 auto; padding: 0 12px; text-align: justify; overflow-wrap: anywhere; }
  button, input, label { background: #ff0 !important; color: #f0f !important; font-family: Impact, fantasy; }
  h2 { color: #c00; text-transform: lowercase; }
</style></head>
<body><main>
<p>Explore more publications!</p>
<h1>${esc(title!)}</h1>
${paragraphs.map((p) => `<p>${esc(p.trim())}</p>`).join('\n')}
<h2 id="page-h2">Share us on your social networks</h2>
<div data-topic-alerts ${attrs}><a href="${esc(new URL('/subscribe', url.searchParams.get('src')!).toString())}">Get email alerts</a></div>
<script async src="${esc(url.searchParams.get('src')!)}"></script>
</main></body></html>`;
}

async function startPageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://page.test');
    if (url.pathname !== '/article' || !url.searchParams.get('src')) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(articlePage(url));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The element focused, looking through shadow roots: an id, or the link text. */
function deepFocus(page: Page): Promise<string> {
  return page.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    if (!el || el === document.body) return 'body';
    if (el.id) return el.id;
    return `${el.tagName.toLowerCase()}.${el.className}:${(el.textContent ?? '').trim()}`;
  });
}

describe.skipIf(!HAS_CHROMIUM)('signup widget in Chromium', () => {
  let pages: { server: Server; origin: string };
  let app: TestApp;
  let api: Awaited<ReturnType<typeof apiClient>>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    pages = await startPageServer();
    app = await startTestApp({ ALLOWED_ORIGINS: pages.origin, PUBLISHER_NAME: 'MENAFN' });
    app.clock.set(MIDDAY); // every count of the file falls on the same day
    api = await apiClient(app, ['admin']);
    for (const [slug, name, query] of [
      ['japan', 'Japan', 'japan'],
      ['nato', 'NATO', 'nato'],
      ['ukraine', 'Ukraine', 'ukraine'],
    ]) {
      expect((await api.post('/api/v1/topics', { slug, name, query })).status).toBe(201);
    }
    browser = await launchChromium();
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await new Promise((resolve) => pages?.server.close(resolve));
  });

  /** A fresh browser profile (own localStorage) with the article page open and the box rendered. */
  async function openArticle(
    opts: { topics?: string; article?: string; base?: string; pageOrigin?: string; wait?: boolean } & BrowserContextOptions = {},
  ): Promise<{ page: Page; errors: Error[] }> {
    const { topics = 'japan,nato', article, base = app.url, pageOrigin = pages.origin, wait = true, ...contextOptions } = opts;
    const context = await browser.newContext({ reducedMotion: 'reduce', viewport: { width: 900, height: 1400 }, ...contextOptions });
    contexts.push(context);
    const page = await context.newPage();
    const errors: Error[] = [];
    page.on('pageerror', (err) => errors.push(err));
    const url = new URL(`${pageOrigin}/article`);
    url.searchParams.set('src', `${base}/widget.js`);
    if (topics) url.searchParams.set('topics', topics);
    if (article) url.searchParams.set('article', article);
    await page.goto(url.toString());
    if (wait) await page.getByRole('heading', { name: HEADING }).waitFor();
    return { page, errors };
  }

  /**
   * The form token is a time trap on the server's clock: a submission less than 2 s after the
   * token was issued is silently dropped. Wait it out in real time (the widget's own timer) and
   * on the app's manual clock.
   */
  async function passTimeTrap(page: Page, target: TestApp = app): Promise<void> {
    await page.waitForTimeout(2100);
    target.clock.advance(3000);
  }

  const box = (page: Page) => page.locator('[data-topic-alerts]');
  const today = (target: TestApp = app) => target.clock.now().toISOString().slice(0, 10);

  async function promptCount(event: 'shown' | 'dismissed', slug: string, target: TestApp = app): Promise<number> {
    const topic = await target.ctx.repos.topics.findBySlug(slug);
    const rows = await target.ctx.repos.promptCounts.forDay(today(target));
    return rows.find((r) => r.topicId === topic!.id && r.event === event)?.count ?? 0;
  }

  async function subscriptionsOf(email: string, target: TestApp = app) {
    const subscriber = await target.ctx.repos.subscribers.findByEmail(email.toLowerCase());
    if (!subscriber) return undefined;
    return {
      subscriber,
      subscriptions: await target.ctx.repos.subscriptions.forSubscriber(subscriber.id),
      consent: await target.ctx.repos.consentEvents.history(subscriber.id),
    };
  }

  it('serves /widget.js minified, cacheable and embeddable from other origins', async () => {
    const res = await fetch(`${app.url}/widget.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const code = await res.text();
    expect(code.length).toBeLessThan(20_000);
    expect(code.split('\n').length).toBeLessThanOrEqual(2); // minified
    // As a browser revalidates (fetch() alone would add Cache-Control: no-cache, which forbids a 304).
    const again = await fetch(`${app.url}/widget.js`, { headers: { 'if-none-match': etag!, 'cache-control': 'max-age=0' } });
    expect(again.status).toBe(304);
  });

  it('renders in a shadow root with the topics, the consent box unticked and a labelled form', async () => {
    const shownBefore = await promptCount('shown', 'japan');
    const { page, errors } = await openArticle();
    const widget = box(page);

    expect(await widget.evaluate((el) => el.shadowRoot?.mode)).toBe('open');
    // Nothing of the box is in the page's own DOM, and the fallback link is no longer shown.
    expect(await page.evaluate(() => document.querySelector('[data-topic-alerts]')!.querySelectorAll('input, button').length)).toBe(0);
    await expect(page.getByRole('link', { name: 'Get email alerts' }).isVisible()).resolves.toBe(false);

    const japan = widget.getByRole('checkbox', { name: 'Japan' });
    const nato = widget.getByRole('checkbox', { name: 'NATO' });
    // The first (most specific) topic comes ticked, the others are offered.
    expect(await japan.isChecked()).toBe(true);
    expect(await nato.isChecked()).toBe(false);
    await expect(widget.getByRole('group', { name: 'Topics' }).isVisible()).resolves.toBe(true);

    const email = widget.getByRole('textbox', { name: 'Email address' });
    expect(await email.getAttribute('type')).toBe('email');
    expect(await email.getAttribute('autocomplete')).toBe('email');
    expect(await widget.getByRole('combobox', { name: 'How often' }).inputValue()).toBe('daily');

    const consent = widget.getByRole('checkbox', { name: CHECKBOX_TEXT });
    expect(await consent.isChecked()).toBe(false);
    expect(await consent.getAttribute('required')).not.toBeNull();
    const terms = widget.getByRole('link', { name: 'Terms & Conditions' });
    expect(await terms.getAttribute('href')).toMatch(new RegExp(`^${app.url}/terms(/\\d+)?\\?lang=en$`));
    expect(await terms.getAttribute('target')).toBe('_blank');
    expect(await terms.getAttribute('rel')).toContain('noopener');

    await expect(widget.getByRole('button', { name: 'Sign up for free today' }).isVisible()).resolves.toBe(true);
    await expect(widget.getByRole('button', { name: 'No Thanks' }).isVisible()).resolves.toBe(true);

    const honeypot = widget.locator('input[name="website"]');
    expect(await honeypot.getAttribute('tabindex')).toBe('-1');
    expect(await honeypot.getAttribute('autocomplete')).toBe('off');
    expect(await honeypot.evaluate((el) => el.closest('[aria-hidden="true"]') !== null)).toBe(true);
    expect(await honeypot.evaluate((el) => el.getBoundingClientRect().right < 0)).toBe(true);

    const status = widget.locator('[role="status"]');
    expect(await status.getAttribute('aria-live')).toBe('polite');

    // Styles neither leak in (the page paints buttons yellow in Impact) nor out (the page's h2).
    const submitBg = await widget.getByRole('button', { name: 'Sign up for free today' }).evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(submitBg).not.toBe('rgb(255, 255, 0)');
    expect(await email.evaluate((el) => getComputedStyle(el).fontFamily)).not.toMatch(/Impact/);
    expect(await page.locator('#page-h2').evaluate((el) => getComputedStyle(el).color)).toBe('rgb(204, 0, 0)');

    await expect.poll(() => promptCount('shown', 'japan')).toBe(shownBefore + 1);
    expect(errors).toEqual([]);
  });

  it('shows one topic by name, without checkboxes', async () => {
    const { page } = await openArticle({ topics: 'ukraine' });
    const widget = box(page);
    await expect(widget.getByText('Ukraine').isVisible()).resolves.toBe(true);
    expect(await widget.getByRole('group', { name: 'Topics' }).count()).toBe(0);
    expect(await widget.getByRole('checkbox').count()).toBe(1); // only the consent box
  });

  it('renders nothing, and throws nothing, when the config lists no topics', async () => {
    const { page, errors } = await openArticle({ topics: 'no-such-topic', wait: false });
    await page.waitForLoadState('networkidle');
    expect(await box(page).evaluate((el) => el.shadowRoot)).toBeNull();
    await expect(page.getByRole('link', { name: 'Get email alerts' }).isVisible()).resolves.toBe(true);
    expect(errors).toEqual([]);
  });

  it('signs up: the success message replaces the form and the server records the pending subscription and consent', async () => {
    const { page } = await openArticle();
    const widget = box(page);
    await widget.getByRole('textbox', { name: 'Email address' }).fill('Reader.One@Example.com');
    await widget.getByRole('checkbox', { name: 'NATO' }).check();
    await widget.getByRole('combobox', { name: 'How often' }).selectOption('weekly');
    await widget.getByRole('checkbox', { name: CHECKBOX_TEXT }).check();
    await passTimeTrap(page);
    await widget.getByRole('button', { name: 'Sign up for free today' }).click();

    await expect.poll(() => widget.locator('[role="status"]').textContent()).toBe(SUCCESS);
    expect(await widget.locator('form').isHidden()).toBe(true);

    const saved = await subscriptionsOf('reader.one@example.com');
    expect(saved).toBeDefined();
    expect(saved!.subscriptions.map((s) => [s.topicSlug, s.status, s.frequency]).sort()).toEqual([
      ['japan', 'pending', 'weekly'],
      ['nato', 'pending', 'weekly'],
    ]);
    const requested = saved!.consent.find((c) => c.action === 'requested');
    expect(requested).toMatchObject({ form: 'widget', consentMode: 'checkbox', termsVersion: expect.any(Number) });
    expect(requested!.sourceUrl).toMatch(new RegExp(`^${pages.origin}/article\\?`));
    expect(requested!.topics.sort()).toEqual(['japan', 'nato']);
  });

  it('offers the topics of the article on a page with only data-article, and signs up for the ticked ones', async () => {
    // The article is known: it was ingested and matched japan, nato and ukraine.
    const articleUrl = 'https://news.example/articles/russia-warns-japan-nato-arms-ukraine';
    const ingested = await api.post('/api/v1/articles', {
      url: articleUrl,
      title: 'Russia Issues Warning to Japan Over NATO Arms Deal for Ukraine',
      summary: 'Moscow warns Tokyo over a NATO procurement mechanism for Ukraine.',
    });
    expect(ingested.body.matchedTopics).toEqual(['japan', 'nato', 'ukraine']);
    const { page } = await openArticle({ topics: '', article: articleUrl });
    const widget = box(page);
    const offered = await widget.getByRole('checkbox').evaluateAll((els) =>
      els.map((e) => [(e as HTMLInputElement).labels?.[0]?.textContent?.trim(), (e as HTMLInputElement).checked]),
    );
    // Three topics of the article (the first ticked), then the consent box.
    expect(offered.slice(0, 3).map(([name]) => name)).toEqual(expect.arrayContaining(['Japan', 'NATO', 'Ukraine']));
    expect(offered.slice(0, 3).filter(([, checked]) => checked)).toHaveLength(1);
    const first = offered[0]![0] as string;
    await widget.getByRole('textbox', { name: 'Email address' }).fill('article.reader@example.com');
    await widget.getByRole('checkbox', { name: 'Ukraine' }).check();
    await widget.getByRole('checkbox', { name: CHECKBOX_TEXT }).check();
    await passTimeTrap(page);
    await widget.getByRole('button', { name: 'Sign up for free today' }).click();
    await expect.poll(() => widget.locator('[role="status"]').textContent()).toBe(SUCCESS);
    const saved = await subscriptionsOf('article.reader@example.com');
    const expected = [...new Set([first, 'Ukraine'])].map((n) => n.toLowerCase()).sort();
    expect(saved!.subscriptions.map((s) => s.topicSlug).sort()).toEqual(expected);
    // The prompt counted as shown for the topics it offered.
    expect(await promptCount('shown', 'ukraine')).toBeGreaterThan(0);
  });

  it('shows field errors next to the fields and focuses the first invalid one', async () => {
    const { page } = await openArticle();
    const widget = box(page);
    const email = widget.getByRole('textbox', { name: 'Email address' });
    const consent = widget.getByRole('checkbox', { name: CHECKBOX_TEXT });
    const submit = widget.getByRole('button', { name: 'Sign up for free today' });

    // Caught in the browser: not an address, no topic, consent not given.
    await email.fill('not-an-email');
    await widget.getByRole('checkbox', { name: 'Japan' }).uncheck();
    await widget.getByRole('checkbox', { name: 'NATO' }).uncheck();
    await submit.click();
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await deepFocus(page)).toBe('ta-email');
    const described = await email.getAttribute('aria-describedby');
    expect(await widget.locator(`#${described}`).textContent()).toMatch(/email address/i);
    expect(await consent.getAttribute('aria-invalid')).toBe('true');
    expect(await widget.getByRole('checkbox', { name: 'Japan' }).getAttribute('aria-invalid')).toBe('true');
    await expect(widget.getByText('Choose at least one topic.').isVisible()).resolves.toBe(true);

    // Caught by the server: the browser takes "reader@localhost" as an address, the API does not.
    await email.fill('reader@localhost');
    await widget.getByRole('checkbox', { name: 'Japan' }).check();
    await consent.check();
    await passTimeTrap(page);
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/subscriptions'));
    await submit.click();
    expect((await answer).status()).toBe(400);
    await expect.poll(() => email.getAttribute('aria-invalid')).toBe('true');
    expect(await consent.getAttribute('aria-invalid')).toBeNull();
    expect(await deepFocus(page)).toBe('ta-email');
    const errorId = (await email.getAttribute('aria-describedby'))!;
    expect((await widget.locator(`#${errorId}`).textContent())!.length).toBeGreaterThan(0);
    expect(await widget.locator('form').isVisible()).toBe(true);
    expect(await subscriptionsOf('reader@localhost')).toBeUndefined();
  });

  it('a filled honeypot gets the same answer and is dropped', async () => {
    const { page } = await openArticle();
    const widget = box(page);
    await widget.getByRole('textbox', { name: 'Email address' }).fill('bot@example.com');
    await widget.locator('input[name="website"]').evaluate((el) => ((el as HTMLInputElement).value = 'https://spam.example'));
    await widget.getByRole('checkbox', { name: CHECKBOX_TEXT }).check();
    await passTimeTrap(page);
    await widget.getByRole('button', { name: 'Sign up for free today' }).click();
    await expect.poll(() => widget.locator('[role="status"]').textContent()).toBe(SUCCESS);
    expect(await subscriptionsOf('bot@example.com')).toBeUndefined();
  });

  it('renders nothing on a page whose origin is not in ALLOWED_ORIGINS', async () => {
    const { page, errors } = await openArticle({ wait: false, pageOrigin: pages.origin.replace('127.0.0.1', 'localhost') });
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(200);
    expect(await box(page).evaluate((el) => el.shadowRoot)).toBeNull();
    await expect(page.getByRole('link', { name: 'Get email alerts' }).isVisible()).resolves.toBe(true);
    expect(errors).toEqual([]);
  });

  it('No Thanks closes the box, counts a dismissal and keeps the box away on later page views', async () => {
    const dismissedBefore = await promptCount('dismissed', 'japan');
    const { page } = await openArticle();
    const widget = box(page);
    await widget.getByRole('button', { name: 'No Thanks' }).click();
    await expect.poll(() => widget.evaluate((el) => el.shadowRoot!.childElementCount)).toBe(0);
    expect(await page.getByRole('heading', { name: HEADING }).count()).toBe(0);

    const stored = await page.evaluate(() => localStorage.getItem('topic-alerts:dismissed:japan,nato'));
    const days = (Number(stored) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    await expect.poll(() => promptCount('dismissed', 'japan')).toBe(dismissedBefore + 1);
    expect(await promptCount('dismissed', 'nato')).toBeGreaterThanOrEqual(1);

    await page.reload();
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(200);
    expect(await widget.evaluate((el) => el.shadowRoot)).toBeNull();

    // Other topics are still offered; once the snooze has passed, so is this one.
    await page.evaluate(() => localStorage.setItem('topic-alerts:dismissed:japan,nato', String(Date.now() - 1000)));
    await page.reload();
    await page.getByRole('heading', { name: HEADING }).waitFor();
  });

  it('works by keyboard alone, in the documented tab order', async () => {
    const { page } = await openArticle();
    // Whatever the page has before the box, Tab reaches the email field.
    for (let i = 0; i < 40 && (await deepFocus(page)) !== 'ta-email'; i++) await page.keyboard.press('Tab');
    const order = [await deepFocus(page)];
    expect(order).toEqual(['ta-email']);
    await page.keyboard.type('keys.only@example.com');
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press('Tab');
      order.push(await deepFocus(page));
    }
    expect(order).toEqual([
      'ta-email',
      'ta-topic-0',
      'ta-topic-1',
      'ta-frequency',
      'ta-consent',
      'a.:Terms & Conditions',
      'button.submit:Sign up for free today',
      'button.dismiss:No Thanks',
    ]);

    // Back to NATO and tick it, daily → weekly, tick the consent box, submit with Enter.
    for (let i = 0; i < 5; i++) await page.keyboard.press('Shift+Tab');
    expect(await deepFocus(page)).toBe('ta-topic-1');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    expect(await deepFocus(page)).toBe('ta-consent');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await deepFocus(page)).toBe('button.submit:Sign up for free today');
    await passTimeTrap(page);
    await page.keyboard.press('Enter');
    await expect.poll(() => box(page).locator('[role="status"]').textContent()).toBe(SUCCESS);
    // Focus is not lost with the form: it moves to the message.
    expect(await deepFocus(page)).toBe('ta-status');

    const saved = await subscriptionsOf('keys.only@example.com');
    expect(saved!.subscriptions.map((s) => [s.topicSlug, s.frequency]).sort()).toEqual([
      ['japan', 'weekly'],
      ['nato', 'weekly'],
    ]);
  });

  it('has no serious or critical axe violations, light and dark, with and without errors; screenshots', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const audit = async (page: Page, label: string) => {
      await page.addScriptTag({ path: AXE });
      const violations = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run: (ctx: Element, opts: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: unknown }[] }[] }> } }).axe;
        const result = await axe.run(document.querySelector('[data-topic-alerts]')!, { resultTypes: ['violations'] });
        return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target) }));
      });
      expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'), label).toEqual([]);
    };

    const light = await openArticle();
    await audit(light.page, 'light');
    await box(light.page).screenshot({ path: `${ARTIFACTS}widget.png` });
    await box(light.page).getByRole('button', { name: 'Sign up for free today' }).click();
    await audit(light.page, 'light with errors');
    await box(light.page).screenshot({ path: `${ARTIFACTS}widget-errors.png` });

    const dark = await openArticle({ colorScheme: 'dark' });
    await audit(dark.page, 'dark');
    await box(dark.page).screenshot({ path: `${ARTIFACTS}widget-dark.png` });

    // Readable at 320 px: the box fits the viewport and nothing in it overflows.
    const narrow = await openArticle({ viewport: { width: 320, height: 900 }, topics: 'ukraine' });
    const fit = await box(narrow.page).evaluate((host) => {
      const el = host.shadowRoot!.querySelector('section')!;
      return { right: el.getBoundingClientRect().right, scroll: el.scrollWidth, client: el.clientWidth, viewport: window.innerWidth };
    });
    expect(fit.right).toBeLessThanOrEqual(fit.viewport);
    expect(fit.scroll).toBeLessThanOrEqual(fit.client);
    await audit(narrow.page, '320px');
    await box(narrow.page).screenshot({ path: `${ARTIFACTS}widget-320.png` });
  });

  it('reloads the config when the terms change under the reader, unticks the consent box and signs up with the new version', async () => {
    const { page } = await openArticle();
    const widget = box(page);
    await widget.getByRole('textbox', { name: 'Email address' }).fill('terms.change@example.com');
    await widget.getByRole('checkbox', { name: CHECKBOX_TEXT }).check();

    const published = await api.post('/api/v1/terms', { title: 'Terms & Conditions', bodyMarkdown: '# Terms\n\nVersion two: now with more words.' });
    expect(published.status).toBe(201);
    const version = published.body.terms.version as number;

    await passTimeTrap(page);
    await widget.getByRole('button', { name: 'Sign up for free today' }).click();
    await expect
      .poll(() => widget.locator('[role="status"]').textContent())
      .toBe('Our Terms & Conditions have changed. Please review them and submit again.');
    const consent = widget.getByRole('checkbox', { name: CHECKBOX_TEXT });
    expect(await consent.isChecked()).toBe(false);
    expect(await deepFocus(page)).toBe('ta-consent');
    expect(await widget.getByRole('textbox', { name: 'Email address' }).inputValue()).toBe('terms.change@example.com');
    expect(await subscriptionsOf('terms.change@example.com')).toBeUndefined();

    await consent.check();
    await passTimeTrap(page); // the reloaded config came with a new form token
    await widget.getByRole('button', { name: 'Sign up for free today' }).click();
    await expect.poll(() => widget.locator('[role="status"]').textContent()).toBe(SUCCESS);
    const saved = await subscriptionsOf('terms.change@example.com');
    expect(saved!.consent.find((c) => c.action === 'requested')!.termsVersion).toBe(version);
  });

  describe('with CONSENT_MODE=statement', () => {
    let statementApp: TestApp;
    beforeAll(async () => {
      statementApp = await startTestApp({ ALLOWED_ORIGINS: pages.origin, CONSENT_MODE: 'statement' });
      statementApp.clock.set(MIDDAY);
      const admin = await apiClient(statementApp, ['admin']);
      expect((await admin.post('/api/v1/topics', { slug: 'japan', name: 'Japan', query: 'japan' })).status).toBe(201);
    });
    afterAll(async () => {
      await statementApp?.close();
    });

    it('shows the statement with the terms link beside the button, no consent checkbox, and signs up', async () => {
      const { page } = await openArticle({ base: statementApp.url, topics: 'japan' });
      const widget = box(page);
      const statement = widget.getByText(STATEMENT_TEXT);
      await expect(statement.isVisible()).resolves.toBe(true);
      expect(await widget.getByRole('checkbox').count()).toBe(0);
      expect(await widget.getByRole('link', { name: 'Terms & Conditions' }).getAttribute('href')).toMatch(new RegExp(`^${statementApp.url}/terms`));
      const submit = widget.getByRole('button', { name: 'Sign up for free today' });
      expect(await submit.getAttribute('aria-describedby')).toBe(await statement.getAttribute('id'));

      await widget.getByRole('textbox', { name: 'Email address' }).fill('statement@example.com');
      await passTimeTrap(page, statementApp);
      await submit.click();
      await expect.poll(() => widget.locator('[role="status"]').textContent()).toBe(SUCCESS);
      const saved = await subscriptionsOf('statement@example.com', statementApp);
      expect(saved!.consent.find((c) => c.action === 'requested')).toMatchObject({ consentMode: 'statement', form: 'widget' });
    });
  });
});
