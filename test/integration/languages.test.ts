import { createHash } from 'node:crypto';
import { load } from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParsedMail } from 'mailparser';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { readerFlows } from '../helpers/flows.js';
import { pageForms } from '../helpers/pages.js';
import { ConsoleClient } from '../helpers/console.js';
import { loadCatalogues } from '../../src/i18n/translator.js';

// Readers in their own language, the way they go through it: a signup from an Arabic article
// gets an Arabic, right-to-left confirmation and Arabic digests; the reader switches to English
// in the preference centre and the next mail is English; the publisher's own words, set in the
// console, show in the box at once and are what the consent records; terms per language.

const ar = loadCatalogues().ar;
const en = loadCatalogues().en;
let smtp: TestSmtpServer;
let app: TestApp;
let api: Awaited<ReturnType<typeof apiClient>>;
let flows: ReturnType<typeof readerFlows>;
const at = (iso: string) => app.clock.set(new Date(iso));
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const mailsTo = async (email: string) => (await flows.sendQueued()).filter((m) => flows.recipient(m) === email);
const html$ = (mail: ParsedMail) => load(mail.html || '');

async function page(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, text, $: load(text), url: res.url };
}

/** RFC 2047 Q-encoded words ("=?UTF-8?Q?=D8=AA...?="), which mailparser leaves in List-Id. */
const decodeWords = (s: string) =>
  s.replace(/=\?UTF-8\?Q\?([^?]*)\?=/gi, (_m, q: string) => Buffer.from(q.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'));

let articleNo = 0;
async function publish(language: string, title: string, summary: string) {
  articleNo++;
  const res = await api.post('/api/v1/articles', { url: `https://news.example/${language}/${articleNo}`, title, summary, language, publishedAt: app.clock.now().toISOString() });
  expect(res.status).toBe(201);
  return `https://news.example/${language}/${articleNo}`;
}

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await startTestApp({ SMTP_URL: smtp.url, SIGNUP_RATE_LIMIT: '1000', MAIL_FROM: 'Example News <alerts@news.example>' });
  at('2026-12-07T06:00:00Z');
  api = await apiClient(app);
  flows = readerFlows(app, smtp);
  const created = await api.post('/api/v1/topics', { slug: 'japan', name: 'Japan', query: 'japan OR اليابان', names: { ar: 'اليابان', fr: 'Japon' } });
  expect(created.status).toBe(201);
  expect(created.body.topic.names).toEqual({ ar: 'اليابان', fr: 'Japon' });
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

describe('a reader in Arabic', () => {
  const email = 'qari@example.com';
  let arabicDigest: ParsedMail | undefined;

  it('signs up from an Arabic article and gets an Arabic, right-to-left confirmation; the pages it links to are Arabic', async () => {
    const article = await publish('ar', 'اليابان ترفع أسعار الفائدة', 'قرر بنك اليابان رفع سعر الفائدة الرئيسي للمرة الأولى منذ سنوات.');
    const config = (await (await fetch(`${app.url}/api/v1/widget-config?article=${encodeURIComponent(article)}`, { headers: { 'accept-language': 'en-GB,en;q=0.9' } })).json()) as any;
    // the article's language (from ingest) wins over the browser's
    expect(config.language).toBe('ar');
    expect(config.dir).toBe('rtl');
    expect(config.topics.map((t: { name: string }) => t.name)).toEqual(['اليابان']);
    expect(config.submitLabel).toBe(ar['box.submit']);
    expect(config.consent.termsUrl).toMatch(/\?lang=ar$/);
    expect(config.consent.text).toContain(config.consent.linkText);

    expect((await flows.signup({ email, topics: ['japan'], language: config.language })).status).toBe(202);
    const [mail] = await mailsTo(email);
    expect(mail!.subject).toContain('اليابان');
    expect(mail!.subject).not.toMatch(/Confirm/);
    const $ = html$(mail!);
    expect($('html').attr('lang')).toBe('ar');
    expect($('html').attr('dir')).toBe('rtl');
    expect($('body > div[dir]').first().attr('dir') ?? $('div[dir="rtl"]').first().attr('dir')).toBe('rtl');
    // every text block is aligned right, the columns run right to left
    const textBlocks = $('h1, p').filter((_, el) => $(el).text().trim() !== '').map((_, el) => $(el).closest('div[style*="text-align"]').attr('style') ?? '').get();
    expect(textBlocks.length).toBeGreaterThan(3);
    for (const style of textBlocks) expect(style).toMatch(/text-align:(right|center)/);
    expect(mail!.html).toMatch(/direction:rtl/);
    expect(mail!.html).not.toMatch(/direction:ltr/);
    expect(mail!.text).toContain('اليابان');
    expect(mail!.headers.get('list-id')).toBeUndefined(); // a confirmation is not list mail
    const consent = (await app.ctx.repos.consentEvents.history((await app.ctx.repos.subscribers.findByEmail(email))!.id))[0]!;
    expect(consent).toMatchObject({ language: 'ar', consentText: ar['consent.checkbox']!.replace(/<\/?terms>/g, '') });

    // the reader follows the link in the mail and presses the button on the page it opens
    const confirmPage = await page(flows.linkTo(mail!, '/confirm/')!);
    expect(confirmPage.$('html').attr('lang')).toBe('ar');
    expect(confirmPage.$('html').attr('dir')).toBe('rtl');
    expect(confirmPage.$('h1').text()).toBe(ar['confirm.title']);
    const [confirm] = pageForms(confirmPage.text, confirmPage.url, () => email).filter((f) => f.label === ar['confirm.button']);
    const done = await page(confirm!.action, { method: 'POST', body: confirm!.body });
    expect(done.status).toBe(200);
    expect(done.$('h1').text()).toBe(ar['confirm.done.heading']);
    expect(done.$('html').attr('dir')).toBe('rtl');
  });

  it('gets an Arabic digest, right to left, with the topic in Arabic', async () => {
    at('2026-12-07T07:00:00Z');
    await publish('ar', 'اليابان تعلن خطة جديدة للطاقة', 'أعلنت حكومة اليابان خطة لخفض الانبعاثات بحلول عام 2035.');
    at('2026-12-07T08:00:30Z');
    await app.ctx.services.scheduler.run('test');
    const [digest] = await mailsTo(email);
    expect(digest, 'an Arabic digest').toBeDefined();
    arabicDigest = digest;
    const $ = html$(digest!);
    expect($('html').attr('lang')).toBe('ar');
    expect($('html').attr('dir')).toBe('rtl');
    expect($('h2').first().text().trim()).toBe('اليابان');
    expect(digest!.subject).toMatch(/اليابان/);
    expect(digest!.html).toContain('اليابان تعلن خطة جديدة للطاقة');
    expect(digest!.text).toContain(ar['mail.digest.unsubscribeTopic']!.slice(0, 4));
    // the list's display name (List-Id) is in Arabic too
    const list = digest!.headers.get('list') as { id?: { name?: string } } | undefined;
    expect(decodeWords(list?.id?.name ?? '')).toBe(ar['mail.listName']!.replace('{publisherName}', app.ctx.config.mail.publisherName));
  });

  it('changes the language in the preference centre, and the next mail is English', async () => {
    // the footer's link of the mail that arrived
    const prefsUrl = flows.linkTo(arabicDigest!, '/preferences/')!;
    const prefs = await page(prefsUrl);
    expect(prefs.$('html').attr('dir')).toBe('rtl');
    expect(prefs.$('h1').text()).toBe(ar['prefs.title']);
    expect(prefs.$('#language option[selected]').attr('value')).toBe('ar');
    const [save] = pageForms(prefs.text, prefs.url, () => email).filter((f) => f.label === ar['prefs.save']);
    save!.body.set('language', 'en');
    const saved = await fetch(save!.action, { method: 'POST', body: save!.body, redirect: 'manual' });
    expect(saved.status).toBe(303);
    const after = await page(new URL(saved.headers.get('location')!, prefsUrl).href);
    expect(after.$('html').attr('lang')).toBe('en');
    expect(after.$('[role=status]').first().text()).toBe(en['prefs.saved']);

    at('2026-12-07T12:00:00Z');
    await publish('en', 'Japan unveils a new energy plan', 'The government of Japan set out a plan to cut emissions by 2035.');
    at('2026-12-08T08:00:30Z');
    await app.ctx.services.scheduler.run('test');
    const [next] = await mailsTo(email);
    expect(next, 'the next digest').toBeDefined();
    const $ = html$(next!);
    expect($('html').attr('lang')).toBe('en');
    expect($('html').attr('dir')).toBe('ltr');
    expect(next!.subject).toBe('1 new article: Japan');
  });

  it('the API sets the language too (a publisher fixing it for a reader who wrote in), and refuses one we do not ship', async () => {
    const sub = (await app.ctx.repos.subscribers.findByEmail(email))!;
    const set = await api.patch(`/api/v1/subscribers/${sub.id}`, { language: 'fr' });
    expect(set.status).toBe(200);
    expect(set.body.subscriber.language).toBe('fr');
    const bad = await api.patch(`/api/v1/subscribers/${sub.id}`, { language: 'xx' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/language/);
    expect((await app.ctx.repos.subscribers.findById(sub.id))!.language).toBe('fr');
  });
});

describe("the publisher's own words", () => {
  const editor = { email: 'words@example.com', password: 'a long enough password for tests' };
  let c: ConsoleClient;

  it('a text set in the console, after its preview, shows in the box at once and is what the consent records', async () => {
    await app.ctx.services.admin.createAdmin(editor.email, editor.password, 'cli');
    c = new ConsoleClient(app.url);
    expect((await c.login(editor.email, editor.password)).status).toBe(303);
    const list = await c.get('/admin/wording?lang=ar&group=consent');
    expect(list.status).toBe(200);
    expect(list.text).toContain('consent.checkbox');

    const mine = 'أوافق على <terms>شروط الاستخدام</terms> الخاصة بالموقع';
    // a text using a placeholder the message lacks is refused in the preview, with no save button
    const bad = await c.get(`/admin/wording/edit?lang=ar&key=consent.checkbox&text=${encodeURIComponent('أوافق {name}')}`);
    expect(bad.status).toBe(200);
    expect(bad.text).toContain('{name}');
    expect(bad.text).not.toContain('Save this text');
    const preview = await c.get(`/admin/wording/edit?lang=ar&key=consent.checkbox&text=${encodeURIComponent(mine)}`);
    expect(load(preview.text)('#h-preview').parent().text()).toContain('أوافق على شروط الاستخدام الخاصة بالموقع');
    expect(preview.text).toContain('Save this text');
    // saving a bad one directly is a 400 with the reason, and changes nothing
    expect((await c.post('/admin/wording', { lang: 'ar', key: 'consent.checkbox', text: 'أوافق {' })).status).toBe(400);
    const saved = await c.post('/admin/wording', { lang: 'ar', key: 'consent.checkbox', text: mine });
    expect(saved.status).toBe(303);
    expect((await c.post('/admin/wording', { lang: 'ar', key: 'box.submit', text: 'سجّلني الآن' })).status).toBe(303);

    const config = (await (await fetch(`${app.url}/api/v1/widget-config?topics=japan&lang=ar`)).json()) as any;
    expect(config.consent.text).toBe('أوافق على شروط الاستخدام الخاصة بالموقع');
    expect(config.consent.linkText).toBe('شروط الاستخدام');
    expect(config.submitLabel).toBe('سجّلني الآن');
    // English is untouched
    const english = (await (await fetch(`${app.url}/api/v1/widget-config?topics=japan&lang=en`)).json()) as any;
    expect(english.submitLabel).toBe(en['box.submit']);

    expect((await flows.signup({ email: 'words-reader@example.com', topics: ['japan'], language: 'ar' })).status).toBe(202);
    const id = (await app.ctx.repos.subscribers.findByEmail('words-reader@example.com'))!.id;
    const [event] = await app.ctx.repos.consentEvents.history(id);
    expect(event).toMatchObject({ action: 'requested', language: 'ar', consentText: 'أوافق على شروط الاستخدام الخاصة بالموقع' });
    const audit = (await app.ctx.repos.audit.recent(50)).filter((a) => a.action === 'wording.set').map((a) => a.target);
    expect(audit).toEqual(expect.arrayContaining(['ar:consent.checkbox', 'ar:box.submit']));

    // the hosted signup page uses it too
    const hosted = await page(`${app.url}/subscribe?topics=japan&lang=ar`);
    expect(hosted.$('form.signup label').text()).toContain('شروط الاستخدام');

    expect((await c.post('/admin/wording', { lang: 'ar', key: 'box.submit', reset: '1' })).status).toBe(303);
    const back = (await (await fetch(`${app.url}/api/v1/widget-config?topics=japan&lang=ar`)).json()) as any;
    expect(back.submitLabel).toBe(ar['box.submit']);
  });
});

describe('terms per language', () => {
  it('a reader accepts the text in their language when there is one, and consent records its hash and language', async () => {
    const published = await api.post('/api/v1/terms', { title: 'Terms & Conditions', bodyMarkdown: 'You will receive the alerts you choose.', translations: { ar: { title: 'الشروط والأحكام', bodyMarkdown: 'ستتلقى التنبيهات التي تختارها.' } } });
    expect(published.status).toBe(201);
    const version = published.body.terms.version as number;
    expect(published.body.terms.translations.map((t: { language: string }) => t.language)).toEqual(['ar']);
    const fr = await api.post(`/api/v1/terms/${version}/translations/fr`, { title: 'Conditions générales', bodyMarkdown: 'Vous recevrez les alertes que vous choisissez.' });
    expect(fr.status).toBe(201);
    expect((await api.post(`/api/v1/terms/${version}/translations/fr`, { title: 'x', bodyMarkdown: 'y' })).status).toBe(409);
    expect((await api.post(`/api/v1/terms/${version}/translations/xx`, { title: 'x', bodyMarkdown: 'y' })).status).toBe(400);

    expect((await flows.signup({ email: 'terms-ar@example.com', language: 'ar' })).status).toBe(202);
    expect((await flows.signup({ email: 'terms-de@example.com', language: 'de' })).status).toBe(202);
    const event = async (e: string) => (await app.ctx.repos.consentEvents.history((await app.ctx.repos.subscribers.findByEmail(e))!.id))[0]!;
    expect(await event('terms-ar@example.com')).toMatchObject({ termsVersion: version, termsLanguage: 'ar', termsSha256: sha256('ستتلقى التنبيهات التي تختارها.'), language: 'ar' });
    // no German text: the version's own (English) text is the one accepted
    expect(await event('terms-de@example.com')).toMatchObject({ termsVersion: version, termsLanguage: 'en', termsSha256: sha256('You will receive the alerts you choose.'), language: 'de' });

    const arPage = await page(`${app.url}/terms/${version}?lang=ar`);
    expect(arPage.$('html').attr('dir')).toBe('rtl');
    expect(arPage.$('h1').text()).toBe('الشروط والأحكام');
    const dePage = await page(`${app.url}/terms/${version}`, { headers: { 'accept-language': 'de-DE,de;q=0.9' } });
    expect(dePage.$('html').attr('lang')).toBe('de');
    expect(dePage.$('article.terms').attr('lang')).toBe('en');
    expect(dePage.$('[role=note]').text()).toContain('Englisch');
  });
});
