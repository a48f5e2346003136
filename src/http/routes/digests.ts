import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { actorOf, requireScope } from '../auth.js';
import { bounceSchema, deliveriesQuerySchema, emailSchema, idParamSchema } from '../schemas.js';
import { notFound } from '../../errors.js';
import { newMessageId } from '../../services/subscriptions.js';
import type { Delivery } from '../../repositories/deliveries.js';

const deliveryView = (d: Delivery) => ({
  id: d.id,
  kind: d.kind,
  subscriberId: d.subscriberId,
  status: d.status,
  messageId: d.messageId,
  attempts: d.attempts,
  nextAttemptAt: d.nextAttemptAt.toISOString(),
  lastError: d.lastError,
  smtpResponse: d.smtpResponse,
  createdAt: d.createdAt.toISOString(),
  sentAt: d.sentAt?.toISOString() ?? null,
});

/** Digests, deliveries and bounces: the admin's and the relay's side of the pipeline. */
export function digestsRouter(ctx: AppContext): Router {
  const router = Router();
  const admin = requireScope(ctx, 'admin');

  router.post('/digests/run', admin, async (req, res) => {
    const result = await ctx.services.scheduler.run('api');
    await ctx.repos.audit.record({ actor: actorOf(req), action: 'digests.run', target: result.runId ? `run:${result.runId}` : null, details: { ...result } });
    res.json(result);
  });

  router.post('/digests/test', admin, async (req, res) => {
    const { email } = z.strictObject({ email: emailSchema }).parse(req.body ?? {});
    const mailDomain = ctx.config.mail.domain;
    const d = await ctx.repos.deliveries.enqueue({
      kind: 'test',
      subscriberId: null,
      toAddress: email,
      idempotencyKey: `test:${newMessageId(mailDomain)}`,
      payload: {},
      messageId: newMessageId(mailDomain),
      now: ctx.clock.now(),
    });
    await ctx.repos.audit.record({ actor: actorOf(req), action: 'digests.test', target: d ? `delivery:${d.id}` : null });
    res.status(202).json({ status: 'queued', deliveryId: d?.id ?? null });
  });

  // What a subscriber's digests would contain if due now; nothing is queued.
  router.get('/digests/preview', admin, async (req, res) => {
    const id = idParamSchema.parse(req.query.subscriber);
    const subscriber = await ctx.repos.subscribers.findById(id);
    if (!subscriber) throw notFound(`Subscriber ${id}`);
    const previews = [];
    for (const payload of await ctx.services.scheduler.pendingFor(id)) {
      const ids = payload.sections.flatMap((s) => s.articleIds);
      const articles = new Map((await ctx.repos.articles.digestRows(ids)).map((a) => [a.id, a]));
      const digest = await ctx.services.composer.renderDigest(subscriber, payload, articles);
      if (digest) previews.push({ frequency: payload.frequency, articleCount: ids.length, subject: digest.rendered.subject, html: digest.rendered.html, text: digest.rendered.text });
    }
    res.json({ subscriberId: id, digests: previews });
  });

  router.get('/deliveries', admin, async (req, res) => {
    const q = deliveriesQuerySchema.parse(req.query);
    const rows = await ctx.repos.deliveries.list({ status: q.status, kind: q.kind, beforeId: q.before, limit: q.limit });
    res.json({ deliveries: rows.map(deliveryView), counts: await ctx.repos.deliveries.countByStatus(), sender: ctx.services.sender.state() });
  });

  router.post('/bounces', requireScope(ctx, 'bounces'), async (req, res) => {
    const input = bounceSchema.parse(req.body ?? {});
    res.json(await ctx.services.bounces.record(input, actorOf(req)));
  });

  return router;
}
