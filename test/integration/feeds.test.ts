import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';

const FEEDS = new URL('../fixtures/feeds/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FEEDS));

let app: TestApp;
let api: Awaited<ReturnType<typeof apiClient>>;
let server: Server;
let base: string;
const hits: Record<string, { ifNoneMatch?: string; ifModifiedSince?: string }[]> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    (hits[path] ??= []).push({ ifNoneMatch: req.headers['if-none-match'], ifModifiedSince: req.headers['if-modified-since'] });
    const send = (body: Buffer | string, type: string, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-type': type, ...headers });
      res.end(body);
    };
    switch (path) {
      case '/guardian.rss':
        return send(fixture('guardian.rss'), 'application/rss+xml; charset=utf-8');
      case '/heise.atom':
        return send(fixture('heise.atom'), 'application/atom+xml');
      case '/latin1.rss':
        // Declared only in the XML prolog (ISO-8859-1), as the publisher served it.
        return send(fixture('encoding.rss'), 'application/rss+xml');
      case '/uol.rss':
        // ISO-8859-1 bytes with no charset and no XML declaration, as UOL served it.
        return send(fixture('uolNoticias.rss'), 'application/rss+xml');
      case '/rdf.rss':
        return send(fixture('rss-1.rss'), 'application/rdf+xml');
      case '/unrecognized.rss':
        return send(fixture('unrecognized.rss'), 'application/rss+xml');
      case '/etag.rss':
        if (req.headers['if-none-match'] === '"v1"') {
          res.writeHead(304, { etag: '"v1"' });
          return res.end();
        }
        return send(fixture('heraldsun.rss'), 'application/rss+xml', { etag: '"v1"', 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
      case '/error.rss':
        res.writeHead(500);
        return res.end('boom');
      default:
        res.writeHead(404);
        return res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  app = await startTestApp({ FEED_POLL_MINUTES: '15' });
  api = await apiClient(app);
  for (const [slug, query] of [['trump', 'trump'], ['java', 'java OR wildfly'], ['presidente', 'lang:pt presidente'], ['bolsonaro', 'bolsonaro']]) {
    await api.post('/api/v1/topics', { slug, name: slug, query });
  }
});
afterAll(async () => {
  await app?.close();
  await new Promise((r) => server?.close(r));
});

describe('feeds', () => {
  it('registers feeds through the API, refusing duplicates and bad URLs', async () => {
    for (const path of ['/guardian.rss', '/heise.atom', '/latin1.rss', '/uol.rss', '/rdf.rss', '/unrecognized.rss', '/etag.rss', '/error.rss']) {
      const res = await api.post('/api/v1/feeds', { url: `${base}${path}`, name: path });
      expect(res.status, path).toBe(201);
    }
    expect((await api.post('/api/v1/feeds', { url: `${base}/guardian.rss` })).status).toBe(409);
    expect((await api.post('/api/v1/feeds', { url: 'ftp://example.com/feed' })).status).toBe(400);
    const unreachable = await api.post('/api/v1/feeds', { url: 'http://127.0.0.1:1/closed.rss' });
    expect(unreachable.status).toBe(201);
  });

  it('polls every due feed: good ones become articles, broken ones record their error and stop nothing', async () => {
    const outcomes = await app.ctx.services.feeds.pollDue();
    expect(outcomes).toHaveLength(9);
    const feeds = (await api.get('/api/v1/feeds')).body.feeds as { url: string; lastError: string | null; lastSuccessAt: string | null; itemsSeen: number; consecutiveFailures: number }[];
    const byPath = Object.fromEntries(feeds.map((f) => [new URL(f.url).pathname, f]));

    expect(byPath['/guardian.rss']!.itemsSeen).toBe(55);
    expect(byPath['/heise.atom']!.itemsSeen).toBe(15);
    expect(byPath['/latin1.rss']!.itemsSeen).toBe(40);
    expect(byPath['/uol.rss']!.itemsSeen).toBe(15);
    expect(byPath['/rdf.rss']!.itemsSeen).toBe(69);
    for (const p of ['/guardian.rss', '/heise.atom', '/latin1.rss', '/uol.rss', '/rdf.rss', '/etag.rss']) {
      expect(byPath[p]!.lastError, p).toBeNull();
      expect(byPath[p]!.lastSuccessAt, p).not.toBeNull();
    }
    expect(byPath['/unrecognized.rss']!.lastError).toMatch(/not a valid RSS or Atom feed/);
    expect(byPath['/error.rss']!.lastError).toBe('HTTP 500 Internal Server Error');
    expect(byPath['/closed.rss']!.lastError).toBeTruthy();
    expect(byPath['/error.rss']!.consecutiveFailures).toBe(1);

    // Items are articles with decoded text, dates, categories, and they were matched.
    const trump = await api.get('/api/v1/articles?topic=trump&limit=100');
    expect(trump.body.articles.length).toBeGreaterThan(0);
    const sotu = trump.body.articles.find((a: { url: string }) => a.url.includes('state-of-the-union-address-unity-discord'));
    expect(sotu.title).toBe('Trump State of the Union address promised unity but emphasized discord');
    expect(sotu.publishedAt).toMatch(/^2018-0[12]/);
    expect(sotu.tags.length).toBeGreaterThan(0);
    expect(sotu.summary).not.toMatch(/<p>/);

    const latin = await api.get('/api/v1/articles?topic=presidente&limit=100');
    const titles = latin.body.articles.map((a: { title: string }) => a.title);
    expect(titles, JSON.stringify(titles)).toContain('Mãe de utente é a nova presidente da Raríssimas');
    expect(latin.body.articles.every((a: { language: string }) => a.language === 'pt')).toBe(true);

    // No charset anywhere and bytes that are not UTF-8: decoded as windows-1252, as browsers do.
    const uol = await api.get('/api/v1/articles?topic=bolsonaro&limit=100');
    const uolTitles = uol.body.articles.map((a: { title: string }) => a.title);
    expect(uolTitles, JSON.stringify(uolTitles)).toContain('Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno');
    const ibope = uol.body.articles.find((a: { title: string }) => a.title.startsWith('Ibope: Bolsonaro perde'));
    expect(ibope.summary).toContain('Líder na pesquisa Ibope de intenção de voto');

    // None of the sources has U+FFFD, so no stored text may either.
    const stored = await app.ctx.repos.articles.list({ limit: 1000 });
    expect(stored.length).toBeGreaterThan(150);
    const replaced = stored.filter((a) => [a.title, a.summary, a.body].some((t) => t?.includes('\uFFFD')));
    expect(replaced.map((a) => a.url)).toEqual([]);

    const java = await api.get('/api/v1/articles?topic=java&limit=100');
    expect(java.body.articles.some((a: { title: string }) => a.title.includes('WildFly'))).toBe(true);
  });

  it('asks with ETag / If-Modified-Since, handles 304, and backs off failing feeds', async () => {
    const before = await app.ctx.repos.articles.count();
    app.clock.advance(16 * 60_000);
    const outcomes = await app.ctx.services.feeds.pollDue();
    // The failing feeds back off (2x the interval): only the healthy ones are due after 16 min.
    expect(outcomes.map((o) => o.status).sort()).toEqual(['not-modified', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(hits['/etag.rss']!.at(-1)).toEqual({ ifNoneMatch: '"v1"', ifModifiedSince: 'Wed, 21 Oct 2015 07:28:00 GMT' });
    expect(await app.ctx.repos.articles.count()).toBe(before);
    expect(hits['/error.rss']).toHaveLength(1);

    app.clock.advance(60 * 60_000);
    await app.ctx.services.feeds.pollDue();
    expect(hits['/error.rss']).toHaveLength(2);
    const feeds = (await api.get('/api/v1/feeds')).body.feeds as { url: string; consecutiveFailures: number }[];
    expect(feeds.find((f) => f.url.endsWith('/error.rss'))!.consecutiveFailures).toBe(2);
  });

  it('removes a feed', async () => {
    const feeds = (await api.get('/api/v1/feeds')).body.feeds as { id: number }[];
    expect((await api.delete(`/api/v1/feeds/${feeds[0]!.id}`)).status).toBe(204);
    expect((await api.delete(`/api/v1/feeds/${feeds[0]!.id}`)).status).toBe(404);
    expect((await api.get('/api/v1/feeds')).body.feeds).toHaveLength(feeds.length - 1);
  });
});
