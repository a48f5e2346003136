import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
  await app.ctx.services.demo.seed('test');
});
afterAll(async () => {
  await app?.close();
});

describe('demo', () => {
  it('serves the sample article with the signup box embedded as a publisher would', async () => {
    const res = await fetch(`${app.url}/demo`);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('Russia Issues Warning to Japan Over NATO Arms Deal for Ukraine');
    expect(page).toContain('data-topic-alerts data-article="https://news.example/articles/russia-warns-japan-nato-arms-ukraine"');
    expect(page).toContain('<script async src="/widget.js"></script>');
    const config = (await (await fetch(`${app.url}/api/v1/widget-config?article=${encodeURIComponent('https://news.example/articles/russia-warns-japan-nato-arms-ukraine')}`)).json()) as any;
    expect(config.topics.length).toBeGreaterThan(0);
  });

  it('publishes fresh sample articles that match the demo topics', async () => {
    const before = await app.ctx.repos.articles.count();
    const res = await fetch(`${app.url}/demo/publish`, { method: 'POST', redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/demo?published=3');
    expect(await app.ctx.repos.articles.count()).toBe(before + 3);
    const again = await app.ctx.services.demo.publishSamples(new Date(Date.now() + 1000));
    expect(again.matched).toEqual(expect.arrayContaining(['japan', 'nato', 'russia', 'energy']));
  });
});
