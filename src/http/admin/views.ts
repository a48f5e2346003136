import type { Subscriber } from '../../repositories/subscribers.js';
import type { Subscription } from '../../repositories/subscriptions.js';
import type { ConsentEvent } from '../../repositories/consent-events.js';
import type { Delivery } from '../../repositories/deliveries.js';

// The JSON shapes of subscribers for the admin API and the console's export download.

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const subscriberView = (s: Subscriber) => ({
  id: s.id,
  email: s.email,
  timeZone: s.timeZone,
  digestHour: s.digestHour,
  digestWeekday: s.digestWeekday,
  language: s.language,
  pausedUntil: iso(s.pausedUntil),
  pausedIndefinitely: s.pausedIndefinitely,
  declinedUntil: iso(s.declinedUntil),
  // null: the publisher's default; start = end: none
  quietHours: s.quietStart === null || s.quietEnd === null ? null : { start: s.quietStart, end: s.quietEnd },
  instantDailyCap: s.instantDailyCap,
  createdAt: s.createdAt.toISOString(),
});

export const subscriptionView = (s: Subscription) => ({
  topic: s.topicSlug,
  topicName: s.topicName,
  topicStatus: s.topicStatus,
  status: s.status,
  frequency: s.frequency,
  requestedAt: s.requestedAt.toISOString(),
  confirmedAt: iso(s.confirmedAt),
  unsubscribedAt: iso(s.unsubscribedAt),
});

export const consentView = (e: ConsentEvent) => ({
  id: e.id,
  action: e.action,
  topics: e.topics,
  termsVersion: e.termsVersion,
  termsSha256: e.termsSha256,
  consentText: e.consentText,
  consentMode: e.consentMode,
  sourceUrl: e.sourceUrl,
  form: e.form,
  ip: e.ip,
  userAgent: e.userAgent,
  createdAt: e.createdAt.toISOString(),
});

export const deliveryView = (d: Delivery) => ({
  id: d.id,
  kind: d.kind,
  status: d.status,
  toAddress: d.toAddress,
  messageId: d.messageId,
  attempts: d.attempts,
  lastError: d.lastError,
  createdAt: d.createdAt.toISOString(),
  sentAt: iso(d.sentAt),
});

export function exportView(data: { subscriber: Subscriber; subscriptions: Subscription[]; consentEvents: ConsentEvent[]; deliveries: Delivery[] }, exportedAt: Date) {
  return {
    exportedAt: exportedAt.toISOString(),
    subscriber: subscriberView(data.subscriber),
    subscriptions: data.subscriptions.map(subscriptionView),
    consentEvents: data.consentEvents.map(consentView),
    deliveries: data.deliveries.map(deliveryView),
  };
}
