import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { readerFlows } from '../helpers/flows.js';
import { dsn, returnedHeaders, sendToListener, startBounceApp } from '../helpers/reports.js';
import { testEngine } from '../helpers/db.js';

// The listener faces the internet. Whatever arrives (too big, cut off, in a charset nobody
// knows, nested without end, not mail at all) must not crash the process or lose anything: a
// message is either refused (the sending relay keeps it and reports back) or stored, and a
// stored message is recorded or kept for an admin.

let smtp: TestSmtpServer;
let app: TestApp;
let port: number;
let verp: string;
let original: string;
const MAX = 64 * 1024;

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await startBounceApp(smtp, {
    INBOUND_MAX_BYTES: String(MAX),
    INBOUND_RATE_LIMIT: '60',
    REPUTATION_MIN_DELIVERIES: '100000',
  });
  port = app.service.inbound!.port;
  const admin = await apiClient(app, ['admin']);
  await admin.post('/api/v1/topics', { slug: 'japan', name: 'Japan', query: 'japan' });
  await readerFlows(app, smtp).activeSubscriber('reader@example.com', ['japan'], 'instant');
  const confirmation = smtp.received.at(-1)!;
  verp = confirmation.mailFrom;
  original = returnedHeaders(confirmation.raw.toString('utf8'));
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

const stored = async () => (await app.ctx.services.inbound.recent(1000)).length;
const latest = async () => (await app.ctx.services.inbound.recent(1))[0]!;
const soft = (extra: Partial<Parameters<typeof dsn>[0]> = {}) => dsn({ to: verp, recipient: 'reader@example.com', status: '4.2.2', diagnostic: '452 4.2.2 Mailbox full', original, ...extra });

/** Speaks SMTP by hand up to DATA, sends part of a message and hangs up. */
async function hangUpMidData(partial: string): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  const reply = () =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = /^(\d{3}) .*\r\n/m.exec(buffer);
        if (m) {
          buffer = buffer.slice(m.index + m[0].length);
          socket.off('data', onData);
          resolve(m[1]!);
        }
      };
      const onData = (d: Buffer) => {
        buffer += d.toString('latin1');
        check();
      };
      socket.on('data', onData);
      socket.once('error', reject);
      check();
    });
  expect(await reply()).toBe('220');
  for (const [line, code] of [['EHLO hostile.example', '250'], ['MAIL FROM:<>', '250'], [`RCPT TO:<${verp}>`, '250'], ['DATA', '354']] as const) {
    socket.write(`${line}\r\n`);
    expect(await reply(), line).toBe(code);
  }
  socket.write(partial);
  await new Promise((r) => setTimeout(r, 50));
  socket.destroy();
}

