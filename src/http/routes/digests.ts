import { Router } from 'express';
import { z } from 'zod';
import type { HandlerContext } from '../../context.js';
import { actorOf, requireScope } from '../auth.js';
import { bounceSchema, deliveriesQuerySchema, emailSchema, idParamSchema } from '../schemas.js';
import type { Delivery } from '../../repositories/deliveries.js';
import { type ApiKit } from '../openapi/kit.js';
import { FREQUENCIES } from '../../db/types.js';

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

/** This router's part of the OpenAPI document. */
export function describeDigestsApi(api: ApiKit): void {
  const { json, jsonBody, op } = api;
  const { Delivery } = api.shapes;

  op('post', '/api/v1/digests/run', { tag: 'Digests', id: 'runDigests', summary: 'Run the digest scheduler now', scope: 'admin' }, {
    responses: {
      200: json(
        z.object({ runId: z.number().int().nullable(), skipped: z.boolean().meta({ description: 'Another process holds the scheduler lock' }), scanned: z.number().int(), queued: z.number().int(), ms: z.number() }),
        'What the run did',
      ),
    },
    errors: [401, 403],
  });
  op('post', '/api/v1/digests/test', { tag: 'Digests', id: 'sendTestMail', summary: 'Queue a test mail to an address', scope: 'admin' }, {
    request: jsonBody(z.strictObject({ email: emailSchema })),
    responses: { 202: json(z.object({ status: z.literal('queued'), deliveryId: z.number().int().nullable() }), 'Queued') },
    errors: [400, 401, 403],
  });
  op('get', '/api/v1/digests/preview', { tag: 'Digests', id: 'previewDigests', summary: "What a subscriber's digests would contain if due now", description: 'Nothing is queued.', scope: 'admin' }, {
    request: { query: z.object({ subscriber: idParamSchema.meta({ description: 'Subscriber id' }) }) },
    responses: {
      200: json(
        z.object({
          subscriberId: z.number().int(),
          digests: z.array(z.object({ frequency: z.enum(FREQUENCIES), articleCount: z.number().int(), subject: z.string(), html: z.string(), text: z.string() })),
        }),
        'The rendered digests',
      ),
    },
    errors: [400, 401, 403, 404],
  });
  op('get', '/api/v1/deliveries', { tag: 'Digests', id: 'listDeliveries', summary: 'The delivery log, newest first', scope: 'admin' }, {
    request: { query: deliveriesQuerySchema },
    responses: {
      200: json(
        z.object({
          deliveries: z.array(Delivery),
          counts: z.record(z.string(), z.number().int()).meta({ description: 'Deliveries by status' }),
          sender: z.record(z.string(), z.unknown()).meta({ description: 'Sender state (paused, reason, ...)' }),
        }),
        'A page of deliveries',
      ),
    },
    errors: [400, 401, 403],
  });
  op('post', '/api/v1/bounces', { tag: 'Digests', id: 'recordBounce', summary: 'Bounce / complaint webhook', description: 'Hard bounces and complaints suppress the address; soft bounces do after repeated failures.', scope: 'bounces' }, {
    request: jsonBody(bounceSchema),
    responses: {
      200: json(z.object({ type: z.enum(['hard', 'soft', 'complaint']), suppressed: z.boolean(), unsubscribed: z.number().int(), deliveryId: z.number().int().nullable() }), 'Recorded'),
    },
    errors: [400, 401, 403],
  });
}
