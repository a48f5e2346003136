import crypto from 'node:crypto';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMessage } from '../../../src/mail/message.js';
import { compileTemplates, type MailTemplates } from '../../../src/mail/templates.js';
import {
  classifySendError,
  createMemoryTransport,
  createNullTransport,
  createSmtpTransport,
  isConnectionError,
  type MailTransport,
} from '../../../src/mail/transport.js';
import { verifyDkim } from './dkim-verify.js';
import { digestData, digestUrls, TEMPLATES_DIR } from './fixtures.js';
import { closedPort, headerValues, rawHeaderFields, startSmtpServer, type TestSmtpServer } from '../../helpers/smtp.js';

let templates: MailTemplates;
let server: TestSmtpServer;
const transports: MailTransport[] = [];

beforeAll(async () => {
  templates = await compileTemplates(TEMPLATES_DIR, { validationLevel: 'strict' });
  server = await startSmtpServer({
    rejectRcpt: (address) =>
      address.startsWith('greylisted@')
        ? { code: 451, message: '4.7.1 Greylisted, try again later' }
        : address.startsWith('nobody@')
          ? { code: 550, message: '5.1.1 No such user' }
          : undefined,
    rejectData: (session) =>
      session.envelope.rcptTo.some((r) => r.address.startsWith('spamtrap@'))
        ? { code: 554, message: '5.7.1 Message rejected' }
        : undefined,
  });
});

afterAll(async () => {
  await Promise.all(transports.map((t) => t.close()));
  await server.close();
});

function track<T extends MailTransport>(t: T): T {
  transports.push(t);
  return t;
}

const UNSUB = 'https://alerts.example.com/unsubscribe/tok-123?list=all';

function digestMessage(to = 'reader@example.org', seed = 7) {
  const data = digestData(seed);
  data.unsubscribeUrl = UNSUB;
  const rendered = templates.render('digest', data);
  const msg = buildMessage({
    from: { name: 'The Daily Bugle', address: 'alerts@bugle.example' },
    to,
    ...rendered,
    messageId: `<delivery-${seed}@alerts.example.com>`,
    unsubscribeUrl: data.unsubscribeUrl,
    unsubscribeMailto: `unsubscribe+tok-123@alerts.example.com`,
    listId: 'alerts.bugle.example',
    listName: 'The Daily Bugle topic alerts',
    deliveryId: `d${seed}`,
    bounceDomain: 'bounces.bugle.example',
  });
  return { data, rendered, msg };
}

async function sendError(t: MailTransport, to: string): Promise<Error & { responseCode?: number; code?: string }> {
  try {
    await t.send(digestMessage(to).msg);
  } catch (err) {
    return err as Error & { responseCode?: number; code?: string };
  }
  throw new Error('send did not fail');
}

