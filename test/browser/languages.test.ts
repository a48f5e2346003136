import path from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { ARTIFACTS, HAS_CHROMIUM, launchChromium, seriousAxeViolations } from '../helpers/browser.js';
import { loadCatalogues } from '../../src/i18n/translator.js';

if (!HAS_CHROMIUM) console.warn('test/browser: /usr/bin/chromium not found, language browser tests skipped (.ci/run installs it)');

// The box and the preference centre in Arabic (right to left) and in English, in Chromium:
// the language chosen from the page the box is on, the layout mirrored, axe on each, the whole
// signup and a preference change by keyboard alone, and screenshots of both for review.

const catalogues = loadCatalogues();
const ARTICLES: Record<string, { title: string; text: string }> = {
  ar: { title: 'اليابان ترفع أسعار الفائدة للمرة الأولى منذ سنوات', text: 'قرر بنك اليابان رفع سعر الفائدة الرئيسي، في خطوة طال انتظارها بعد سنوات من السياسة النقدية المتساهلة.' },
  en: { title: 'Japan raises interest rates for the first time in years', text: 'The Bank of Japan raised its benchmark rate, a long-awaited step after years of loose monetary policy.' },
};

/** A publisher's article page in `lang` with the box on it (no data-lang: the page's lang decides). */
async function startArticleServer(widgetSrc: () => string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const lang = new URL(req.url ?? '/', 'http://x').pathname.slice(1);
    const a = ARTICLES[lang];
    if (!a) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<html lang="${lang}" dir="${lang === 'ar' ? 'rtl' : 'ltr'}"><head><meta charset="utf-8"><title>${a.title}</title>
<style>body { font: 18px/1.8 serif; max-width: 44rem; margin: 0 auto; padding: 0 12px; }</style></head>
<body><main><h1>${a.title}</h1><p>${a.text}</p>
<div data-topic-alerts data-topics="japan"></div>
<script async src="${widgetSrc()}"></script></main></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The element focused, looking through shadow roots: an id, or tag and text. */
const deepFocus = (page: Page) =>
  page.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    if (!el || el === document.body) return 'body';
    return el.id || `${el.tagName.toLowerCase()}:${(el.textContent ?? '').trim()}`;
  });

