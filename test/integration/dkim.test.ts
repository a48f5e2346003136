import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimVerify } from 'mailauth';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { headerValues, rawHeaderFields, startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { readerFlows } from '../helpers/flows.js';

// A digest signed with the configured key verifies with a well-kept verifier (mailauth), whose
// DNS lookup is answered by the test with the matching public key; the signature covers both
// List-* headers (RFC 8058 asks for it, or a forwarder could strip the one-click promise).

const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'der' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const DNS_NAME = 's1._domainkey.news.example';
const TXT = `v=DKIM1; k=rsa; p=${publicKey.toString('base64')}`;

let smtp: TestSmtpServer;
let app: TestApp;
const lookups: string[] = [];

// dns.resolve(name, 'TXT') shape: one array of strings per record.
const resolver = async (name: string, type: string) => {
  lookups.push(`${type} ${name}`);
  if (type === 'TXT' && name.toLowerCase() === DNS_NAME) return [[TXT]];
  throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
};

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await startTestApp({
    SMTP_URL: smtp.url,
    MAIL_FROM: 'alerts@news.example',
    POSTAL_ADDRESS: '1 Fleet Street, London',
    UNSUBSCRIBE_MAILTO: 'unsubscribe@news.example',
    DKIM_DOMAIN: 'news.example',
    DKIM_SELECTOR: 's1',
    // inline PEM with escaped newlines, as it would sit in an environment variable
    DKIM_PRIVATE_KEY: privateKey.replace(/\n/g, '\\n'),
  });
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

describe('DKIM', () => {
  it('signs digests so that the signature verifies and covers List-Unsubscribe and List-Unsubscribe-Post', async () => {
    const admin = await apiClient(app);
    expect((await admin.post('/api/v1/topics', { slug: 'japan', name: 'Japan', query: 'japan' })).status).toBe(201);
    const flows = readerFlows(app, smtp);
    await flows.activeSubscriber('reader@example.com', ['japan'], 'instant');
    app.clock.advance(60_000);
    const published = await admin.post('/api/v1/articles', { url: 'https://news.example/a/1', title: 'Japan signs a treaty', summary: 'A treaty.', publishedAt: app.clock.now().toISOString() });
    expect(published.status).toBe(201);
    app.clock.advance(60_000);
    expect((await app.ctx.services.scheduler.run('test')).queued).toBe(1);
    const mails = await flows.sendQueued();
    expect(mails).toHaveLength(1);
    const raw = mails[0]!.raw;

    const fields = rawHeaderFields(raw);
    expect(headerValues(fields, 'List-Unsubscribe')).toHaveLength(1);
    expect(headerValues(fields, 'List-Unsubscribe-Post')).toEqual(['List-Unsubscribe=One-Click']);

    const result = await dkimVerify(Buffer.from(raw), { resolver: resolver as never });
    const sig = result.results[0]! as (typeof result.results)[number] & { signingHeaders?: { keys?: string } };
    const signed = String(sig.signingHeaders?.keys ?? '')
      .split(':')
      .map((h) => h.trim().toLowerCase());
    console.log(`DKIM: ${sig.status.result} (${sig.status.comment ?? 'no comment'}), d=${sig.signingDomain} s=${sig.selector}, h=${signed.join(':')}`);
    expect(result.results).toHaveLength(1);
    expect(sig.status.result).toBe('pass');
    expect(sig.signingDomain).toBe('news.example');
    expect(sig.selector).toBe('s1');
    expect(lookups).toContain(`TXT ${DNS_NAME}`);
    expect(signed).toContain('list-unsubscribe');
    expect(signed).toContain('list-unsubscribe-post');
    expect(signed).toContain('from');
    // Gmail's Feedback-ID (campaign:topic:kind:SenderId) counts only when signed.
    expect(headerValues(fields, 'Feedback-ID')).toEqual(['digest-instant:japan:digest:news.example']);
    expect(signed).toContain('feedback-id');
    const forged = raw.replace('Feedback-ID: digest-instant:japan:digest:news.example', 'Feedback-ID: digest-instant:other:digest:news.example');
    expect(forged).not.toBe(raw);
    expect((await dkimVerify(Buffer.from(forged), { resolver: resolver as never })).results[0]!.status.result).not.toBe('pass');

    // A changed List-Unsubscribe-Post breaks the signature: the header really is covered.
    const tampered = raw.replace('List-Unsubscribe-Post: List-Unsubscribe=One-Click', 'List-Unsubscribe-Post: List-Unsubscribe=Two-Clicks');
    expect(tampered).not.toBe(raw);
    const broken = await dkimVerify(Buffer.from(tampered), { resolver: resolver as never });
    expect(broken.results[0]!.status.result).not.toBe('pass');
  });
});
