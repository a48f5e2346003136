import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { demoArticles } from '../../services/demo.js';
import { formatDate, html, page } from '../html.js';

/**
 * Development only: the sample article as a reader would see it, with the signup box embedded
 * exactly as a publisher would embed it, and a button that publishes fresh sample articles.
 */
export function demoRouter(ctx: HandlerContext): Router {
  const router = Router();
  const publisherName = ctx.config.mail.publisherName;

  router.get('/demo', (req, res) => {
    const a = demoArticles()[0]!;
    const published = typeof req.query.published === 'string' ? req.query.published : undefined;
    res.type('html').send(
      page({
        title: a.title,
        publisherName,
        body: html`
          ${published ? html`<p class="callout" role="status">Published ${published} sample articles. Signed up with “As it happens”? The digest reaches <a href="/dev/mail">/dev/mail</a> within a few minutes.</p>` : ''}
          <article class="demo-article">
            <p class="muted">${a.section ?? 'News'} · ${a.publishedAt ? formatDate(a.publishedAt) : ''}</p>
            <h1>${a.title}</h1>
            <p><strong>${a.summary}</strong></p>
            ${(a.body ?? '').split(/\n\n+/).map((p) => html`<p>${p}</p>`)}
          </article>
          <div data-topic-alerts data-article="${a.url}" data-topics="japan,nato"><p><a href="/subscribe?topics=japan,nato">Get the latest news on this topic</a></p></div>
          <script async src="/widget.js"></script>
          <section class="callout" aria-labelledby="demo-tools">
            <h2 id="demo-tools">Try the whole flow</h2>
            <ol>
              <li>Sign up in the box above (choose “As it happens”).</li>
              <li>Open the confirmation email at <a href="/dev/mail">/dev/mail</a> and confirm.</li>
              <li>Publish a few sample articles: <form method="post" action="/demo/publish" class="inline"><button type="submit">Publish sample articles</button></form></li>
              <li>Your digest arrives at <a href="/dev/mail">/dev/mail</a> within the instant batch interval (${ctx.config.digests.instantBatchMinutes} minutes at most).</li>
            </ol>
            <p>Also: <a href="/admin">the admin console</a>, <a href="/topics/japan">a topic page</a>, <a href="/manage">manage alerts</a>, <a href="/api/docs">the API</a>.</p>
          </section>`,
      }),
    );
  });

  router.post('/demo/publish', async (_req, res) => {
    const r = await ctx.services.demo.publishSamples(ctx.clock.now());
    res.redirect(303, `/demo?published=${r.published}`);
  });

  return router;
}
