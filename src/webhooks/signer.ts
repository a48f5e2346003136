import { createHmac } from 'node:crypto';

// Standard Webhooks signatures: webhook-signature is `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
// under the secret's bytes (the base64 after `whsec_`). During a rotation's grace period the
// header carries the signature of each valid secret, space-separated, so receivers configured
// with either one accept the message.

export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

export interface SigningSecrets {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

/** The three Standard Webhooks headers for one attempt. */
export function signatureHeaders(s: SigningSecrets, id: string, now: Date, body: string): Record<string, string> {
  const ts = Math.floor(now.getTime() / 1000);
  const signatures = [sign(s.secret, id, ts, body)];
  if (s.previousSecret && s.previousSecretExpiresAt && s.previousSecretExpiresAt > now) signatures.push(sign(s.previousSecret, id, ts, body));
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signatures.join(' ') };
}
