import { Router, type Response } from 'express';
import type { HandlerContext } from '../../context.js';
import { html } from '../html.js';
import { acceptBodies, requestMeta } from '../meta.js';
import { link, readerPages, tokenPageHeaders, type ReaderPage } from './reader-pages.js';
import type { Topic } from '../../repositories/topics.js';
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
  const readerPage = readerPages(ctx);
  router.use(['/confirm', '/decline', '/unsubscribe'], tokenPageHeaders);

  const invalid = (p: ReaderPage, res: Response, again = true) =>
    p.send(res, 404, p.t('link.invalid.title'), html`<h1>${p.t('link.invalid.heading')}</h1>${again ? html`<p>${p.t('link.invalid.body')}</p>` : ''}`);
  const signupAgain = (p: ReaderPage, topics: Topic[]) => html`<p><a class="button" href="${p.href(`/subscribe?topics=${topics.map((t) => t.slug).join(',')}`)}">${p.t('confirm.signupAgain')}</a></p>`;

  // ---------------------------------------------------------------- confirm / decline

  router.get('/confirm/:token', async (req, res) => {
    // GET shows and changes nothing: mail scanners open every link.
    const token = String(req.params.token);
    const state = await subscriptions.confirmState(token);
    const p = await readerPage(req, { subscriberLanguage: state.state === 'invalid' ? null : state.language });
    if (state.state === 'invalid') return invalid(p, res);
    if (state.state === 'expired') {
      return p.send(res, 410, p.t('link.expired.title'), html`<h1>${p.t('confirm.expired.heading')}</h1>
        <p>${p.t('confirm.expired.body')}</p>
        ${signupAgain(p, state.topics)}`);
    }
    if (state.state === 'used') {
      return p.send(res, 200, p.t('link.answered.title'), state.outcome === 'declined'
        ? html`<h1>${p.t('confirm.declined.heading')}</h1><p>${p.t('confirm.declined.body')}</p>`
        : html`<h1>${p.t('confirm.confirmed.heading')}</h1><p>${p.t('confirm.confirmed.body', { topics: p.topics(state.topics) })}</p>`);
    }
    p.send(res, 200, p.t('confirm.title'), html`
      <h1>${p.t('confirm.title')}</h1>
      <p>${p.h('confirm.body', { topics: p.topics(state.topics) })}</p>
      <form method="post" action="${p.href(`/confirm/${token}`)}"><button type="submit">${p.t('confirm.button')}</button></form>
      <form method="post" action="${p.href(`/decline/${token}`)}"><p><button type="submit" class="secondary">${p.t('link.decline')}</button></p></form>`);
  });

  router.post('/confirm/:token', async (req, res) => {
    const result = await subscriptions.confirm(String(req.params.token), requestMeta(req));
    const p = await readerPage(req, { subscriberLanguage: result.state === 'invalid' ? null : result.language });
    if (result.state === 'invalid') return invalid(p, res, false);
    if (result.state === 'expired') return p.send(res, 410, p.t('link.expired.title'), html`<h1>${p.t('confirm.expired.heading')}</h1>${signupAgain(p, result.topics)}`);
    if (result.state === 'used' && result.outcome === 'declined') return p.send(res, 409, p.t('confirm.wasDeclined.title'), html`<h1>${p.t('confirm.wasDeclined.heading')}</h1><p>${p.t('confirm.wasDeclined.body')}</p>`);
    const prefs = result.state === 'used' || result.state === 'valid' ? ctx.links.preferencesUrl(result.subscriberId, ctx.clock.now()) : undefined;
    p.send(res, 200, p.t('confirm.done.title'), html`<h1>${p.t('confirm.done.heading')}</h1>
      <p>${p.h('confirm.done.body', { topics: p.topics(result.topics) })}</p>
      ${prefs ? html`<p><a href="${prefs}">${p.t('manage.title')}</a></p>` : ''}`);
  });

  // The confirmation mail's "No thanks, this wasn't me" opens this page; only its button declines.
  router.get('/decline/:token', async (req, res) => {
    const token = String(req.params.token);
    const state = await subscriptions.confirmState(token);
    const p = await readerPage(req, { subscriberLanguage: state.state === 'invalid' ? null : state.language });
    if (state.state === 'invalid') return invalid(p, res);
    if (state.state === 'expired') return p.send(res, 410, p.t('link.expired.title'), html`<h1>${p.t('decline.expired.heading')}</h1><p>${p.t('decline.expired.body')}</p>`);
    if (state.state === 'used') {
      return p.send(res, 200, p.t('link.answered.title'), state.outcome === 'declined'
        ? html`<h1>${p.t('decline.already.heading')}</h1><p>${p.t('decline.already.body')}</p>`
        : html`<h1>${p.t('decline.confirmed.heading')}</h1><p>${p.t('decline.confirmed.body', { topics: p.topics(state.topics) })}</p>`);
    }
    p.send(res, 200, p.t('link.decline'), html`
      <h1>${p.t('decline.heading')}</h1>
      <p>${p.h('decline.body', { topics: p.topics(state.topics), frequency: state.frequency })}</p>
      <p>${p.t('decline.explain', { days: declineQuietDays })}</p>
      <form method="post" action="${p.href(`/decline/${token}`)}"><p><button type="submit">${p.t('link.decline')}</button></p></form>
      <p class="muted">${p.h('decline.confirmInstead', {}, { confirm: link(p.href(`/confirm/${token}`)) })}</p>`);
  });

  router.post('/decline/:token', async (req, res) => {
    const result = await subscriptions.decline(String(req.params.token), requestMeta(req));
    const p = await readerPage(req, { subscriberLanguage: result.state === 'invalid' ? null : result.language });
    if (result.state === 'invalid') return invalid(p, res, false);
    if (result.state === 'expired') return p.send(res, 410, p.t('link.expired.title'), html`<h1>${p.t('decline.expired.heading')}</h1><p>${p.t('decline.expiredPost.body')}</p>`);
    if (result.state === 'used' && result.outcome === 'confirmed') return p.send(res, 409, p.t('decline.alreadyConfirmed.title'), html`<h1>${p.t('decline.alreadyConfirmed.heading')}</h1><p>${p.t('decline.alreadyConfirmed.body')}</p>`);
    p.send(res, 200, p.t('decline.done.title'), html`<h1>${p.t('decline.done.heading')}</h1><p>${p.t('decline.done.body')}</p>`);
  });

  // ---------------------------------------------------------------- unsubscribe (RFC 8058 one-click too)

  const expiredUnsubscribe = (p: ReaderPage, res: Response) =>
    p.send(res, 410, p.t('link.expired.title'), html`<h1>${p.t('unsubscribe.expired.heading')}</h1><p><a href="${p.href('/manage')}">${p.t('link.newManageLink')}</a>.</p>`);

  router.get('/unsubscribe/:token', async (req, res) => {
    const token = String(req.params.token);
    const target = await subscriptions.unsubscribeTarget(token);
    const p = await readerPage(req, { subscriberLanguage: target && target !== 'expired' ? target.subscriber.language : null });
    if (target === 'expired') return expiredUnsubscribe(p, res);
    if (!target) return p.send(res, 404, p.t('link.invalid.title'), html`<h1>${p.t('link.invalid.heading')}</h1><p><a href="${p.href('/manage')}">${p.t('link.manageLink')}</a>.</p>`);
    // Say plainly what the button ends: the whole list (the mail client's link and the footer's)
    // or the named topics (a digest section's link).
    const all = target.topics === null;
    const question = all
      ? target.receiving.length > 0
        ? html`<p>${p.h('unsubscribe.all.body', { topics: p.topics(target.receiving) })}</p>`
        : html`<p>${p.t('unsubscribe.none.body')}</p>`
      : html`<p>${p.h('unsubscribe.topics.body', { topics: p.topics(target.topics!) })}</p>`;
    const action = all ? p.t('unsubscribe.all.heading') : p.t('unsubscribe.title');
    p.send(res, 200, p.t('unsubscribe.title'), html`
      <h1>${action}</h1>
      ${question}
      <form method="post" action="${p.href(`/unsubscribe/${token}`)}">
        <button type="submit">${action}</button>
        ${!all ? html`<p><label><input type="checkbox" name="scope" value="all"> ${p.t('unsubscribe.scopeAll')}</label></p>` : ''}
      </form>
      <p><a href="${ctx.links.preferencesUrl(target.subscriber.id, ctx.clock.now())}">${p.t('unsubscribe.preferences')}</a></p>`);
  });

  router.post('/unsubscribe/:token', acceptBodies('urlencoded', 'multipart', 'json'), async (req, res) => {
    // RFC 8058: a POST with List-Unsubscribe=One-Click (urlencoded or multipart), no cookie, no
    // CSRF token; 200, never a redirect, and the same answer when repeated.
    const body = (req.body ?? {}) as Record<string, unknown>;
    const oneClick = body['List-Unsubscribe'] === 'One-Click' || req.is('multipart/form-data') !== false;
    const result = await subscriptions.unsubscribe(String(req.params.token), { all: body.scope === 'all', channel: oneClick ? 'one-click' : 'email' }, requestMeta(req));
    const p = await readerPage(req, { subscriberLanguage: result.language });
    if (result.expired) return expiredUnsubscribe(p, res);
    if (!result.ok) return invalid(p, res, false);
    p.send(res, 200, p.t('unsubscribe.done.title'), html`<h1>${p.t('unsubscribe.done.heading')}</h1><p>${result.all ? p.t('unsubscribe.done.all') : p.t('unsubscribe.done.some')}</p>`);
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
