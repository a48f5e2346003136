import { z } from 'zod';
import { FREQUENCIES } from '../db/types.js';

// Every event a webhook endpoint can ask for, and the `data` each carries. The schemas are the
// contract (the OpenAPI document's `webhooks` section is generated from them); services build
// the data and the outbox stores it as `{type, timestamp, data}`.

export const WEBHOOK_EVENT_TYPES = [
  'subscriber.signup_requested',
  'subscriber.confirmed',
  'subscriber.declined',
  'subscription.changed',
  'subscriber.unsubscribed',
  'subscriber.erased',
  'delivery.sent',
  'delivery.bounced',
  'delivery.complained',
  'article.matched',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const subscriberId = z.number().int().meta({ description: 'The subscriber (stable until erasure)' });
const email = z.string().nullable().meta({ description: "The address; null once the subscriber was erased (erasure scrubs it from every stored event)" });
const topics = z.array(z.string()).meta({ description: 'Topic slugs' });

export const eventDataSchemas = {
  'subscriber.signup_requested': z.object({
    subscriberId, email, topics, frequency: z.enum(FREQUENCIES), language: z.string(), form: z.string(), sourceUrl: z.string().nullable(),
  }).meta({ description: 'A signup was requested (double opt-in pending); also when an address asks again' }),
  'subscriber.confirmed': z.object({ subscriberId, email, topics }).meta({ description: 'The reader confirmed by email: these subscriptions are active' }),
  'subscriber.declined': z.object({ subscriberId, email, topics }).meta({ description: '"No thanks, this wasn\'t me": the pending subscriptions were removed' }),
  'subscription.changed': z.object({
    subscriberId,
    email,
    subscriptions: z.array(z.object({ topic: z.string(), status: z.string(), frequency: z.enum(FREQUENCIES) })).meta({ description: 'Every subscription after the change' }),
    source: z.string().meta({ description: 'preferences, admin or api' }),
  }).meta({ description: 'Topics or frequencies changed in the preference centre' }),
  'subscriber.unsubscribed': z.object({ subscriberId, email, topics, channel: z.string().meta({ description: 'email, one-click, preferences, admin, complaint …' }) }).meta({ description: 'Subscriptions ended (the topics that ended)' }),
  'subscriber.erased': z.object({ subscriberId }).meta({ description: 'The subscriber was erased: no address is sent, and the stored earlier events lose theirs (those not yet delivered go without it)' }),
  'delivery.sent': z.object({ deliveryId: z.number().int(), subscriberId: subscriberId.nullable(), kind: z.string(), messageId: z.string() }).meta({ description: 'A mail was accepted by the SMTP relay' }),
  'delivery.bounced': z.object({ deliveryId: z.number().int().nullable(), subscriberId: subscriberId.nullable(), bounceType: z.enum(['hard', 'soft']), detail: z.string().nullable(), suppressed: z.boolean() }).meta({ description: 'A bounce was recorded (a hard one suppresses the address)' }),
  'delivery.complained': z.object({ deliveryId: z.number().int().nullable(), subscriberId: subscriberId.nullable(), unsubscribedTopics: topics }).meta({ description: 'A spam complaint: the address is suppressed and unsubscribed' }),
  'article.matched': z.object({ articleId: z.number().int(), url: z.string(), title: z.string(), publishedAt: z.string(), topics }).meta({ description: 'A new article matched these topics' }),
} satisfies Record<WebhookEventType, z.ZodType>;

export type WebhookEventData<T extends WebhookEventType> = z.infer<(typeof eventDataSchemas)[T]>;

/** One event as a service hands it to the outbox; `key` orders delivery (one subscriber's events in order). */
export interface NewWebhookEvent {
  type: WebhookEventType;
  key: string;
  data: Record<string, unknown>;
}

export function event<T extends WebhookEventType>(type: T, key: string, data: WebhookEventData<T>): NewWebhookEvent {
  return { type, key, data: data as Record<string, unknown> };
}

export const subscriberKey = (id: number) => `subscriber:${id}`;

/** Events about a delivery are ordered with their subscriber's, else on their own. */
const deliveryKey = (subscriberId: number | null, deliveryId: number | null) => (subscriberId ? subscriberKey(subscriberId) : `delivery:${deliveryId ?? 'none'}`);

export const bounceEvent = (d: WebhookEventData<'delivery.bounced'>) => event('delivery.bounced', deliveryKey(d.subscriberId, d.deliveryId), d);
export const complaintEvent = (d: WebhookEventData<'delivery.complained'>) => event('delivery.complained', deliveryKey(d.subscriberId, d.deliveryId), d);
