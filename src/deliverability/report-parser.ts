import { simpleParser } from 'mailparser';

// Reads what a relay or a mailbox provider sends back: a delivery status notification (RFC 3464,
// multipart/report with a message/delivery-status part) or an abuse report (ARF, RFC 5965,
// multipart/report with a message/feedback-report part), and the original message (or its
// headers) they return, where our Message-ID and X-Delivery-Ref are. mailparser does the MIME
// (encodings, charsets, nesting); the report parts are plain header-style fields read here.

export type BounceType = 'hard' | 'soft';

export interface Original {
  messageId?: string;
  /** Our signed X-Delivery-Ref header (the VERP token). */
  deliveryRef?: string;
  /** ARF's Original-Mail-From: the envelope sender, i.e. our VERP return path. */
  mailFrom?: string;
}

export type Report =
  | { kind: 'dsn'; type: BounceType | null; status: string | null; recipient: string | null; detail: string; original: Original }
  | { kind: 'arf'; feedbackType: string; complaint: boolean; detail: string; original: Original }
  | { kind: 'none'; reason: string };

/** One header-style block as field name (lower case) → values, folded lines joined. */
export type Fields = Map<string, string[]>;

/** Header-style fields, in groups separated by blank lines (a DSN: per-message, then per-recipient). */
export function parseFieldGroups(text: string): Fields[] {
  const groups: Fields[] = [];
  let current: Fields = new Map();
  let last: { name: string; index: number } | undefined;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (current.size > 0) groups.push(current);
      current = new Map();
      last = undefined;
      continue;
    }
    if (/^[ \t]/.test(line) && last) {
      const values = current.get(last.name)!;
      values[last.index] = `${values[last.index]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // not a field: skipped, the raw message is kept anyway
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = current.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    current.set(name, values);
    last = { name, index: values.length - 1 };
  }
  if (current.size > 0) groups.push(current);
  return groups;
}

const first = (fields: Fields | undefined, name: string) => fields?.get(name)?.[0];
/** `rfc822; reader@example.com` → `reader@example.com`. */
const typed = (v: string | undefined) => (v === undefined ? undefined : v.includes(';') ? v.slice(v.indexOf(';') + 1).trim() : v.trim());
const bare = (v: string | undefined) => v?.trim().replace(/^<|>$/g, '') || undefined;

/** The identifiers in a returned message or header block. */
export function originalOf(headerText: string | undefined): Original {
  if (!headerText) return {};
  const end = headerText.search(/\r?\n\r?\n/);
  const [fields] = parseFieldGroups(end === -1 ? headerText : headerText.slice(0, end));
  const messageId = first(fields, 'message-id');
  return { messageId: messageId ? `<${bare(messageId)}>` : undefined, deliveryRef: bare(first(fields, 'x-delivery-ref')) };
}

/**
 * RFC 3464 §2.3.4: Status class 5 is a permanent failure (hard), 4 a transient one (soft); 2 is
 * success. Of several recipients the worst counts (our mail has one recipient, but relays may
 * report the forwarding targets too).
 */
function worstRecipient(groups: Fields[]): { type: BounceType | null; status: string | null; recipient: string | null; diagnostic: string | null } {
  let best: { type: BounceType | null; status: string | null; recipient: string | null; diagnostic: string | null } = { type: null, status: null, recipient: null, diagnostic: null };
  const rank = (t: BounceType | null) => (t === 'hard' ? 2 : t === 'soft' ? 1 : 0);
  for (const g of groups) {
    const status = /\b([245])\.\d{1,3}\.\d{1,3}\b/.exec(first(g, 'status') ?? '');
    const action = (first(g, 'action') ?? '').toLowerCase();
    const recipient = typed(first(g, 'final-recipient') ?? first(g, 'original-recipient')) ?? null;
    if (!status && !recipient && !action) continue; // the per-message group
    let type: BounceType | null = null;
    if (status?.[1] === '5') type = 'hard';
    else if (status?.[1] === '4') type = 'soft';
    // A failure without a usable status code: 'failed' is final, 'delayed' is not.
    else if (!status && action === 'failed') type = 'hard';
    else if (!status && action === 'delayed') type = 'soft';
    if (rank(type) > rank(best.type) || (best.recipient === null && recipient !== null && rank(type) === rank(best.type))) {
      best = { type, status: status?.[0] ?? null, recipient, diagnostic: typed(first(g, 'diagnostic-code')) ?? null };
    }
  }
  return best;
}

/**
 * The header block of the returned message, read from the raw report: mailparser opens an inline
 * message/rfc822 part as a message of its own (its attachments join the report's) and keeps none
 * of its headers. A message/rfc822 part is never transfer-encoded (RFC 2046 §5.2.1), so its
 * headers are the first block after the part's own.
 */
function returnedInRaw(raw: Buffer): string | undefined {
  const text = raw.toString('latin1');
  const m = /^Content-Type:[ \t]*(?:message\/(?:rfc822|global)|text\/rfc822-headers)\b/im.exec(text);
  if (!m) return undefined;
  const partBody = text.slice(m.index).search(/\r?\n\r?\n/);
  if (partBody === -1) return undefined;
  const start = m.index + partBody;
  return text.slice(start).replace(/^(\r?\n)+/, '').slice(0, 64 * 1024);
}

/** ARF feedback types that are a reader saying "this is spam" (RFC 5965 §7.3; 'fraud', 'virus' and 'other' too: they all mean "do not send me this"). */
const COMPLAINT_TYPES = new Set(['abuse', 'fraud', 'virus', 'other']);

/**
 * The report in a raw message. Throws only when mailparser cannot read the message at all; a
 * message that is readable but not a report is `{ kind: 'none' }`.
 */
export async function parseReport(raw: Buffer): Promise<Report> {
  const mail = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  const part = (...types: string[]) => mail.attachments.find((a) => types.includes(a.contentType.toLowerCase()));
  const text = (a: { content: Buffer } | undefined) => a?.content.toString('utf8');
  const returned = text(part('message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers', 'message/global', 'message/global-headers')) ?? returnedInRaw(raw);

  const status = part('message/delivery-status', 'message/global-delivery-status');
  if (status) {
    const groups = parseFieldGroups(text(status) ?? '');
    const r = worstRecipient(groups);
    const detail = [r.status, r.diagnostic].filter(Boolean).join(' ') || (r.type ? `${r.type} bounce` : 'no failure reported');
    return { kind: 'dsn', type: r.type, status: r.status, recipient: r.recipient, detail: detail.slice(0, 1000), original: originalOf(returned) };
  }

  const feedback = part('message/feedback-report');
  if (feedback) {
    const [fields] = parseFieldGroups(text(feedback) ?? '');
    const feedbackType = (first(fields, 'feedback-type') ?? 'abuse').toLowerCase();
    const original = originalOf(returned);
    original.mailFrom = bare(first(fields, 'original-mail-from'));
    const source = [first(fields, 'user-agent'), first(fields, 'reporting-mta')].filter(Boolean).join(', ');
    return { kind: 'arf', feedbackType, complaint: COMPLAINT_TYPES.has(feedbackType), detail: `ARF ${feedbackType}${source ? ` from ${source}` : ''}`.slice(0, 1000), original };
  }

  const reportType = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  return { kind: 'none', reason: reportType?.value?.toLowerCase() === 'multipart/report' ? `a multipart/report without a delivery-status or feedback-report part (report-type ${reportType.params?.['report-type'] ?? 'unknown'})` : 'neither a delivery status notification nor an abuse report' };
}
