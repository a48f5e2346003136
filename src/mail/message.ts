import type { SendMailOptions } from 'nodemailer';

// Builds what nodemailer sends. Header values come from the raw data the caller holds (URLs,
// ids), never from rendered HTML: Handlebars escapes `=` as `&#x3D;`, right in an attribute,
// wrong in a header (DESIGN §10).

export interface MailAddress {
  name: string;
  address: string;
}

export interface BuildMessageInput {
  /** Shown as `"Publisher" <address>`. */
  from: MailAddress;
  to: string;
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  /**
   * Fixed per delivery so a retry reuses it, e.g. `<delivery-id@alerts.example.com>`
   * (angle brackets are added when missing).
   */
  messageId: string;
  /** The https one-click target (RFC 8058); also gets `List-Unsubscribe-Post`. */
  unsubscribeUrl?: string;
  /** Optional `mailto:` (or bare address) carried in the same List-Unsubscribe header. */
  unsubscribeMailto?: string;
  /** List-Id identifier, a domain-like string such as `alerts.example.com`. */
  listId?: string;
  /** List-Id phrase, e.g. `Daily Bugle topic alerts`. */
  listName?: string;
  /** With `bounceDomain`, the envelope sender becomes `<bouncePrefix>+<deliveryId>@<bounceDomain>` (VERP). */
  deliveryId?: string;
  bounceDomain?: string;
  /** Local part before `+`; default `bounces`. */
  bouncePrefix?: string;
  /** Extra headers; values are checked like all others. */
  headers?: Record<string, string>;
}

/** A value that would have to go into a header carries CR or LF (or is otherwise unusable). */
export class MailHeaderError extends Error {
  readonly code = 'EMAILHEADER';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'MailHeaderError';
  }
}

function checkHeader(field: string, value: string | undefined): void {
  if (value === undefined) return;
  if (typeof value !== 'string') throw new MailHeaderError(`${field} must be a string`, field);
  if (/[\r\n]/.test(value)) throw new MailHeaderError(`${field} contains a line break`, field);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000]/.test(value)) throw new MailHeaderError(`${field} contains a NUL byte`, field);
}

const ADDRESS = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+$/;
const VERP_TOKEN = /^[A-Za-z0-9._=-]+$/;
const DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

function normaliseMessageId(id: string): string {
  const bare = id.replace(/^<|>$/g, '');
  if (!/^[^\s<>@]+@[^\s<>@]+$/.test(bare)) {
    throw new MailHeaderError(`messageId must look like <local@domain>, got "${id}"`, 'messageId');
  }
  return `<${bare}>`;
}

function normaliseMailto(value: string): string {
  const mailto = /^mailto:/i.test(value) ? value : `mailto:${value}`;
  if (!ADDRESS.test(mailto.slice('mailto:'.length).split('?')[0] ?? '')) {
    throw new MailHeaderError(`unsubscribeMailto is not a mail address: "${value}"`, 'unsubscribeMailto');
  }
  return mailto;
}

/** The VERP envelope sender for a delivery: `bounces+<deliveryId>@<domain>`. */
export function verpAddress(deliveryId: string, bounceDomain: string, prefix = 'bounces'): string {
  if (!VERP_TOKEN.test(deliveryId)) {
    throw new MailHeaderError(`deliveryId cannot go into a VERP address: "${deliveryId}"`, 'deliveryId');
  }
  if (!DOMAIN.test(bounceDomain)) throw new MailHeaderError(`bad bounce domain "${bounceDomain}"`, 'bounceDomain');
  if (!VERP_TOKEN.test(prefix)) throw new MailHeaderError(`bad bounce prefix "${prefix}"`, 'bouncePrefix');
  return `${prefix}+${deliveryId}@${bounceDomain}`;
}

/** The delivery id in a VERP address (e.g. the recipient of a bounce), or null when it is not one of ours. */
export function parseVerpAddress(address: string, bounceDomain: string, prefix = 'bounces'): string | null {
  const m = /^([^+@]+)\+([^@]+)@(.+)$/.exec(address.trim().replace(/^<|>$/g, ''));
  if (!m || m[1]?.toLowerCase() !== prefix.toLowerCase() || m[3]?.toLowerCase() !== bounceDomain.toLowerCase()) {
    return null;
  }
  return VERP_TOKEN.test(m[2] ?? '') ? (m[2] ?? null) : null;
}

export function buildMessage(input: BuildMessageInput): SendMailOptions {
  checkHeader('from.name', input.from.name);
  checkHeader('from.address', input.from.address);
  checkHeader('to', input.to);
  checkHeader('replyTo', input.replyTo);
  checkHeader('subject', input.subject);
  checkHeader('messageId', input.messageId);
  checkHeader('unsubscribeUrl', input.unsubscribeUrl);
  checkHeader('unsubscribeMailto', input.unsubscribeMailto);
  checkHeader('listId', input.listId);
  checkHeader('listName', input.listName);
  checkHeader('deliveryId', input.deliveryId);
  checkHeader('bounceDomain', input.bounceDomain);
  checkHeader('bouncePrefix', input.bouncePrefix);
  if (!ADDRESS.test(input.from.address)) throw new MailHeaderError(`bad from address "${input.from.address}"`, 'from');
  if (!ADDRESS.test(input.to)) throw new MailHeaderError(`bad recipient address "${input.to}"`, 'to');

  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.headers ?? {})) {
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(key)) throw new MailHeaderError(`bad header name "${key}"`, key);
    checkHeader(key, value);
    headers[key] = value;
  }

  const msg: SendMailOptions = {
    from: { name: input.from.name, address: input.from.address },
    to: input.to,
    subject: input.subject,
    html: input.html,
    text: input.text,
    messageId: normaliseMessageId(input.messageId),
    headers,
  };
  if (input.replyTo) msg.replyTo = input.replyTo;

  const list: NonNullable<SendMailOptions['list']> = {};
  if (input.unsubscribeUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(input.unsubscribeUrl);
    } catch {
      throw new MailHeaderError(`unsubscribeUrl is not a URL: "${input.unsubscribeUrl}"`, 'unsubscribeUrl');
    }
    // RFC 8058 wants https; plain http is let through for local trials (BASE_URL=http://localhost),
    // production config is expected to insist on an https BASE_URL.
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new MailHeaderError(`unsubscribeUrl must be https: "${input.unsubscribeUrl}"`, 'unsubscribeUrl');
    }
    const targets = [input.unsubscribeUrl];
    if (input.unsubscribeMailto) targets.push(normaliseMailto(input.unsubscribeMailto));
    // nested array: ONE List-Unsubscribe header with both URIs; a flat array would give two
    // headers, and mail clients then refuse one-click
    list.unsubscribe = [targets];
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  } else if (input.unsubscribeMailto) {
    list.unsubscribe = [[normaliseMailto(input.unsubscribeMailto)]];
  }
  if (input.listId) {
    if (!/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+$/.test(input.listId)) {
      throw new MailHeaderError(`bad List-Id "${input.listId}"`, 'listId');
    }
    list.id = input.listName ? { url: input.listId, comment: input.listName } : input.listId;
  }
  if (Object.keys(list).length > 0) msg.list = list;

  if (input.bounceDomain) {
    if (!input.deliveryId) throw new MailHeaderError('a bounce domain needs a deliveryId', 'deliveryId');
    msg.envelope = { from: verpAddress(input.deliveryId, input.bounceDomain, input.bouncePrefix), to: input.to };
  }
  return msg;
}
