import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { html } from '../html.js';
import { acceptBodies, requestMeta } from '../meta.js';
import { FREQUENCY_LABELS, pageSender, tokenPageHeaders, topicNames } from './reader-pages.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

/**
 * The pages the links in a mail open: confirm, "No thanks, this wasn't me", unsubscribe. GET shows
 * and changes nothing (mail scanners open every link); the page's button POSTs.
 */
export function linkPagesRouter(ctx: HandlerContext): Router {
  const router = Router();
  const { subscriptions } = ctx.services;
  const declineQuietDays = ctx.config.lifecycle.declineQuietDays;
  const send = pageSender(ctx);
  router.use(['/confirm', '/decline', '/unsubscribe'], tokenPageHeaders);

  // ---------------------------------------------------------------- confirm / decline

  router.get('/confirm/:token', async (req, res) => {
    // GET shows and changes nothing: mail scanners open every link.
    const state = await subscriptions.confirmState(String(req.params.token));
    if (state.state === 'invalid') return send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1><p>Please use the link from your most recent email.</p>`);
    if (state.state === 'expired') {
      return send(res, 410, 'Link expired', html`<h1>This confirmation link has expired</h1>
        <p>For your security, confirmation links work for a limited time.</p>
        <p><a class="button" href="/subscribe?topics=${state.topics.map((t) => t.slug).join(',')}">Sign up again</a></p>`);
    }
    if (state.state === 'used') {
      return send(res, 200, 'Already answered', state.outcome === 'declined'
        ? html`<h1>You declined this request</h1><p>No alerts will be sent.</p>`
        : html`<h1>Your subscription is confirmed</h1><p>You are subscribed to ${topicNames(state.topics)}.</p>`);
    }
    send(res, 200, 'Confirm your subscription', html`
      <h1>Confirm your subscription</h1>
      <p>You asked for email alerts about <strong>${topicNames(state.topics)}</strong>.</p>
      <form method="post" action="/confirm/${String(req.params.token)}"><button type="submit">Confirm</button></form>
      <form method="post" action="/decline/${String(req.params.token)}"><p><button type="submit" class="secondary">No thanks, this wasn't me</button></p></form>`);
  });

  router.post('/confirm/:token', async (req, res) => {
    const result = await subscriptions.confirm(String(req.params.token), requestMeta(req));
    if (result.state === 'invalid') return send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1>`);
    if (result.state === 'expired') {
      return send(res, 410, 'Link expired', html`<h1>This confirmation link has expired</h1><p><a class="button" href="/subscribe?topics=${result.topics.map((t) => t.slug).join(',')}">Sign up again</a></p>`);
    }
    if (result.state === 'used' && result.outcome === 'declined') return send(res, 409, 'Declined', html`<h1>This request was declined</h1><p>Sign up again if you want alerts.</p>`);
    const prefs = result.state === 'used' || result.state === 'valid' ? ctx.links.preferencesUrl(result.subscriberId, ctx.clock.now()) : undefined;
    send(res, 200, 'Subscribed', html`<h1>You're subscribed</h1>
      <p>You will receive alerts about <strong>${topicNames(result.topics)}</strong>.</p>
      ${prefs ? html`<p><a href="${prefs}">Manage your alerts</a></p>` : ''}`);
  });

  // The confirmation mail's "No thanks, this wasn't me" opens this page; only its button declines.
  router.get('/decline/:token', async (req, res) => {
    const token = String(req.params.token);
    const state = await subscriptions.confirmState(token);
    if (state.state === 'invalid') return send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1><p>Please use the link from your most recent email.</p>`);
    if (state.state === 'expired') return send(res, 410, 'Link expired', html`<h1>This link has expired</h1><p>The request was never confirmed, so nothing was signed up: you need to do nothing.</p>`);
    if (state.state === 'used') {
      return send(res, 200, 'Already answered', state.outcome === 'declined'
        ? html`<h1>You already declined this request</h1><p>No alerts will be sent, and we will not ask this address again for a while.</p>`
        : html`<h1>This subscription was confirmed</h1><p>You are subscribed to ${topicNames(state.topics)}. Use the unsubscribe link in any alert to stop them.</p>`);
    }
    send(res, 200, "No thanks, this wasn't me", html`
      <h1>Didn't ask for these alerts?</h1>
      <p>Someone asked for email alerts about <strong>${topicNames(state.topics)}</strong> (${FREQUENCY_LABELS[state.frequency].toLowerCase()}) to be sent to this address.</p>
      <p>If it wasn't you, tell us: we remove the request${declineQuietDays > 0 ? html`, and we will not send a confirmation email to this address again for ${declineQuietDays} days` : ''}.</p>
      <form method="post" action="/decline/${token}"><p><button type="submit">No thanks, this wasn't me</button></p></form>
      <p class="muted">Did you ask for them after all? <a href="/confirm/${token}">Confirm instead</a>.</p>`);
  });

  router.post('/decline/:token', async (req, res) => {
    const result = await subscriptions.decline(String(req.params.token), requestMeta(req));
    if (result.state === 'invalid') return send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1>`);
    if (result.state === 'expired') return send(res, 410, 'Link expired', html`<h1>This link has expired</h1><p>Nothing was signed up: you need to do nothing.</p>`);
    if (result.state === 'used' && result.outcome === 'confirmed') return send(res, 409, 'Already confirmed', html`<h1>This subscription was already confirmed</h1><p>Use the unsubscribe link in any alert to stop them.</p>`);
    send(res, 200, 'Declined', html`<h1>Thanks for letting us know</h1><p>We removed this request and will not send confirmation emails to this address for a while.</p>`);
  });

  // ---------------------------------------------------------------- unsubscribe (RFC 8058 one-click too)

  router.get('/unsubscribe/:token', async (req, res) => {
    const target = await subscriptions.unsubscribeTarget(String(req.params.token));
    if (target === 'expired') return send(res, 410, 'Link expired', html`<h1>This unsubscribe link has expired</h1><p><a href="/manage">Get a new link to manage your alerts</a>.</p>`);
    if (!target) return send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1><p><a href="/manage">Get a link to manage your alerts</a>.</p>`);
    // Say plainly what the button ends: the whole list (the mail client's link and the footer's)
    // or the named topics (a digest section's link).
    const question =
      target.topics === null
        ? target.receiving.length > 0
          ? html`<p>This stops <strong>every email alert</strong> we send to this address: <strong>${target.receiving.join(', ')}</strong>.</p>`
          : html`<p>This address receives no alerts from us now; the button makes sure none are sent.</p>`
        : html`<p>This stops alerts about <strong>${topicNames(target.topics)}</strong>. Other topics you follow are not affected.</p>`;
    send(res, 200, 'Unsubscribe', html`
      <h1>${target.topics === null ? 'Unsubscribe from all alerts' : 'Unsubscribe'}</h1>
      ${question}
      <form method="post" action="/unsubscribe/${String(req.params.token)}">
        <button type="submit">${target.topics === null ? 'Unsubscribe from all alerts' : 'Unsubscribe'}</button>
        ${target.topics !== null ? html`<p><label><input type="checkbox" name="scope" value="all"> Unsubscribe from all topics</label></p>` : ''}
      </form>
      <p><a href="${ctx.links.preferencesUrl(target.subscriber.id, ctx.clock.now())}">Change your preferences instead</a></p>`);
  });

  router.post('/unsubscribe/:token', acceptBodies('urlencoded', 'multipart', 'json'), async (req, res) => {
    // RFC 8058: a POST with List-Unsubscribe=One-Click (urlencoded or multipart), no cookie, no
    // CSRF token; 200, never a redirect, and the same answer when repeated.
    const body = (req.body ?? {}) as Record<string, unknown>;
    const oneClick = body['List-Unsubscribe'] === 'One-Click' || req.is('multipart/form-data') !== false;
    const result = await subscriptions.unsubscribe(String(req.params.token), { all: body.scope === 'all', channel: oneClick ? 'one-click' : 'email' }, requestMeta(req));
    if (result.expired) return send(res, 410, 'Link expired', html`<h1>This unsubscribe link has expired</h1><p><a href="/manage">Get a new link to manage your alerts</a>.</p>`);
    if (!result.ok) return send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1>`);
    send(res, 200, 'Unsubscribed', html`<h1>You are unsubscribed</h1><p>${result.all ? 'You will not receive any of our alerts any more.' : 'You will not receive these alerts any more.'}</p>`);
  });

  return router;
}

/** These pages in the OpenAPI document. */
export function describeLinkPages(api: ApiKit): void {
  const { htmlPage, E, tokenParams, tokenPageErrors, page } = api;

  page('get', '/confirm/{token}', 'Confirmation page (changes nothing)', { 200: htmlPage('Confirm and No thanks buttons'), ...tokenPageErrors }, { params: tokenParams });
  page('post', '/confirm/{token}', 'Confirm the subscription', { 200: htmlPage('Subscribed'), 409: htmlPage('Already declined'), ...tokenPageErrors }, { params: tokenParams });
  page('get', '/decline/{token}', "\"No thanks, this wasn't me\" page from the confirmation mail (changes nothing)", { 200: htmlPage('What was asked, and one button'), ...tokenPageErrors }, { params: tokenParams });
  page('post', '/decline/{token}', "No thanks, this wasn't me", { 200: htmlPage('Declined'), 409: htmlPage('Already confirmed'), ...tokenPageErrors }, { params: tokenParams });
  page('get', '/unsubscribe/{token}', 'Unsubscribe page (changes nothing)', { 200: htmlPage('A button'), ...tokenPageErrors }, { params: tokenParams });
  page(
    'post',
    '/unsubscribe/{token}',
    'Unsubscribe from what the link names (one topic, or all); the List-Unsubscribe link names every alert of the address and is the RFC 8058 one-click target',
    { 200: htmlPage('Unsubscribed (also when repeated; never a redirect)'), ...tokenPageErrors, 415: E[415] },
    {
      params: tokenParams,
      body: {
        required: false,
        content: {
          'application/x-www-form-urlencoded': { schema: z.object({ 'List-Unsubscribe': z.literal('One-Click').optional(), scope: z.literal('all').optional() }) },
          'multipart/form-data': { schema: z.object({ 'List-Unsubscribe': z.literal('One-Click').optional() }) },
        },
      },
    },
  );
}
