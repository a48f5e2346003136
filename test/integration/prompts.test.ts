import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';

const fixture = JSON.parse(readFileSync(new URL('../../src/demo/articles.json', import.meta.url), 'utf8'))[0];

let app: TestApp;
let admin: Awaited<ReturnType<typeof apiClient>>;

beforeAll(async () => {
  app = await startTestApp({ ALLOWED_ORIGINS: 'https://news.example', PROMPT_DEFAULT_TOPICS: 'world', PROMPT_MAX_TOPICS: '3' });
  admin = await apiClient(app);
  const topics: [string, string, Record<string, unknown>][] = [
    ['world', 'World', { query: 'world OR international' }],
    ['russia', 'Russia', { query: 'russia' }],
    ['japan', 'Japan', { query: 'japan' }],
    ['nato', 'NATO', { query: 'nato' }],
    ['ukraine', 'Ukraine', { query: 'ukraine' }],
    ['zakharova', 'Maria Zakharova', { query: 'zakharova', promptHidden: true }],
    ['tokyo', 'Tokyo', { query: 'tokyo' }],
  ];
  for (const [slug, name, extra] of topics) expect((await admin.post('/api/v1/topics', { slug, name, ...extra })).status).toBe(201);
  // Make some topics common: more matches in the last 30 days means less specific.
  for (let i = 0; i < 4; i++) await admin.post('/api/v1/articles', { url: `https://news.example/r${i}`, title: `Russia and Ukraine talks ${i}` });
  for (let i = 0; i < 2; i++) await admin.post('/api/v1/articles', { url: `https://news.example/n${i}`, title: `NATO meeting ${i}` });
  await admin.post('/api/v1/articles', { url: 'https://news.example/j0', title: 'Japan news' });
  const ingested = await admin.post('/api/v1/articles', fixture);
  expect(ingested.body.matchedTopics).toEqual(['japan', 'nato', 'russia', 'tokyo', 'ukraine', 'zakharova']);
  // Tokyo is archived after the article matched it: it must not be offered.
  await admin.delete('/api/v1/topics/tokyo');
});
afterAll(async () => {
  await app?.close();
});

async function config(query: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}/api/v1/widget-config?${query}`, { headers });
  return { res, body: res.status === 200 ? ((await res.json()) as any) : undefined };
}

describe('widget config for an article ("this topic")', () => {
  it('offers the topics the article matched, most specific first, at most PROMPT_MAX_TOPICS, the first ticked', async () => {
    for (const id of [encodeURIComponent(fixture.url), encodeURIComponent(fixture.externalId)]) {
      const { body } = await config(`article=${id}`);
      // japan (2 matches in 30 days) before nato (3) before russia/ukraine (5); hidden and archived never.
      expect(body.topics).toEqual([
        { slug: 'japan', name: 'Japan', checked: true },
        { slug: 'nato', name: 'NATO', checked: false },
        { slug: 'russia', name: 'Russia', checked: false },
      ]);
    }
  });

  it('lets an admin pin a topic first or hide it', async () => {
    await admin.patch('/api/v1/topics/ukraine', { promptPriority: 100 });
    await admin.patch('/api/v1/topics/japan', { promptHidden: true });
    app.ctx.services.prompts.invalidate();
    const { body } = await config(`article=${encodeURIComponent(fixture.url)}`);
    expect(body.topics.map((t: { slug: string }) => t.slug)).toEqual(['ukraine', 'nato', 'russia']);
    await admin.patch('/api/v1/topics/ukraine', { promptPriority: 0 });
    await admin.patch('/api/v1/topics/japan', { promptHidden: false });
    app.ctx.services.prompts.invalidate();
  });

  it('falls back to data-topics, then to the site defaults, for an article it has not seen — never an error', async () => {
    const unknown = encodeURIComponent('https://news.example/not-ingested-yet');
    expect((await config(`article=${unknown}&topics=nato,unknown-topic`)).body.topics.map((t: { slug: string }) => t.slug)).toEqual(['nato']);
    expect((await config(`article=${unknown}`)).body.topics.map((t: { slug: string }) => t.slug)).toEqual(['world']);
    expect((await config(`topics=tokyo,zakharova`)).body.topics.map((t: { slug: string }) => t.slug)).toEqual(['world']);
    const junk = await config(`article=${'x'.repeat(3000)}`);
    expect(junk.res.status).toBe(400);
  });

  it('is cacheable: Cache-Control, an ETag, and 304 when unchanged', async () => {
    const first = await config(`article=${encodeURIComponent(fixture.url)}`);
    expect(first.res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const etag = first.res.headers.get('etag')!;
    expect(etag).toBeTruthy();
    expect(first.body.formToken).toBeTruthy();
    const second = await config(`article=${encodeURIComponent(fixture.url)}`, { 'if-none-match': etag });
    expect(second.res.status).toBe(304);
  });

  it('serves the hosted page for an article too', async () => {
    const page = await (await fetch(`${app.url}/subscribe?article=${encodeURIComponent(fixture.url)}`)).text();
    expect(page).toContain('value="japan" checked');
    expect(page).toContain('value="nato"');
    expect(page).not.toContain('value="zakharova"');
    expect(page).not.toContain('value="tokyo"');
  });
});

describe('prompt events and CORS', () => {
  it('counts shown and dismissed per topic and day, nothing personal', async () => {
    for (const event of ['shown', 'shown', 'dismissed']) {
      const res = await fetch(`${app.url}/api/v1/prompt-events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topics: ['japan', 'nato', 'no-such'], event }) });
      expect(res.status).toBe(204);
    }
    const counts = await app.ctx.repos.promptCounts.forDay(app.clock.now().toISOString().slice(0, 10));
    const japan = (await app.ctx.repos.topics.findBySlug('japan'))!.id;
    expect(counts.filter((c) => c.topicId === japan).map((c) => [c.event, c.count]).sort()).toEqual([['dismissed', 1], ['shown', 2]]);
    const bad = await fetch(`${app.url}/api/v1/prompt-events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topics: ['japan'], event: 'clicked' }) });
    expect(bad.status).toBe(400);
  });

  it('allows only ALLOWED_ORIGINS', async () => {
    const allowed = await fetch(`${app.url}/api/v1/widget-config?topics=nato`, { headers: { origin: 'https://news.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://news.example');
    const preflight = await fetch(`${app.url}/api/v1/subscriptions`, { method: 'OPTIONS', headers: { origin: 'https://news.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const other = await fetch(`${app.url}/api/v1/widget-config?topics=nato`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
