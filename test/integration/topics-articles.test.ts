import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';

const fixture = JSON.parse(readFileSync(new URL('../../src/demo/articles.json', import.meta.url), 'utf8'))[0];

let app: TestApp;
let api: Awaited<ReturnType<typeof apiClient>>;

beforeAll(async () => {
  app = await startTestApp();
  api = await apiClient(app, ['admin']);
});
afterAll(async () => {
  await app?.close();
});

describe('topics API', () => {
  it('requires a token with the admin scope', async () => {
    const anonymous = await fetch(`${app.url}/api/v1/topics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/Bearer/);
    const bad = await fetch(`${app.url}/api/v1/topics`, { headers: { authorization: 'Bearer ta_not-a-real-token' } });
    expect(bad.status).toBe(401);
    const ingestOnly = await apiClient(app, ['ingest']);
    const forbidden = await ingestOnly.get('/api/v1/topics');
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('forbidden');
  });

  it('creates, reads, updates and archives a topic, with an audit entry for each change', async () => {
    const created = await api.post('/api/v1/topics', { slug: 'japan-nato', name: 'Japan & NATO', description: 'd', query: 'Japan AND NATO -sports' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/topics/japan-nato');
    expect(created.body.topic).toMatchObject({ slug: 'japan-nato', name: 'Japan & NATO', status: 'active', query: 'Japan AND NATO -sports' });

    expect((await api.get('/api/v1/topics/japan-nato')).body.topic.name).toBe('Japan & NATO');
    const patched = await api.patch('/api/v1/topics/japan-nato', { name: 'Japan and NATO' });
    expect(patched.status).toBe(200);
    expect(patched.body.topic.name).toBe('Japan and NATO');

    const list = await api.get('/api/v1/topics');
    expect(list.body.topics.map((t: { slug: string }) => t.slug)).toContain('japan-nato');

    const archived = await api.delete('/api/v1/topics/japan-nato');
    expect(archived.status).toBe(200);
    expect(archived.body.topic.status).toBe('archived');
    expect((await api.get('/api/v1/topics?status=active')).body.topics.map((t: { slug: string }) => t.slug)).not.toContain('japan-nato');

    const audit = await app.ctx.repos.audit.recent(20);
    const actions = audit.filter((a) => a.target === 'topic:japan-nato').map((a) => a.action);
    expect(actions).toEqual(['topic.update', 'topic.update', 'topic.create']);
    expect(audit[0]!.actor).toMatch(/^token:test-admin#\d+$/);
  });

  it('rejects invalid topics with 400s that explain, and duplicate slugs with 409', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ slug: 'Not Kebab', name: 'x', query: 'x' }, 'slug', /kebab-case/],
      [{ slug: 'a', name: '', query: 'x' }, 'name', /required/],
      [{ slug: 'a', name: 'A', query: 'japan "unclosed' }, 'query', /unclosed quote at column 7/],
      [{ slug: 'a', name: 'A', query: '-japan' }, 'query', /./],
      [{ slug: 'a', name: 'A', query: 'the and of' }, 'query', /stop word/],
      [{ slug: 'a', name: 'A', query: '(japan' }, 'query', /parenthes/],
      [{ slug: 'a', name: 'A', query: Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ') }, 'query', /terms/],
      [{ slug: 'a', name: 'A', query: 'x', colour: 'red' }, '', /unrecognized|Unrecognized/],
    ];
    for (const [body, path, message] of cases) {
      const res = await api.post('/api/v1/topics', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const issue = res.body.error.issues.find((i: { path: string }) => (path ? i.path === path : true));
      expect(issue, JSON.stringify(res.body)).toBeDefined();
      expect(issue.message).toMatch(message);
    }
    expect((await api.post('/api/v1/topics', { slug: 'dup', name: 'Dup', query: 'dup' })).status).toBe(201);
    const dup = await api.post('/api/v1/topics', { slug: 'dup', name: 'Dup', query: 'dup' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('slug_taken');
    expect((await api.get('/api/v1/topics/nope')).status).toBe(404);
    expect((await api.patch('/api/v1/topics/dup', { query: '"' })).status).toBe(400);
  });
});

describe('article ingestion and matching', () => {
  beforeAll(async () => {
    for (const [slug, query] of [
      ['jn', 'Japan AND NATO -sports'],
      ['tag-ukraine', 'tag:ukraine'],
      ['japan-not-russia', 'Japan -Russia'],
      ['same-as-jn', 'nato japan -sports'],
      ['world-section', 'section:world zakharova'],
      ['title-only', 'title:warning'],
      ['phrase', '"arms procurement mechanism"'],
      ['energy', 'oil OR gas'],
    ]) {
      expect((await api.post('/api/v1/topics', { slug, name: slug, query })).status).toBe(201);
    }
    await api.post('/api/v1/topics', { slug: 'archived-japan', name: 'Archived Japan', query: 'japan', status: 'archived' });
  });

  it('matches the fixture article against the right topics and stores it once', async () => {
    const first = await api.post('/api/v1/articles', fixture);
    expect(first.status).toBe(201);
    expect(first.body.outcome).toBe('created');
    expect(first.body.matchedTopics).toEqual(['jn', 'phrase', 'same-as-jn', 'tag-ukraine', 'title-only', 'world-section'].sort());
    expect(first.body.matchedTopics).not.toContain('japan-not-russia');
    expect(first.body.matchedTopics).not.toContain('archived-japan');
    expect(first.body.matchedTopics).not.toContain('energy');

    const again = await api.post('/api/v1/articles', fixture);
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe('unchanged');
    expect(again.body.article.id).toBe(first.body.article.id);
    expect(again.body.matchedTopics).toEqual(first.body.matchedTopics);

    // Same URL, no external id: still the same article.
    const byUrl = await api.post('/api/v1/articles', { ...fixture, externalId: undefined });
    expect(byUrl.status).toBe(200);
    expect(byUrl.body.article.id).toBe(first.body.article.id);
    expect(await app.ctx.repos.articles.count()).toBe(1);
  });

  it('re-matches an updated article', async () => {
    const updated = await api.post('/api/v1/articles', { ...fixture, body: `${fixture.body}\n\nOil and gas prices rose.` });
    expect(updated.status).toBe(200);
    expect(updated.body.outcome).toBe('updated');
    expect(updated.body.matchedTopics).toContain('energy');
    const back = await api.post('/api/v1/articles', fixture);
    expect(back.body.matchedTopics).not.toContain('energy');
  });

  it('validates articles and requires the ingest scope', async () => {
    const noToken = await fetch(`${app.url}/api/v1/articles`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fixture) });
    expect(noToken.status).toBe(401);
    const ingest = await apiClient(app, ['ingest']);
    const bad = await ingest.post('/api/v1/articles', { url: 'javascript:alert(1)', title: '', publishedAt: 'yesterday', tags: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['publishedAt', 'tags', 'title', 'url']);
    const ok = await ingest.post('/api/v1/articles', { url: 'https://news.example/oil', title: 'Oil prices surge', tags: ['energy'] });
    expect(ok.status).toBe(201);
    expect(ok.body.matchedTopics).toEqual(['energy']);
  });

  it('lists articles by topic and time with a keyset cursor', async () => {
    for (let i = 0; i < 5; i++) {
      await api.post('/api/v1/articles', { url: `https://news.example/gas-${i}`, title: `Gas story ${i}`, publishedAt: `2026-11-0${i + 1}T10:00:00Z` });
    }
    const page1 = await api.get('/api/v1/articles?topic=energy&limit=2');
    expect(page1.status).toBe(200);
    expect(page1.body.articles).toHaveLength(2);
    const page2 = await api.get(`/api/v1/articles?topic=energy&limit=2&cursor=${page1.body.nextCursor}`);
    const seen = [...page1.body.articles, ...page2.body.articles].map((a: { url: string }) => a.url);
    expect(new Set(seen).size).toBe(4);
    const since = await api.get('/api/v1/articles?topic=energy&since=2026-11-04T00:00:00Z&until=2026-11-06T00:00:00Z');
    expect(since.body.articles.map((a: { title: string }) => a.title)).toEqual(['Gas story 4', 'Gas story 3']);
    expect((await api.get('/api/v1/articles?topic=nope')).status).toBe(404);
    expect((await api.get('/api/v1/articles?cursor=zzz')).status).toBe(400);
  });

  it('tests a saved or draft query against recent articles in the database', async () => {
    const saved = await api.post('/api/v1/topics/jn/test', { days: 3650 });
    expect(saved.status).toBe(200);
    expect(saved.body.count).toBe(1);
    expect(saved.body.matches[0].url).toBe(fixture.url);
    const draft = await api.post('/api/v1/topics/test', { query: 'gas -"story 3"', days: 3650 });
    expect(draft.body.matches.map((a: { title: string }) => a.title).sort()).toEqual(['Gas story 0', 'Gas story 1', 'Gas story 2', 'Gas story 4']);
    const tagOnly = await api.post('/api/v1/topics/test', { query: 'tag:ukraine', days: 3650 });
    expect(tagOnly.body.count).toBe(1);
    const invalid = await api.post('/api/v1/topics/test', { query: '(' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('invalid_query');
  });

  it('never lets a new topic claim old articles: matches are made when an article arrives', async () => {
    await api.post('/api/v1/topics', { slug: 'late-japan', name: 'Late', query: 'japan' });
    const r = await api.post('/api/v1/articles', fixture);
    expect(r.body.outcome).toBe('unchanged');
    expect(r.body.matchedTopics).not.toContain('late-japan');
  });
});

describe('topic pages', () => {
  it('shows a topic with its recent articles, escaped, and paginates', async () => {
    await api.post('/api/v1/topics', { slug: 'markup', name: '<b>Bold</b> & <script>x</script>', query: 'markup' });
    await api.post('/api/v1/articles', { url: 'https://news.example/m', title: 'Markup <img src=x onerror=alert(1)>', summary: '<script>bad()</script>' });
    const res = await fetch(`${app.url}/topics/markup`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const page = await res.text();
    expect(page).toContain('&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;');
    expect(page).toContain('Markup &lt;img src=x onerror=alert(1)&gt;');
    expect(page).not.toContain('<script>');
    expect(page).toContain('/subscribe?topics=markup');

    for (let i = 0; i < 25; i++) await api.post('/api/v1/articles', { url: `https://news.example/gas-extra-${i}`, title: `More gas ${i}` });
    const first = await (await fetch(`${app.url}/topics/energy`)).text();
    const next = first.match(/href="(\/topics\/energy\?before=[^"]+)"/)?.[1];
    expect(next).toBeDefined();
    const second = await fetch(`${app.url}${next!.replace(/&amp;/g, '&')}`);
    expect(second.status).toBe(200);
    expect(await second.text()).toContain('Gas story');
    expect((await fetch(`${app.url}/topics/no-such-topic`)).status).toBe(404);
  });

  it('serves a valid RSS 2.0 feed of a topic', async () => {
    const res = await fetch(`${app.url}/topics/jn/feed.xml`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/rss\+xml/);
    const xml = await res.text();
    const { parseFeed } = await import('feedsmith');
    const parsed = parseFeed(xml) as { format: string; feed: { title: string; items: { link: string; title: string }[] } };
    expect(parsed.format).toBe('rss');
    expect(parsed.feed.items.map((i) => i.link)).toEqual([fixture.url]);
    expect(parsed.feed.items[0]!.title).toBe(fixture.title);
  });
});

describe('start page', () => {
  it('lists the active topics', async () => {
    const res = await fetch(`${app.url}/`);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('href="/topics/jn"');
    expect(page).not.toContain('href="/topics/archived-japan"');
    expect((await fetch(`${app.url}/favicon.ico`)).status).toBe(204);
  });
});
