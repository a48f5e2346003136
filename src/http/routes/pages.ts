import { Router } from 'express';
import { Feed } from 'feed';
import type { HandlerContext } from '../../context.js';
import { slugSchema } from '../schemas.js';
import { decodeCursor, encodeCursor } from '../views.js';
import { formatDate, html, page } from '../html.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

const PAGE_SIZE = 20;
const FEED_SIZE = 50;

export function pagesRouter(ctx: HandlerContext): Router {
  const router = Router();
  const publisherName = ctx.config.mail.publisherName;

  // A slug that cannot be one is as unknown as one that is not there.
  const topicPage = (slug: string, opts: Parameters<typeof ctx.services.topics.page>[1]) =>
    slugSchema.safeParse(slug).success ? ctx.services.topics.page(slug, opts) : Promise.resolve(undefined);

  const notFoundPage = (title: string) =>
    page({ title, publisherName, body: html`<h1>${title}</h1><p>There is no such topic. <a href="/">Back to the start</a>.</p>` });

  // The start page: every topic one can follow.
  router.get('/', async (_req, res) => {
    const topics = await ctx.services.topics.list('active');
    res.type('html').send(
      page({
        title: 'Email alerts',
        publisherName,
        body: html`<h1>Free email alerts from ${publisherName}</h1>
          <p>Follow a topic and get its new articles by email, as they happen, daily or weekly.</p>
          ${topics.length === 0 ? html`<p>No topics yet.</p>` : html`<ul class="topics">${topics.map((t) => html`<li><a href="/topics/${t.slug}">${t.name}</a>${t.description ? html` — <span class="muted">${t.description}</span>` : ''}</li>`)}</ul>`}
          <p><a href="/manage">Manage the alerts you already have</a> · <a href="/terms">Terms &amp; Conditions</a>${ctx.config.isProduction ? '' : html` · <a href="/demo">Demo</a>`}</p>`,
      }),
    );
  });

  // Browsers ask for it on every page; an empty answer keeps logs and consoles quiet.
  router.get('/favicon.ico', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.status(204).end();
  });

  router.get('/topics/:slug', async (req, res) => {
    const before = typeof req.query.before === 'string' ? decodeCursor(req.query.before) : undefined;
    const found = await topicPage(req.params.slug, { before, limit: PAGE_SIZE + 1 });
    if (!found) {
      res.status(404).type('html').send(notFoundPage('Topic not found'));
      return;
    }
    const { topic, articles: rows } = found;
    const articles = rows.slice(0, PAGE_SIZE);
    const older = rows.length > PAGE_SIZE ? `/topics/${topic.slug}?before=${encodeCursor(articles[articles.length - 1]!)}` : null;
    const signup =
      topic.status === 'active'
        ? html`<section class="callout" aria-labelledby="signup-heading">
            <h2 id="signup-heading">Get the latest news on ${topic.name}</h2>
            <p>Free email alerts when new articles on this topic are published.</p>
            <p><a class="button" href="/subscribe?topics=${topic.slug}">Sign up for free today</a></p>
          </section>`
        : html`<p class="callout">This topic is archived: it no longer receives new articles or signups.</p>`;
    const body = html`
      <h1>${topic.name}</h1>
      ${topic.description ? html`<p class="muted">${topic.description}</p>` : ''}
      ${signup}
      <h2>Recent articles</h2>
      ${articles.length === 0
        ? html`<p>No articles yet.</p>`
        : html`<ol class="articles">${articles.map(
            (a) => html`<li><h2><a href="${a.url}">${a.title}</a></h2>
              <p class="muted"><time datetime="${a.publishedAt.toISOString()}">${formatDate(a.publishedAt, ctx.config.defaultTimeZone)}</time></p>
              ${a.summary ? html`<p>${a.summary}</p>` : ''}</li>`,
          )}</ol>`}
      <nav class="pager" aria-label="Pages">
        ${before ? html`<a href="/topics/${topic.slug}">Newest</a>` : html`<span></span>`}
        ${older ? html`<a href="${older}" rel="next">Older articles</a>` : ''}
      </nav>
      <p><a href="/topics/${topic.slug}/feed.xml">RSS feed of this topic</a></p>`;
    res.type('html').send(
      page({
        title: topic.name,
        publisherName,
        body,
        head: html`<link rel="alternate" type="application/rss+xml" title="${topic.name}" href="/topics/${topic.slug}/feed.xml">`,
      }),
    );
  });

  router.get('/topics/:slug/feed.xml', async (req, res) => {
    const found = await topicPage(req.params.slug, { limit: FEED_SIZE });
    if (!found) {
      res.status(404).type('text/plain').send('No such topic');
      return;
    }
    const { topic, articles } = found;
    const base = ctx.config.http.baseUrl;
    const feed = new Feed({
      title: `${topic.name} · ${publisherName}`,
      id: `${base}/topics/${topic.slug}`,
      link: `${base}/topics/${topic.slug}`,
      description: topic.description || `New articles on ${topic.name}`,
      language: 'en',
      updated: articles[0]?.publishedAt ?? topic.updatedAt,
      generator: 'topic-alerts',
      copyright: publisherName,
      feedLinks: { rss: `${base}/topics/${topic.slug}/feed.xml` },
    });
    for (const a of articles) {
      feed.addItem({ title: a.title, id: a.externalId ?? a.url, link: a.url, description: a.summary, date: a.publishedAt, category: a.tags.map((name) => ({ name })) });
    }
    res.type('application/rss+xml; charset=utf-8').send(feed.rss2());
  });

  return router;
}

/** These pages in the OpenAPI document. */
export function describeTopicPages(api: ApiKit): void {
  const { htmlPage, page } = api;

  page('get', '/', 'Start page: every topic one can follow', { 200: htmlPage('The topics') });
  page('get', '/topics/{slug}', 'Topic page: recent articles and the signup link', { 200: htmlPage('The page'), 404: htmlPage('No such topic') }, {
    params: z.object({ slug: z.string().meta({ example: 'japan' }) }),
    query: z.object({ before: z.string().optional().meta({ description: 'Paging cursor' }) }),
  });
  page(
    'get',
    '/topics/{slug}/feed.xml',
    'RSS of the topic',
    { 200: { description: 'RSS 2.0', content: { 'application/rss+xml': { schema: z.string() } } }, 404: { description: 'No such topic' } },
    { params: z.object({ slug: z.string().meta({ example: 'japan' }) }) },
  );
}
