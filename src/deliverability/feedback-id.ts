import type { DeliveryKind, Frequency } from '../db/types.js';

// Gmail's Feedback-ID: `a:b:c:SenderId`. Postmaster Tools reports complaint rates per value of
// each field, so they should name what a reader could be complaining about: the campaign (the
// kind of mail and, for digests, how often it comes), the topic (or, for a digest of several
// topics, "several"), the kind of mail, and our constant SenderId. Colons separate the fields,
// so each field keeps only letters, digits, dots, dashes and underscores.

const clean = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || '-';

export function feedbackId(o: { kind: DeliveryKind; frequency?: Frequency; topics?: readonly string[]; senderId: string }): string {
  const campaign = o.kind === 'digest' && o.frequency ? `digest-${o.frequency}` : o.kind;
  const topic = !o.topics || o.topics.length === 0 ? 'none' : o.topics.length === 1 ? o.topics[0]! : 'several';
  return [campaign, topic, o.kind, o.senderId].map(clean).join(':');
}