describe(`hostile input to the inbound listener (${testEngine()})`, () => {
  it('refuses a message over INBOUND_MAX_BYTES at DATA, stores nothing, and carries on', async () => {
    const huge = soft().replace('This is the mail system', `${'x'.repeat(998)}\r\n`.repeat(Math.ceil((MAX * 2) / 1000)) + 'This is the mail system');
    expect(huge.length).toBeGreaterThan(MAX * 2);
    const r = await sendToListener(port, { to: verp, raw: huge });
    expect(r.ok).toBe(false);
    expect(r.responseCode).toBe(552);
    expect(await stored()).toBe(0);
    expect((await sendToListener(port, { to: verp, raw: soft() })).ok).toBe(true);
    expect(await latest()).toMatchObject({ status: 'processed', reportKind: 'dsn', outcome: { type: 'soft' } });
  });

  it('a connection cut in the middle of DATA leaves nothing half-stored (the relay still has it)', async () => {
    const before = await stored();
    const text = soft();
    await hangUpMidData(text.slice(0, Math.floor(text.length / 2)));
    await new Promise((r) => setTimeout(r, 200));
    expect(await stored()).toBe(before);
    expect((await sendToListener(port, { to: verp, raw: soft() })).ok).toBe(true);
    expect(await stored()).toBe(before + 1);
  });

  it('a truncated report is stored: recorded when its status survived, kept for a look when not', async () => {
    const text = soft();
    const afterStatus = text.slice(0, text.indexOf('Content-Description: Undelivered Message Headers'));
    expect((await sendToListener(port, { to: verp, raw: afterStatus })).ok).toBe(true);
    expect(await latest()).toMatchObject({ status: 'processed', outcome: { type: 'soft' } });
    const cut = text.slice(0, text.indexOf('Content-Type: message/delivery-status') + 20);
    expect((await sendToListener(port, { to: verp, raw: cut })).ok).toBe(true);
    const kept = await latest();
    expect(kept.status).toBe('unparseable');
    expect((await app.ctx.services.inbound.find(kept.id))!.raw.toString('latin1')).toBe(cut.endsWith('\r\n') ? cut : `${cut}\r\n`);
  });

  it('unknown charsets and bytes that are not UTF-8 do not stop a report being read', async () => {
    const odd = soft()
      .replace('Content-Type: text/plain; charset=us-ascii', 'Content-Type: text/plain; charset=x-no-such-charset')
      .replace('Content-Type: message/delivery-status', 'Content-Type: message/delivery-status; charset=utf-16')
      .replace('Reporting-MTA: dns; relay.news.example', 'Reporting-MTA: dns; relay.news.example\r\nX-Note: \u00ff\u00fe\u0080\u00c3(');
    const raw = Buffer.from(odd, 'latin1');
    expect((await sendToListener(port, { to: verp, raw })).ok).toBe(true);
    expect(await latest()).toMatchObject({ status: 'processed', outcome: { type: 'soft' } });
    const stranger = Buffer.concat([Buffer.from('Subject: =?x-unknown?B?AAAA?=\r\nContent-Type: text/plain; charset=x-unknown\r\nContent-Transfer-Encoding: base64\r\n\r\n'), Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x0d, 0x0a])]);
    expect((await sendToListener(port, { to: verp, raw: stranger })).ok).toBe(true);
    expect((await latest()).status).toBe('unparseable');
  });

  it('deeply nested multiparts neither crash nor hang; a report nested in them is still found', async () => {
    const depth = 300;
    let body = 'Content-Type: text/plain\r\n\r\nbottom\r\n';
    for (let i = depth; i > 0; i--) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
    const started = Date.now();
    expect((await sendToListener(port, { to: verp, raw: `Subject: nested\r\nMIME-Version: 1.0\r\n${body}` })).ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await latest()).status).toBe('unparseable');

    // A forwarding relay wrapped the DSN in two more layers.
    const report = soft();
    const split = report.indexOf('\r\n\r\n');
    const reportHead = report.slice(0, split).split('\r\n').filter((l) => /^(MIME-Version|Content-Type):/i.test(l)).join('\r\n');
    const wrapped = ['Subject: Fwd: bounce', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="outer"', '', '--outer', 'Content-Type: multipart/mixed; boundary="inner"', '', '--inner', reportHead, '', report.slice(split + 4), '--inner--', '--outer--', ''].join('\r\n');
    expect((await sendToListener(port, { to: verp, raw: wrapped })).ok).toBe(true);
    expect(await latest()).toMatchObject({ status: 'processed', outcome: { type: 'soft' } });
  });

  it('not mail at all is kept too; every accepted message has its row', async () => {
    const before = await stored();
    for (const raw of ['', '\r\n\r\n', 'no headers, just words\r\n', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256))]) {
      const r = await sendToListener(port, { to: verp, raw });
      expect(r.ok, r.response).toBe(true);
    }
    expect(await stored()).toBe(before + 4);
    const states = (await app.ctx.services.inbound.recent(4)).map((m) => m.status);
    expect(states.every((s) => s === 'unparseable' || s === 'ignored')).toBe(true);
    // And the process still answers.
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });

  it('limits each client: past INBOUND_RATE_LIMIT a minute it is told to come back later', async () => {
    let refused: number | undefined;
    for (let i = 0; i < 40 && refused === undefined; i++) {
      const r = await sendToListener(port, { to: verp, raw: soft() });
      if (!r.ok) refused = r.responseCode;
    }
    expect([421, 451]).toContain(refused);
  });
});
