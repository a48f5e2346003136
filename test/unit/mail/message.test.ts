import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { buildMessage, MailHeaderError, parseVerpAddress, verpAddress, type BuildMessageInput } from '../../../src/mail/message.js';
import { classifySendError } from '../../../src/mail/transport.js';
import { headerValues, rawHeaderFields } from '../../helpers/smtp.js';

function input(overrides: Partial<BuildMessageInput> = {}): BuildMessageInput {
  return {
    from: { name: 'The Daily Bugle', address: 'alerts@bugle.example' },
    to: 'reader@example.org',
    subject: '3 new articles: Japan, NATO',
    html: '<html lang="en"><body><a href="https://alerts.example.com/unsubscribe/tok?x&#x3D;1">u</a></body></html>',
    text: 'Unsubscribe: https://alerts.example.com/unsubscribe/tok?x=1\n',
    messageId: 'delivery-42@alerts.example.com',
    unsubscribeUrl: 'https://alerts.example.com/unsubscribe/tok?x=1',
    unsubscribeMailto: 'unsubscribe+tok@alerts.example.com',
    listId: 'alerts.example.com',
    listName: 'The Daily Bugle topic alerts',
    deliveryId: '42',
    bounceDomain: 'bounces.example.com',
    ...overrides,
  };
}

async function compile(msg: ReturnType<typeof buildMessage>): Promise<string> {
  const t = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = await t.sendMail(msg);
  return (info.message as Buffer).toString('latin1');
}

describe('buildMessage', () => {
  it('builds from, to, both parts, a fixed Message-ID, one List-Unsubscribe and the one-click header', async () => {
    const msg = buildMessage(input());
    expect(msg.messageId).toBe('<delivery-42@alerts.example.com>');
    expect(msg.list).toEqual({
      unsubscribe: [['https://alerts.example.com/unsubscribe/tok?x=1', 'mailto:unsubscribe+tok@alerts.example.com']],
      id: { url: 'alerts.example.com', comment: 'The Daily Bugle topic alerts' },
    });
    expect(msg.envelope).toEqual({ from: 'bounces+42@bounces.example.com', to: 'reader@example.org' });

    const fields = rawHeaderFields(await compile(msg));
    expect(headerValues(fields, 'From')).toEqual(['The Daily Bugle <alerts@bugle.example>']);
    expect(headerValues(fields, 'Message-ID')).toEqual(['<delivery-42@alerts.example.com>']);
    expect(headerValues(fields, 'List-Unsubscribe')).toEqual([
      '<https://alerts.example.com/unsubscribe/tok?x=1>, <mailto:unsubscribe+tok@alerts.example.com>',
    ]);
    expect(headerValues(fields, 'List-Unsubscribe-Post')).toEqual(['List-Unsubscribe=One-Click']);
    expect(headerValues(fields, 'List-ID')).toEqual(['"The Daily Bugle topic alerts" <alerts.example.com>']);
  });

  it('a retry builds the same Message-ID', () => {
    expect(buildMessage(input()).messageId).toBe(buildMessage(input()).messageId);
    expect(buildMessage(input({ messageId: '<x@y.example>' })).messageId).toBe('<x@y.example>');
  });

  it('takes the header URL from the raw data, never HTML-escaped', async () => {
    const raw = await compile(buildMessage(input()));
    const fields = rawHeaderFields(raw);
    expect(headerValues(fields, 'List-Unsubscribe')[0]).toContain('tok?x=1>');
    expect(fields.join('\n')).not.toContain('&#x3D;');
  });

  it('without an unsubscribe URL adds no List-Unsubscribe headers; without a bounce domain no envelope', () => {
    const msg = buildMessage(input({ unsubscribeUrl: undefined, unsubscribeMailto: undefined, bounceDomain: undefined }));
    expect(msg.list).toEqual({ id: { url: 'alerts.example.com', comment: 'The Daily Bugle topic alerts' } });
    expect(msg.headers).toEqual({});
    expect(msg.envelope).toBeUndefined();
  });

  it.each([
    ['subject', { subject: 'Hi\r\nBcc: x@evil.example' }],
    ['subject (LF only)', { subject: 'Hi\nthere' }],
    ['to', { to: 'a@example.org\r\nBcc: x@evil.example' }],
    ['from name', { from: { name: 'Bugle\r\nX: y', address: 'alerts@bugle.example' } }],
    ['messageId', { messageId: '<a@b>\r\nX: y' }],
    ['unsubscribeUrl', { unsubscribeUrl: 'https://a.example/u\r\nX: y' }],
    ['unsubscribeMailto', { unsubscribeMailto: 'u@a.example\nX: y' }],
    ['listName', { listName: 'List\rX' }],
    ['extra header', { headers: { 'X-Campaign': 'a\r\nb' } }],
  ] as const)('rejects CR/LF in %s', (_what, overrides) => {
    expect(() => buildMessage(input(overrides as Partial<BuildMessageInput>))).toThrow(MailHeaderError);
  });

  it('rejects unusable values and classifies the error as permanent', () => {
    const bad: Partial<BuildMessageInput>[] = [
      { unsubscribeUrl: 'javascript:alert(1)' },
      { unsubscribeUrl: 'not a url' },
      { messageId: 'no-at-sign' },
      { to: 'not-an-address' },
      { deliveryId: '42@evil', bounceDomain: 'bounces.example.com' },
      { deliveryId: undefined, bounceDomain: 'bounces.example.com' },
      { headers: { 'Bad Name': 'x' } },
    ];
    for (const b of bad) {
      let caught: unknown;
      try {
        buildMessage(input(b));
      } catch (err) {
        caught = err;
      }
      expect(caught, JSON.stringify(b)).toBeInstanceOf(MailHeaderError);
      expect(classifySendError(caught)).toBe('permanent');
    }
  });
});

describe('VERP', () => {
  it('round-trips a delivery id', () => {
    const addr = verpAddress('0190f3a2-7c1e-7000-8000-000000000001', 'bounces.example.com');
    expect(addr).toBe('bounces+0190f3a2-7c1e-7000-8000-000000000001@bounces.example.com');
    expect(parseVerpAddress(addr, 'bounces.example.com')).toBe('0190f3a2-7c1e-7000-8000-000000000001');
    expect(parseVerpAddress(`<${addr.toUpperCase()}>`, 'bounces.example.com')).toBe(
      '0190F3A2-7C1E-7000-8000-000000000001',
    );
    expect(parseVerpAddress('someone@bounces.example.com', 'bounces.example.com')).toBeNull();
    expect(parseVerpAddress('bounces+1@other.example', 'bounces.example.com')).toBeNull();
  });
});