describe('createSmtpTransport with smtp-server', () => {
  it('delivers a digest: both parts, exactly one List-Unsubscribe, one-click, List-Id, Message-ID, VERP', async () => {
    const transport = track(createSmtpTransport({ urls: [server.url], pool: { maxConnections: 1, maxMessages: 10 } }));
    const before = server.received.length;
    const { data, rendered, msg } = digestMessage();
    const result = await transport.send(msg);
    expect(result.accepted).toEqual(['reader@example.org']);
    expect(result.rejected).toEqual([]);
    expect(result.response).toMatch(/^250/);
    expect(result.messageId).toBe('<delivery-7@alerts.example.com>');

    expect(server.received.length).toBe(before + 1);
    const mail = server.received[server.received.length - 1];
    if (!mail) throw new Error('no mail');
    expect(mail.mailFrom).toBe('bounces+d7@bounces.bugle.example');
    expect(mail.rcptTo).toEqual(['reader@example.org']);

    const fields = rawHeaderFields(mail.raw);
    expect(headerValues(fields, 'List-Unsubscribe')).toEqual([
      `<${UNSUB}>, <mailto:unsubscribe+tok-123@alerts.example.com>`,
    ]);
    expect(fields.filter((f) => /^List-Unsubscribe-Post:/i.test(f))).toEqual([
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    ]);
    expect(headerValues(fields, 'List-Id')).toEqual(['"The Daily Bugle topic alerts" <alerts.bugle.example>']);
    expect(headerValues(fields, 'Message-ID')).toEqual(['<delivery-7@alerts.example.com>']);

    const parsed = await simpleParser(mail.raw);
    expect(parsed.subject).toBe(rendered.subject);
    expect(parsed.from?.value).toEqual([{ name: 'The Daily Bugle', address: 'alerts@bugle.example' }]);
    expect(parsed.messageId).toBe('<delivery-7@alerts.example.com>');
    expect(parsed.text?.trim()).toBe(rendered.text.trim());
    expect(parsed.html).toBe(rendered.html);
    expect(parsed.html).toMatch(/<html lang="en-US"/);
    for (const url of digestUrls(data)) expect(parsed.text).toContain(url);
  });

  it('fails over to the next relay when the first cannot be reached', async () => {
    const dead = await closedPort();
    const failovers: string[] = [];
    const transport = track(
      createSmtpTransport({
        urls: [`smtp://user:secret@127.0.0.1:${dead}`, server.url],
        onFailover: ({ relay }) => failovers.push(relay),
      }),
    );
    const before = server.received.length;
    const result = await transport.send(digestMessage('failover@example.org').msg);
    expect(result.accepted).toEqual(['failover@example.org']);
    expect(server.received.length).toBe(before + 1);
    expect(failovers).toEqual([`smtp://127.0.0.1:${dead}`]);
    // the dead relay now waits out its cooldown: the next send goes straight to the live one
    await transport.send(digestMessage('failover2@example.org').msg);
    expect(failovers).toHaveLength(1);
  });

  it('reports a connection error as transient when no relay is reachable', async () => {
    const transport = track(createSmtpTransport({ urls: [`smtp://127.0.0.1:${await closedPort()}`] }));
    const err = await sendError(transport, 'reader@example.org');
    expect(isConnectionError(err)).toBe(true);
    expect(classifySendError(err)).toBe('transient');
  });

  it('classifies 451 as transient and 550/554 as permanent, and does not fail over on them', async () => {
    const spare = await startSmtpServer();
    try {
      const transport = track(createSmtpTransport({ urls: [server.url, spare.url] }));
      const greylisted = await sendError(transport, 'greylisted@example.org');
      expect(greylisted.responseCode).toBe(451);
      expect(classifySendError(greylisted)).toBe('transient');

      const unknown = await sendError(transport, 'nobody@example.org');
      expect(unknown.responseCode).toBe(550);
      expect(classifySendError(unknown)).toBe('permanent');

      const rejected = await sendError(transport, 'spamtrap@example.org');
      expect(rejected.responseCode).toBe(554);
      expect(classifySendError(rejected)).toBe('permanent');

      expect(spare.received).toHaveLength(0);
    } finally {
      await spare.close();
    }
  });

  it('signs with DKIM, covering both List-Unsubscribe headers', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const transport = track(
      createSmtpTransport({
        urls: [server.url],
        dkim: { domainName: 'bugle.example', keySelector: 'alerts2026', privateKey },
      }),
    );
    await transport.send(digestMessage('dkim@example.org').msg);
    const mail = server.received[server.received.length - 1];
    if (!mail) throw new Error('no mail');
    expect(mail.rcptTo).toEqual(['dkim@example.org']);

    const result = verifyDkim(mail.raw, publicKey);
    expect(result.reason).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.tags.d).toBe('bugle.example');
    expect(result.tags.s).toBe('alerts2026');
    expect(result.signedHeaders).toEqual(expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post', 'list-id', 'from', 'subject', 'message-id']));

    // the verifier is not a rubber stamp: changing a signed header or the body breaks it
    const raw = mail.raw.toString('latin1');
    expect(verifyDkim(raw.replace('List-Unsubscribe=One-Click', 'List-Unsubscribe=One-Clack'), publicKey).ok).toBe(false);
    expect(verifyDkim(raw.replace(/(\r\n\r\n[\s\S]*?)Unsubscribe/, '$1Unsubscrybe'), publicKey).reason).toBe('body hash mismatch');
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(verifyDkim(raw, other).ok).toBe(false);
  });

  it('verify() succeeds against a live relay and fails when none is reachable', async () => {
    await expect(track(createSmtpTransport({ urls: [server.url] })).verify?.()).resolves.toBeUndefined();
    const dead = track(createSmtpTransport({ urls: [`smtp://127.0.0.1:${await closedPort()}`] }));
    await expect(dead.verify?.()).rejects.toThrow(/no SMTP relay reachable/);
  });
});

describe('classifySendError', () => {
  it.each([
    [{ code: 'ECONNECTION' }, 'transient'],
    [{ code: 'ETIMEDOUT' }, 'transient'],
    [{ code: 'ESOCKET' }, 'transient'],
    [{ code: 'EDNS' }, 'transient'],
    [{ code: 'ECONNREFUSED' }, 'transient'],
    [{ code: 'EENVELOPE', responseCode: 452 }, 'transient'],
    [{ code: 'EENVELOPE', responseCode: 550 }, 'permanent'],
    [{ code: 'EMESSAGE', responseCode: 552 }, 'permanent'],
    [{ code: 'EPROTOCOL', responseCode: 503 }, 'transient'],
    [{ code: 'EAUTH', responseCode: 535 }, 'transient'],
    [{ code: 'EENVELOPE' }, 'permanent'],
    [{ responseCode: 421 }, 'transient'],
    [new Error('something odd'), 'transient'],
    [undefined, 'transient'],
  ] as const)('%o is %s', (err, kind) => {
    expect(classifySendError(err)).toBe(kind);
  });

  it('only connection failures (and 421) fail over', () => {
    expect(isConnectionError({ code: 'ECONNECTION' })).toBe(true);
    expect(isConnectionError({ code: 'EENVELOPE', responseCode: 550 })).toBe(false);
    expect(isConnectionError({ code: 'EENVELOPE', responseCode: 451 })).toBe(false);
    expect(isConnectionError({ code: 'EPROTOCOL', responseCode: 421 })).toBe(true);
  });
});

describe('memory and null transports', () => {
  it('memory records messages and can fail on demand', async () => {
    const t = createMemoryTransport();
    const { msg } = digestMessage('mem@example.org');
    const r = await t.send(msg);
    expect(r).toMatchObject({ messageId: '<delivery-7@alerts.example.com>', accepted: ['mem@example.org'], rejected: [] });
    expect(t.messages).toEqual([msg]);
    t.failNext(Object.assign(new Error('greylisted'), { responseCode: 451 }));
    await expect(t.send(msg)).rejects.toThrow('greylisted');
    await t.send(msg);
    expect(t.messages).toHaveLength(2);
    t.clear();
    expect(t.messages).toHaveLength(0);
  });

  it('null accepts everything', async () => {
    const r = await createNullTransport().send(digestMessage('null@example.org').msg);
    expect(r.accepted).toEqual(['null@example.org']);
  });
});
