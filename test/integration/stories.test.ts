import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { readerFlows } from '../helpers/flows.js';

// Same story, once: wire copies from three feeds are one digest entry and one instant alert; an
// update an editor marks goes out once more; two stories on one topic both arrive; quiet hours
// hold instant alerts and release them; the daily cap moves the rest to the next daily digest.

let smtp: TestSmtpServer;
let app: TestApp;
let api: Awaited<ReturnType<typeof apiClient>>;
let flows: ReturnType<typeof readerFlows>;
let feedServer: Server;
let feedBase: string;
const feeds = new Map<string, string>();

const seed = JSON.parse(readFileSync(new URL('../fixtures/articles.json', import.meta.url), 'utf8'))[0] as { title: string; body: string };
const paras = seed.body.split(/\n+/).filter(Boolean);
const DISCLAIMER = 'Legal Disclaimer: MENAFN provides the information “as is” without warranty of any kind. We do not accept any responsibility or liability for the accuracy, content, images, videos, licenses, completeness, legality, or reliability of the information contained in this article.';

function rss(title: string, items: { title: string; link: string; paragraphs: string[]; at: Date }[]): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>${esc(title)}</title><link>${feedBase}</link><description>x</description>
${items.map((i) => `<item><title>${esc(i.title)}</title><link>${i.link}</link><guid>${i.link}</guid><pubDate>${i.at.toUTCString()}</pubDate><description><![CDATA[${i.paragraphs.map((p) => `<p>${p}</p>`).join('')}]]></description></item>`).join('\n')}
</channel></rss>`;
}

// A second story on the same topics: Japan's own, told in its own words.
const OTHER = [
  'The Bank of Japan kept its benchmark interest rate unchanged on Thursday, saying wage growth and a weaker yen still needed watching before any further tightening.',
  'Governor Kazuo Ueda told reporters in Tokyo that the board saw inflation expectations settling near its two percent target, but that exporters faced uncertain demand from China.',
  'Economists polled before the meeting had expected no change; markets now see the next increase coming in the spring, after the annual wage negotiations conclude.',
];

beforeAll(async () => {
  feedServer = createServer((req, res) => {
    const body = feeds.get(req.url ?? '');
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/rss+xml; charset=utf-8' });
    res.end(body ?? '');
  });
  await new Promise<void>((resolve) => feedServer.listen(0, '127.0.0.1', resolve));
  feedBase = `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}`;
  smtp = await startSmtpServer();
  app = await startTestApp({ SMTP_URL: smtp.url, SIGNUP_RATE_LIMIT: '1000', MAIL_FROM: 'Example News <alerts@news.example>', MAX_ITEMS_PER_DIGEST: '10' });
  app.clock.set(new Date('2026-12-07T06:00:00Z')); // a Monday
  api = await apiClient(app);
  for (const [slug, name, query] of [['japan', 'Japan', 'japan'], ['russia', 'Russia', 'russia']]) expect((await api.post('/api/v1/topics', { slug, name, query })).status).toBe(201);
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
  await new Promise((r) => feedServer?.close(r));
});

async function addFeed(path: string, name: string, xml: string) {
  feeds.set(path, xml);
  expect((await api.post('/api/v1/feeds', { url: `${feedBase}${path}`, name })).status).toBe(201);
  await app.ctx.services.feeds.pollDue();
}

const mailsTo = async (email: string) => (await flows.sendQueued()).filter((m) => flows.recipient(m) === email);
const at = (iso: string) => app.clock.set(new Date(iso));

describe('stories', () => {
  it('three copies from three feeds are one story: one digest entry, one instant alert; a marked update goes out once more', async () => {
    flows = readerFlows(app, smtp);
    await flows.activeSubscriber('daily@example.com', ['japan', 'russia'], 'daily');
    await flows.activeSubscriber('instant@example.com', ['japan', 'russia'], 'instant');

    at('2026-12-07T06:10:00Z');
    await addFeed('/wire.rss', 'Wire Service', rss('Wire', [{ title: seed.title, link: 'https://wire.example/russia-japan', paragraphs: [`(MENAFN) ${paras[0]}`, ...paras.slice(1), DISCLAIMER], at: app.clock.now() }]));
    at('2026-12-07T06:12:00Z');
    await app.ctx.services.scheduler.run('test');
    const first = await mailsTo('instant@example.com');
    expect(first).toHaveLength(1);
    expect(first[0]!.text).toContain(seed.title);

    at('2026-12-07T06:30:00Z');
    await addFeed('/gazette.rss', 'Tokyo Gazette', rss('Gazette', [{ title: 'Moscow warns Tokyo: weapons it funds for Kyiv are targets', link: 'https://gazette.example/a/1', paragraphs: [`TOKYO, Dec 7 (Reuters) - ${paras[0]}`, ...paras.slice(1, 6), 'By Staff Reporter', 'Share us on your social networks:'], at: app.clock.now() }]));
    at('2026-12-07T06:45:00Z');
    await addFeed('/herald.rss', 'Daily Herald', rss('Herald', [
      { title: seed.title, link: 'https://herald.example/2026/russia-japan', paragraphs: paras.slice(0, Math.ceil(paras.length * 0.6)), at: app.clock.now() },
      { title: 'Bank of Japan holds rates as wage data awaited', link: 'https://herald.example/2026/boj', paragraphs: OTHER, at: app.clock.now() },
    ]));
    const stored = await app.ctx.services.articles.list({ topic: 'russia', limit: 10 });
    expect(stored).toHaveLength(3);
    expect(new Set(stored.map((a) => a.storyId)).size).toBe(1);

    // Instant: the later copies of a story already sent are skipped; the other story arrives.
    at('2026-12-07T06:50:00Z');
    await app.ctx.services.scheduler.run('test');
    const second = await mailsTo('instant@example.com');
    expect(second).toHaveLength(1);
    expect(second[0]!.text).toContain('Bank of Japan holds rates');
    expect(second[0]!.text).not.toContain(seed.title);

    // Daily: one entry for the three copies, saying who else reported it; both stories there.
    at('2026-12-07T08:00:30Z');
    await app.ctx.services.scheduler.run('test');
    const [daily, ...rest] = await mailsTo('daily@example.com');
    expect(rest).toHaveLength(0);
    expect(daily!.subject).toMatch(/^2 new articles/);
    expect(daily!.text!.split(seed.title).length - 1).toBe(1);
    expect(daily!.text).not.toContain('Moscow warns Tokyo');
    const dailySub = (await app.ctx.repos.subscribers.findByEmail('daily@example.com'))!;
    const delivery = (await app.ctx.repos.deliveries.listForSubscriber(dailySub.id)).find((d) => d.kind === 'digest')!;
    const claimed = (await app.ctx.repos.digests.deliveryArticles(delivery.id)).map((a) => [a.id, a.storyId, a.source]);
    expect(daily!.text, JSON.stringify({ payload: delivery.payload, claimed, stored: stored.map((a) => [a.id, a.storyId, a.url]) })).toMatch(/Also reported by (Tokyo Gazette and Daily Herald|Daily Herald and Tokyo Gazette)/);
    expect(String(daily!.html)).toContain('Also reported by');
    expect(daily!.text).toContain('Bank of Japan holds rates');

    // An update the editor marks: once more to each, and only once.
    at('2026-12-07T09:00:00Z');
    const update = await api.post('/api/v1/articles', {
      url: 'https://wire.example/russia-japan-update',
      title: `${seed.title}: Tokyo responds`,
      body: ['Japan’s foreign ministry summoned the Russian ambassador on Thursday over the remarks.', ...paras.slice(1)].join('\n\n'),
      update: true,
      publishedAt: app.clock.now().toISOString(),
    });
    expect(update.status).toBe(201);
    expect(update.body.story).toMatchObject({ id: stored.at(-1)!.storyId, firstArticleId: stored.at(-1)!.storyId });
    expect(update.body.story.similarity).toBeGreaterThan(0.45);
    expect(update.body.article.isUpdate).toBe(true);
    at('2026-12-07T09:06:00Z');
    await app.ctx.services.scheduler.run('test');
    const updated = await mailsTo('instant@example.com');
    expect(updated).toHaveLength(1);
    expect(updated[0]!.text).toContain('Tokyo responds');

    const again = await api.post('/api/v1/articles', { url: 'https://wire.example/russia-japan-update-2', title: `${seed.title}: a second update`, body: paras.join('\n\n'), updateOf: 'https://wire.example/russia-japan' });
    expect(again.body.story.id).toBe(stored.at(-1)!.storyId);
    at('2026-12-07T09:12:00Z');
    await app.ctx.services.scheduler.run('test');
    expect(await mailsTo('instant@example.com')).toHaveLength(0);

    // The console's story view lists the copies and where they came from.
    const copies = await app.ctx.services.stories.copies(stored.at(-1)!.storyId);
    expect(copies.map((c) => c.source).sort()).toEqual(['Daily Herald', 'Tokyo Gazette', 'Wire Service', 'wire.example', 'wire.example'].sort());
  });
});

describe('attention controls', () => {
  async function instantReader(email: string, settings: Record<string, unknown>) {
    const sub = await flows.activeSubscriber(email, ['japan'], 'instant');
    await app.ctx.repos.subscribers.updateSettings(sub.id, settings);
    return sub;
  }
  let n = 0;
  // Each a story of its own: words no other one shares.
  const publish = (title: string) => {
    const id = ++n;
    const words = Array.from({ length: 40 }, (_, i) => `w${id}q${i}`).join(' ');
    return api.post('/api/v1/articles', { url: `https://news.example/attention/${id}`, title, body: `${title} in Japan. ${words}.`, publishedAt: app.clock.now().toISOString() });
  };

  it('quiet hours hold an instant alert until they end', async () => {
    at('2026-12-08T12:00:00Z');
    await instantReader('night@example.com', { timeZone: 'Asia/Tokyo', quietStart: 22, quietEnd: 7 });
    at('2026-12-08T14:00:00Z'); // 23:00 in Tokyo
    expect((await publish('Late news from Japan')).status).toBe(201);
    at('2026-12-08T14:06:00Z');
    await app.ctx.services.scheduler.run('test');
    expect(await mailsTo('night@example.com')).toHaveLength(0);
    at('2026-12-08T21:59:00Z'); // 06:59
    await app.ctx.services.scheduler.run('test');
    expect(await mailsTo('night@example.com')).toHaveLength(0);
    at('2026-12-08T22:00:30Z'); // 07:00: the hours are over
    await app.ctx.services.scheduler.run('test');
    const [held] = await mailsTo('night@example.com');
    expect(held!.text).toContain('Late news from Japan');
  });

  it('the daily cap sends the rest in the next daily digest, losing nothing', async () => {
    at('2026-12-09T09:00:00Z');
    const sub = await instantReader('capped@example.com', { instantDailyCap: 2 });
    const titles = ['Japan story one', 'Japan story two', 'Japan story three', 'Japan story four'];
    for (const [i, title] of titles.entries()) {
      at(`2026-12-09T1${i}:00:00Z`);
      expect((await publish(title)).status).toBe(201);
      at(`2026-12-09T1${i}:06:00Z`);
      await app.ctx.services.scheduler.run('test');
    }
    const instant = await mailsTo('capped@example.com');
    expect(instant.map((m) => m.text!.includes('Japan story one') || m.text!.includes('Japan story two'))).toEqual([true, true]);
    expect((await app.ctx.repos.subscribers.findById(sub.id))!.instantOverflowSince).not.toBeNull();
    // The next daily digest (08:00 UTC) carries the two held back.
    at('2026-12-10T08:00:30Z');
    await app.ctx.services.scheduler.run('test');
    const [digest, ...more] = await mailsTo('capped@example.com');
    expect(more).toHaveLength(0);
    expect(digest!.text).toContain('Japan story three');
    expect(digest!.text).toContain('Japan story four');
    expect(digest!.text).not.toContain('Japan story one');
    expect((await app.ctx.repos.subscribers.findById(sub.id))!.instantOverflowSince).toBeNull();
    // A new day: instant alerts again.
    at('2026-12-10T09:00:00Z');
    await publish('Japan story five');
    at('2026-12-10T09:06:00Z');
    await app.ctx.services.scheduler.run('test');
    expect((await mailsTo('capped@example.com')).map((m) => m.text!.includes('Japan story five'))).toEqual([true]);
  });

  it('sets the controls through the admin API, audited, refusing what is not one', async () => {
    at('2026-12-11T09:00:00Z');
    const sub = await flows.activeSubscriber('api-set@example.com', ['japan'], 'instant');
    const set = await api.patch(`/api/v1/subscribers/${sub.id}`, { quietHours: { start: 21, end: 6 }, instantDailyCap: 3, snooze: 7 });
    expect(set.status).toBe(200);
    expect(set.body.subscriber).toMatchObject({ quietHours: { start: 21, end: 6 }, instantDailyCap: 3, pausedUntil: new Date(app.clock.now().getTime() + 7 * 86_400_000).toISOString() });
    const back = await api.patch(`/api/v1/subscribers/${sub.id}`, { quietHours: null, instantDailyCap: null, snooze: 'none' });
    expect(back.body.subscriber).toMatchObject({ quietHours: null, instantDailyCap: null, pausedUntil: null, pausedIndefinitely: false });
    expect((await api.patch(`/api/v1/subscribers/${sub.id}`, { quietHours: 'off' })).body.subscriber.quietHours).toEqual({ start: 0, end: 0 });
    for (const bad of [{ quietHours: { start: 25, end: 6 } }, { instantDailyCap: -1 }, { snooze: 3 }, {}, { other: 1 }]) {
      const r = await api.patch(`/api/v1/subscribers/${sub.id}`, bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
    }
    expect((await api.patch('/api/v1/subscribers/999999', { snooze: 1 })).status).toBe(404);
    const audit = (await app.ctx.repos.audit.recent(20)).filter((a) => a.action === 'subscriber.attention');
    expect(audit).toHaveLength(3);
  });
});