describe.skipIf(!HAS_CHROMIUM)('readers in Arabic and in English, in Chromium', () => {
  let app: TestApp;
  let site: { server: Server; origin: string };
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    site = await startArticleServer(() => `${app.url}/widget.js`);
    app = await startTestApp({ ALLOWED_ORIGINS: site.origin, PUBLISHER_NAME: 'MENAFN' });
    app.clock.set(new Date(`${new Date().toISOString().slice(0, 10)}T12:00:00Z`));
    const api = await apiClient(app);
    expect((await api.post('/api/v1/topics', { slug: 'japan', name: 'Japan', query: 'japan', names: { ar: 'اليابان' } })).status).toBe(201);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    await app?.close();
    await new Promise((r) => site?.server.close(r));
  });

  // An English-speaking browser in both cases: the page's language is what the box follows.
  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ locale: 'en-GB', reducedMotion: 'reduce', viewport: { width: 900, height: 1200 } });
    contexts.push(context);
    return context.newPage();
  }

  for (const lang of ['ar', 'en'] as const) {
    const t = catalogues[lang];
    const dir = lang === 'ar' ? 'rtl' : 'ltr';

    it(`the box on a page in ${lang} speaks ${lang}, ${dir}; axe finds nothing serious; a reader signs up by keyboard alone`, async () => {
      const page = await newPage();
      const errors: Error[] = [];
      page.on('pageerror', (e) => errors.push(e));
      await page.goto(`${site.origin}/${lang}`);
      const box = page.locator('[data-topic-alerts]');
      await box.getByRole('heading', { name: t['box.heading.one'] }).waitFor();
      const section = box.locator('section');
      expect(await section.getAttribute('lang')).toBe(lang);
      expect(await section.getAttribute('dir')).toBe(dir);
      expect(await section.evaluate((el) => getComputedStyle(el).direction)).toBe(dir);
      // mirrored: the submit button comes first in reading order, so it is on the right in Arabic
      const [submit, dismiss] = await Promise.all([box.getByRole('button', { name: t['box.submit'] }).boundingBox(), box.getByRole('button', { name: t['box.dismiss'] }).boundingBox()]);
      expect(lang === 'ar' ? submit!.x > dismiss!.x : submit!.x < dismiss!.x).toBe(true);
      // the address reads left to right whatever the language
      expect(await box.getByLabel(t['box.email']!).evaluate((el) => getComputedStyle(el).direction)).toBe('ltr');
      if (lang === 'ar') expect(await box.getByText('اليابان', { exact: true }).count()).toBe(1);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await box.screenshot({ path: path.join(ARTIFACTS, `widget-${lang}.png`) });

      // Keyboard alone: to the address, then frequency, consent, the terms link, the buttons.
      for (let i = 0; i < 20 && (await deepFocus(page)) !== 'ta-email'; i++) await page.keyboard.press('Tab');
      const email = `keys-${lang}@example.com`;
      await page.keyboard.type(email);
      const order: string[] = [];
      for (let i = 0; i < 5; i++) {
        await page.keyboard.press('Tab');
        order.push(await deepFocus(page));
      }
      const termsWords = t['consent.checkbox']!.match(/<terms>(.*)<\/terms>/)![1]!;
      expect(order).toEqual(['ta-frequency', 'ta-consent', `a:${termsWords}`, `button:${t['box.submit']}`, `button:${t['box.dismiss']}`]);
      // an unticked consent box is refused, in the box's language, next to the box
      await page.keyboard.press('Shift+Tab');
      await page.waitForTimeout(2100); // the server's time trap, in real time for the widget
      app.clock.advance(3000);
      await page.keyboard.press('Enter');
      await expect.poll(() => box.locator('#ta-consent-error').textContent()).toBe(t['box.error.consent']);
      expect(await deepFocus(page)).toBe('ta-consent');
      await page.keyboard.press('Space');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      expect(await deepFocus(page)).toBe(`button:${t['box.submit']}`);
      await page.keyboard.press('Enter');
      await expect.poll(() => box.locator('[role="status"]').textContent()).toBe(t['box.success']);
      expect(errors).toEqual([]);
      await box.screenshot({ path: path.join(ARTIFACTS, `widget-${lang}-done.png`) });

      const subscriber = (await app.ctx.repos.subscribers.findByEmail(email))!;
      expect(subscriber.language).toBe(lang);
      // the confirmation mail as a mail client shows it (the dev outbox keeps what was sent)
      await app.ctx.services.sender.runOnce();
      const [sent] = (await app.ctx.repos.outbox.list(20)).filter((m) => m.recipient.includes(email));
      const mail = await newPage();
      await mail.setContent(sent!.html);
      expect(await mail.locator('html').getAttribute('dir')).toBe(dir);
      const heading = await mail.locator('h1').evaluate((el) => ({ align: getComputedStyle(el.parentElement!).textAlign, direction: getComputedStyle(el).direction }));
      expect(heading).toEqual({ align: lang === 'ar' ? 'right' : 'left', direction: dir });
      await mail.screenshot({ path: path.join(ARTIFACTS, `confirmation-mail-${lang}.png`), fullPage: true });
      const [consent] = await app.ctx.repos.consentEvents.history(subscriber.id);
      expect(consent).toMatchObject({ language: lang, consentText: t['consent.checkbox']!.replace(/<\/?terms>/g, '') });
    });

    it(`the preference centre in ${lang} is ${dir}, passes axe, and is worked by keyboard`, async () => {
      const subscriber = (await app.ctx.repos.subscribers.findByEmail(`keys-${lang}@example.com`))!;
      // the signup left Japan pending; confirmed here as the mail's link would
      await app.ctx.repos.subscriptions.activateDirect(subscriber.id, (await app.ctx.repos.topics.findBySlug('japan'))!.id, 'daily', app.clock.now());
      const page = await newPage();
      await page.goto(app.ctx.links.preferencesUrl(subscriber.id, app.clock.now()));
      expect(await page.locator('html').getAttribute('lang')).toBe(lang);
      expect(await page.locator('html').getAttribute('dir')).toBe(dir);
      await page.getByRole('heading', { level: 1, name: t['prefs.title'] }).waitFor();
      // the topic column starts on the reading side: right in Arabic
      const cell = await page.locator('table.prefs th[scope=row]').first().evaluate((el) => ({ align: getComputedStyle(el).textAlign, direction: getComputedStyle(el).direction }));
      expect(cell).toEqual({ align: 'start', direction: dir });
      const heading = (await page.locator('h1').boundingBox())!;
      const main = (await page.locator('main').boundingBox())!;
      if (lang === 'ar') expect(main.x + main.width - (heading.x + heading.width)).toBeLessThan(40);
      else expect(heading.x - main.x).toBeLessThan(40);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await page.screenshot({ path: path.join(ARTIFACTS, `preferences-${lang}.png`), fullPage: true });

      // Keyboard: weekly for Japan, the other language for the mails, save with Enter.
      await page.getByLabel(t['prefs.howOftenTopic']!.replace('{topic}', lang === 'ar' ? 'اليابان' : 'Japan')).focus();
      await page.keyboard.press('ArrowDown'); // daily → weekly
      const other = lang === 'ar' ? 'en' : 'ar';
      await page.getByLabel(t['prefs.languageLabel']!).focus();
      await page.keyboard.press(other === 'en' ? 'Home' : 'ArrowDown'); // the list is en, ar, …
      expect(await page.getByLabel(t['prefs.languageLabel']!).inputValue()).toBe(other);
      await page.getByRole('button', { name: t['prefs.save'] }).focus();
      await page.keyboard.press('Enter');
      // the page after saving is in the language just chosen
      await page.getByText(catalogues[other]['prefs.saved']!).waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe(other);
      expect(await seriousAxeViolations(page)).toEqual([]);
      const saved = (await app.ctx.repos.subscribers.findById(subscriber.id))!;
      expect(saved.language).toBe(other);
      const subs = await app.ctx.repos.subscriptions.forSubscriber(subscriber.id);
      expect(subs.map((s) => [s.topicSlug, s.status, s.frequency])).toEqual([['japan', 'active', 'weekly']]);
    });
  }
});
