import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

// Link tokens: purpose-bound, HMAC-signed, carrying ids and times but never an address.
// A token is `<payload>.<mac>`; the mac covers the purpose, so an unsubscribe token cannot be
// replayed as a preferences token. Comparison is constant-time. Nothing is stored: revocation
// comes from the rows they point at (a used confirmation request, an erased subscriber).

const MAC_BYTES = 16; // 128 bits

export type LinkPurpose = 'confirm' | 'unsubscribe' | 'manage' | 'form';

export class LinkSigner {
  // Imported once: a fan-out signs several links per digest.
  private readonly key: KeyObject;

  constructor(secret: string) {
    this.key = createSecretKey(Buffer.from(secret));
  }

  private mac(purpose: LinkPurpose, payload: string): Buffer {
    return createHmac('sha256', this.key).update(`${purpose}|${payload}`).digest().subarray(0, MAC_BYTES);
  }

  sign(purpose: LinkPurpose, fields: (string | number)[]): string {
    const payload = Buffer.from(fields.join(':')).toString('base64url');
    return `${payload}.${this.mac(purpose, payload).toString('base64url')}`;
  }

  /** The signed fields, or undefined for a token that is malformed or not ours. */
  verify(purpose: LinkPurpose, token: string): string[] | undefined {
    if (typeof token !== 'string' || token.length > 300) return undefined;
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = token.slice(0, dot);
    const givenText = token.slice(dot + 1);
    const given = Buffer.from(givenText, 'base64url');
    const expected = this.mac(purpose, payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    // Lenient decoding ignores the spare low bits of the last character (and stray characters):
    // without this, a MAC with its last character changed would still verify.
    if (given.toString('base64url') !== givenText) return undefined;
    // base64url decoding is lenient; re-encoding must give back exactly the signed payload.
    const decoded = Buffer.from(payload, 'base64url');
    if (decoded.toString('base64url') !== payload) return undefined;
    return decoded.toString().split(':');
  }

  /** Keyed hash of a normalised address: what suppressions keep after erasure. */
  emailHash(normalizedEmail: string): string {
    return createHmac('sha256', this.key).update(`email|${normalizedEmail}`).digest('hex');
  }
}

/** Normalises an address for identity: trimmed, NFC, lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

const int = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);

export interface UnsubscribeLink {
  subscriberId: number;
  /** null: every topic. */
  topicIds: number[] | null;
  issuedAt: number;
}

/** The typed tokens of each link kind, over one signer. */
export class Links {
  constructor(
    readonly signer: LinkSigner,
    private readonly baseUrl: string,
    private readonly ttl: { unsubscribeMs: number; manageMs: number },
  ) {}

  confirmToken(requestId: number): string {
    return this.signer.sign('confirm', [requestId]);
  }
  parseConfirm(token: string): number | undefined {
    const f = this.signer.verify('confirm', token);
    return f && f.length === 1 ? int(f[0]) : undefined;
  }

  unsubscribeToken(subscriberId: number, topicIds: number[] | null, now: Date): string {
    return this.signer.sign('unsubscribe', [subscriberId, topicIds === null ? '*' : topicIds.join('-'), Math.floor(now.getTime() / 1000)]);
  }
  parseUnsubscribe(token: string, now: Date): UnsubscribeLink | 'expired' | undefined {
    const f = this.signer.verify('unsubscribe', token);
    if (!f || f.length !== 3) return undefined;
    const subscriberId = int(f[0]);
    const issued = int(f[2]);
    const topicIds = f[1] === '*' ? null : f[1]!.split('-').map(int);
    if (subscriberId === undefined || issued === undefined || (topicIds && topicIds.some((t) => t === undefined))) return undefined;
    if (now.getTime() - issued * 1000 > this.ttl.unsubscribeMs) return 'expired';
    return { subscriberId, topicIds: topicIds as number[] | null, issuedAt: issued };
  }

  manageToken(subscriberId: number, now: Date): string {
    return this.signer.sign('manage', [subscriberId, Math.floor((now.getTime() + this.ttl.manageMs) / 1000)]);
  }
  parseManage(token: string, now: Date): number | 'expired' | undefined {
    const f = this.signer.verify('manage', token);
    if (!f || f.length !== 2) return undefined;
    const id = int(f[0]);
    const exp = int(f[1]);
    if (id === undefined || exp === undefined) return undefined;
    return now.getTime() > exp * 1000 ? 'expired' : id;
  }

  /** The widget's time trap: when the form was served. */
  formToken(now: Date): string {
    return this.signer.sign('form', [now.getTime()]);
  }
  formTokenAge(token: string, now: Date): number | undefined {
    const f = this.signer.verify('form', token);
    const issued = f && f.length === 1 ? int(f[0]) : undefined;
    return issued === undefined ? undefined : now.getTime() - issued;
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }
  confirmUrl(requestId: number): string {
    return this.url(`/confirm/${this.confirmToken(requestId)}`);
  }
  declineUrl(requestId: number): string {
    return this.url(`/decline/${this.confirmToken(requestId)}`);
  }
  unsubscribeUrl(subscriberId: number, topicIds: number[] | null, now: Date): string {
    return this.url(`/unsubscribe/${this.unsubscribeToken(subscriberId, topicIds, now)}`);
  }
  preferencesUrl(subscriberId: number, now: Date): string {
    return this.url(`/preferences/${this.manageToken(subscriberId, now)}`);
  }
}
