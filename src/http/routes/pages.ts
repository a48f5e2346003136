import { Router } from 'express';
import { Feed } from 'feed';
import type { HandlerContext } from '../../context.js';
import { slugSchema } from '../schemas.js';
import { decodeCursor, encodeCursor } from '../views.js';
import { html } from '../html.js';
import { link, readerPages } from './reader-pages.js';
import { dirOf } from '../../i18n/languages.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

const PAGE_SIZE = 20;
const FEED_SIZE = 50;

export function pagesRouter(ctx: HandlerContext): Router {
  const router = Router();
  const publisherName = ctx.config.mail.publisherName;
  const readerPage = readerPages(ctx);

  // A slug that cannot be one is as unknown as one that is not there.
  const topicPage = (slug: string, opts: Parameters<typeof ctx.services.topics.page>[1]) =>
    slugSchema.safeParse(slug).success ? ctx.services.topics.page(slug, opts) : Promise.resolve(undefined);

  // The start page: every topic one can follow.
  router.get('/', async (req, res) => {
    const p = await readerPage(req);
    const topics = await ctx.services.topics.list('active');
    p.send(res, 200, p.t('home.title'), html`<h1>${p.t('home.heading', { publisherName })}</h1>
      <p>${p.t('home.intro')}</p>
      ${topics.length === 0 ? html`<p>${p.t('home.none')}</p>` : html`<ul class="topics">${topics.map((t) => html`<li><a href="${p.href(`/topics/${t.slug}`)}">${p.topics([t])}</a>${t.description ? html` — <span class="muted">${t.description}</span>` : ''}</li>`)}</ul>`}
      <p><a href="${p.href('/manage')}">${p.t('home.manage')}</a> · <a href="${p.href('/terms')}">${p.t('home.terms')}</a>${ctx.config.isProduction ? '' : html` · <a href="/demo">${p.t('home.demo')}</a>`}</p>`);
  });

  // Browsers ask for it on every page; an empty answer keeps logs and consoles quiet.
  router.get('/favicon.ico', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.status(204).end();
  });

  router.get('/topics/:slug', async (req, res) => {
    const p = await readerPage(req);
    const before = typeof req.query.before === 'string' ? decodeCursor(req.query.before) : undefined;
    const found = await topicPage(req.params.slug, { before, limit: PAGE_SIZE + 1 });
    if (!found) {
      p.send(res, 404, p.t('topic.notFound'), html`<h1>${p.t('topic.notFound')}</h1><p>${p.h('topic.notFound.body', {}, { home: link(p.href('/')) })}</p>`);
      return;
    }
    const { topic, articles: rows } = found;
    const name = p.topics([topic]);
    const articles = rows.slice(0, PAGE_SIZE);
    const older = rows.length > PAGE_SIZE ? p.href(`/topics/${topic.slug}?before=${encodeCursor(articles[articles.length - 1]!)}`) : null;
    const signup =
      topic.status === 'active'
        ? html`<section class="callout" aria-labelledby="signup-heading">
            <h2 id="signup-heading">${p.t('topic.signup.heading', { topic: name })}</h2>
            <p>${p.t('topic.signup.body')}</p>
            <p><a class="button" href="${p.href(`/subscribe?topics=${topic.slug}`)}">${p.t('box.submit')}</a></p>
          </section>`
        : html`<p class="callout">${p.t('topic.archived')}</p>`;
    const body = html`
      <h1>${name}</h1>
      ${topic.description ? html`<p class="muted">${topic.description}</p>` : ''}
      ${signup}
      <h2>${p.t('topic.recent')}</h2>
      ${articles.length === 0
        ? html`<p>${p.t('topic.noArticles')}</p>`
        : html`<ol class="articles">${articles.map(
            (a) => html`<li lang="${a.language}" dir="${dirOf(a.language)}"><h2><a href="${a.url}">${a.title}</a></h2>
              <p class="muted" lang="${p.lang}" dir="${p.m.dir}"><time datetime="${a.publishedAt.toISOString()}">${p.date(a.publishedAt)}</time></p>
              ${a.summary ? html`<p>${a.summary}</p>` : ''}</li>`,
          )}</ol>`}
      <nav class="pager" aria-label="${p.t('topic.pages')}">
        ${before ? html`<a href="${p.href(`/topics/${topic.slug}`)}">${p.t('topic.newest')}</a>` : html`<span></span>`}
        ${older ? html`<a href="${older}" rel="next">${p.t('topic.older')}</a>` : ''}
      </nav>
      <p><a href="/topics/${topic.slug}/feed.xml?lang=${p.lang}">${p.t('topic.rss')}</a></p>`;
    p.send(res, 200, name, body, html`<link rel="alternate" type="application/rss+xml" title="${name}" href="/topics/${topic.slug}/feed.xml?lang=${p.lang}">`);
  });

  router.get('/topics/:slug/feed.xml', async (req, res) => {
    const found = await topicPage(req.params.slug, { limit: FEED_SIZE });
    if (!found) {
      res.status(404).type('text/plain').send('No such topic');
      return;
    }
    const p = await readerPage(req);
    const { topic, articles } = found;
    const name = p.topics([topic]);
    const base = ctx.config.http.baseUrl;
    const feed = new Feed({
      title: `${name} · ${publisherName}`,
      id: `${base}/topics/${topic.slug}`,
      link: `${base}/topics/${topic.slug}`,
      description: topic.description || p.t('topic.feedDescription', { topic: name }),
      language: p.lang,
      updated: articles[0]?.publishedAt ?? topic.updatedAt,
      generator: 'topic-alerts',
      copyright: publisherName,
      feedLinks: { rss: `${base}/topics/${topic.slug}/feed.xml` },
    });
    for (const a of articles) {
      feed.addItem({ title: a.title, id: a.externalId ?? a.url, link: a.url, description: a.summary, date: a.publishedAt, category: a.tags.map((name) => ({ name })) });
    }
    res.vary('Accept-Language');
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
