import crypto from 'node:crypto';

// A minimal DKIM verifier (RFC 6376, relaxed/relaxed, rsa-sha256) for tests: mailauth, the
// maintained verifier, needs Node >= 20.18.1 (4.13.x) or >= 22 (5.x, 7.x). It verifies against a
// given public key instead of DNS and ignores l= (nodemailer never sets it).

export interface DkimResult {
  ok: boolean;
  reason?: string;
  tags: Record<string, string>;
  signedHeaders: string[];
}

interface Field {
  name: string;
  raw: string; // "Name: value" including folding CRLFs, without the final CRLF
}

function splitFields(headerBlock: string): Field[] {
  const fields: Field[] = [];
  for (const line of headerBlock.split('\r\n')) {
    const last = fields[fields.length - 1];
    if (/^[ \t]/.test(line) && last) last.raw += `\r\n${line}`;
    else if (line) fields.push({ name: line.slice(0, line.indexOf(':')).trim().toLowerCase(), raw: line });
  }
  return fields;
}

function relaxedHeader(raw: string): string {
  const colon = raw.indexOf(':');
  const name = raw.slice(0, colon).trim().toLowerCase();
  const value = raw
    .slice(colon + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return `${name}:${value}`;
}

export function relaxedBody(body: string): string {
  const lines = body.split('\r\n').map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.length === 0 ? '' : `${lines.join('\r\n')}\r\n`;
}

export function verifyDkim(message: Buffer | string, publicKey: crypto.KeyLike): DkimResult {
  const text = typeof message === 'string' ? message : message.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const headerBlock = split === -1 ? text : text.slice(0, split);
  const body = split === -1 ? '' : text.slice(split + 4);
  const fields = splitFields(headerBlock);
  const sig = fields.find((f) => f.name === 'dkim-signature');
  if (!sig) return { ok: false, reason: 'no DKIM-Signature', tags: {}, signedHeaders: [] };

  const tags: Record<string, string> = {};
  for (const part of sig.raw.slice(sig.raw.indexOf(':') + 1).split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    tags[part.slice(0, eq).replace(/\s+/g, '')] = part.slice(eq + 1).replace(/\s+/g, '');
  }
  const signedHeaders = (tags.h ?? '').split(':').map((h) => h.trim().toLowerCase()).filter(Boolean);
  const fail = (reason: string): DkimResult => ({ ok: false, reason, tags, signedHeaders });
  if (tags.v !== '1') return fail(`v=${tags.v}`);
  if (tags.a !== 'rsa-sha256') return fail(`a=${tags.a}`);
  if (tags.c !== 'relaxed/relaxed') return fail(`c=${tags.c}`);
  if (tags.l !== undefined) return fail('l= is not supported');

  const bodyHash = crypto.createHash('sha256').update(relaxedBody(body), 'latin1').digest('base64');
  if (bodyHash !== tags.bh) return fail('body hash mismatch');

  // each name in h= takes the next instance of that field from the bottom (RFC 6376 5.4.2)
  const used = new Set<Field>();
  let data = '';
  for (const name of signedHeaders) {
    const field = [...fields].reverse().find((f) => f.name === name && !used.has(f) && f !== sig);
    if (!field) continue;
    used.add(field);
    data += `${relaxedHeader(field.raw)}\r\n`;
  }
  // the signature header itself, with an empty b= and no trailing CRLF
  data += relaxedHeader(sig.raw.replace(/(^|;)([ \t\r\n]*b[ \t\r\n]*=)[^;]*/, '$1$2'));

  const ok = crypto.verify('RSA-SHA256', Buffer.from(data, 'latin1'), publicKey, Buffer.from(tags.b ?? '', 'base64'));
  return ok ? { ok: true, tags, signedHeaders } : fail('signature mismatch');
}
