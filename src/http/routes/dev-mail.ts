import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { formatDate, html, page } from '../html.js';

/** The development outbox (never mounted in production): every mail the service "sent". */
export function devMailRouter(ctx: HandlerContext): Router {
  const router = Router();
  const publisherName = ctx.config.mail.publisherName;

  router.get('/dev/mail', async (_req, res) => {
    const messages = await ctx.services.system.outbox(200);
    res.type('html').send(
      page({
        title: 'Development outbox',
        publisherName,
        body: html`<h1>Development outbox</h1>
          <p class="muted">No SMTP_URL is set, so mail is kept here instead of being sent. Newest first.</p>
          ${messages.length === 0
            ? html`<p>No mail yet.</p>`
            : html`<table class="outbox"><thead><tr><th scope="col">When</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead><tbody>
              ${messages.map((m) => html`<tr><td>${formatDate(m.createdAt)}</td><td>${m.recipient}</td><td><a href="/dev/mail/${m.id}">${m.subject}</a></td></tr>`)}
              </tbody></table>`}`,
      }),
    );
  });

  router.get('/dev/mail/:id', async (req, res) => {
    const m = /^\d+$/.test(req.params.id) ? await ctx.services.system.outboxMessage(Number(req.params.id)) : undefined;
    if (!m) {
      res.status(404).type('html').send(page({ title: 'Not found', publisherName, body: html`<h1>No such message</h1><p><a href="/dev/mail">Back to the outbox</a></p>` }));
      return;
    }
    res.type('html').send(
      page({
        title: m.subject,
        publisherName,
        body: html`<p><a href="/dev/mail">← Outbox</a></p>
          <h1>${m.subject}</h1>
          <p>To <strong>${m.recipient}</strong>, envelope from ${m.envelopeFrom ?? '(none)'}, ${formatDate(m.createdAt)}</p>
          <h2>HTML part</h2>
          <iframe class="mail" title="HTML part of the message" src="/dev/mail/${m.id}/html" sandbox="allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"></iframe>
          <h2>Text part</h2>
          <pre class="mail-text">${m.text}</pre>
          <h2>Headers</h2>
          <pre class="mail-headers">${m.rawHeaders}</pre>`,
      }),
    );
  });

  router.get('/dev/mail/:id/html', async (req, res) => {
    const m = /^\d+$/.test(req.params.id) ? await ctx.services.system.outboxMessage(Number(req.params.id)) : undefined;
    if (!m) {
      res.status(404).end();
      return;
    }
    // Mail HTML uses inline styles; it runs no script and is framed only by the outbox page.
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; frame-ancestors 'self'");
    res.removeHeader('X-Frame-Options');
    res.type('html').send(m.html);
  });

  return router;
}
