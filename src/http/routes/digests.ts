import { Router } from 'express';
import { z } from 'zod';
import type { HandlerContext } from '../../context.js';
import { actorOf, requireScope } from '../auth.js';
import { bounceSchema, deliveriesQuerySchema, emailSchema, idParamSchema } from '../schemas.js';
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
export function digestsRouter(ctx: HandlerContext): Router {
  const router = Router();
  const admin = requireScope(ctx, 'admin');

  router.post('/digests/run', admin, async (req, res) => {
    res.json(await ctx.services.digestAdmin.runNow(actorOf(req)));
  });

  router.post('/digests/test', admin, async (req, res) => {
    const { email } = z.strictObject({ email: emailSchema }).parse(req.body ?? {});
    const d = await ctx.services.digestAdmin.queueTest(email, actorOf(req));
    res.status(202).json({ status: 'queued', deliveryId: d?.id ?? null });
  });

  // What a subscriber's digests would contain if due now; nothing is queued.
  router.get('/digests/preview', admin, async (req, res) => {
    const id = idParamSchema.parse(req.query.subscriber);
    res.json({ subscriberId: id, digests: await ctx.services.digestAdmin.preview(id) });
  });

  router.get('/deliveries', admin, async (req, res) => {
    const q = deliveriesQuerySchema.parse(req.query);
    const [rows, counts] = await Promise.all([
      ctx.services.digestAdmin.deliveries({ status: q.status, kind: q.kind, beforeId: q.before, limit: q.limit }),
      ctx.services.digestAdmin.deliveryCounts(),
    ]);
    res.json({ deliveries: rows.map(deliveryView), counts, sender: ctx.services.sender.state() });
  });

  router.post('/bounces', requireScope(ctx, 'bounces'), async (req, res) => {
    const input = bounceSchema.parse(req.body ?? {});
    res.json(await ctx.services.bounces.record(input, actorOf(req)));
  });

  return router;
}
