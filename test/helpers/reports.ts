import nodemailer from 'nodemailer';
import { startTestApp, type TestApp } from './app.js';
import type { TestSmtpServer } from './smtp.js';

// Bounces and complaint reports as relays and mailbox providers send them, and an SMTP client
// that hands them to the inbound listener the way a relay would.

/**
 * The service with the bounces role on a free loopback port (app.service.inbound.port), sending
 * through `smtp` with a VERP return path under bounces.news.example.
 */
export function startBounceApp(smtp: TestSmtpServer, env: Record<string, string> = {}): Promise<TestApp> {
  return startTestApp({
    ROLES: 'web,bounces',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'alerts@news.example',
    POSTAL_ADDRESS: '1 Fleet Street, London',
    BOUNCE_DOMAIN: 'bounces.news.example',
    INBOUND_SMTP_HOST: '127.0.0.1',
    INBOUND_SMTP_PORT: '0',
    SIGNUP_RATE_LIMIT: '1000',
    ...env,
  });
}

export interface SmtpOutcome {
  ok: boolean;
  response: string;
  responseCode?: number;
}

/** One message to the listener over SMTP (a fresh connection, no TLS); the refusal when refused. */
export async function sendToListener(port: number, o: { from?: string; to: string | string[]; raw: string | Buffer }): Promise<SmtpOutcome> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 10_000, socketTimeout: 20_000 });
  try {
    const info = await transport.sendMail({ envelope: { from: o.from ?? '', to: o.to }, raw: o.raw });
    return { ok: true, response: String(info.response) };
  } catch (err) {
    const e = err as { response?: string; responseCode?: number; message: string };
    return { ok: false, response: e.response ?? e.message, responseCode: e.responseCode };
  } finally {
    transport.close();
  }
}

/** The headers of the mail we sent, as a bounce or report returns them. */
export function returnedHeaders(raw: string): string {
  const end = raw.indexOf('\r\n\r\n');
  return end === -1 ? raw : raw.slice(0, end);
}

const CRLF = (lines: string[]) => lines.join('\r\n');

/** A Postfix-style delivery status notification (RFC 3464) for one recipient. */
export function dsn(o: { to: string; recipient: string; status: string; diagnostic: string; action?: string; original: string; boundary?: string }): string {
  const b = o.boundary ?? 'DSN-0123.1733138400/relay.news.example';
  return CRLF([
    'Return-Path: <>',
    'From: MAILER-DAEMON@relay.news.example (Mail Delivery System)',
    `To: ${o.to}`,
    'Subject: Undelivered Mail Returned to Sender',
    'Date: Wed, 2 Dec 2026 10:00:00 +0000',
    'Message-Id: <20261202100000.0A1B2C3D@relay.news.example>',
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${b}`,
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host relay.news.example.',
    '',
    "I'm sorry to have to inform you that your message could not",
    'be delivered to one or more recipients.',
    '',
    `--${b}`,
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; relay.news.example',
    'X-Postfix-Queue-ID: 0A1B2C3D',
    'Arrival-Date: Wed,  2 Dec 2026 09:59:58 +0000 (UTC)',
    '',
    `Final-Recipient: rfc822; ${o.recipient}`,
    `Original-Recipient: rfc822;${o.recipient}`,
    `Action: ${o.action ?? (o.status.startsWith('5') ? 'failed' : 'delayed')}`,
    `Status: ${o.status}`,
    'Remote-MTA: dns; mx.example.com',
    `Diagnostic-Code: smtp; ${o.diagnostic}`,
    '',
    `--${b}`,
    'Content-Description: Undelivered Message Headers',
    'Content-Type: text/rfc822-headers',
    '',
    o.original,
    '',
    `--${b}--`,
    '',
  ]);
}

/** An abuse report in the Abuse Reporting Format (RFC 5965), with the original message attached. */
export function arf(o: { to: string; originalMailFrom?: string; originalRcptTo: string; original: string; feedbackType?: string }): string {
  const b = 'part1_13d.2e68ed54_boundary';
  return CRLF([
    'From: <abuse@mailbox.example>',
    `To: <${o.to}>`,
    'Subject: FW: Japan news',
    'Date: Wed, 2 Dec 2026 11:00:00 +0000',
    'Message-ID: <report-7f3a@mailbox.example>',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${b}"`,
    '',
    `--${b}`,
    'Content-Type: text/plain; charset="US-ASCII"',
    'Content-Transfer-Encoding: 7bit',
    '',
    'This is an email abuse report for an email message received from IP',
    '192.0.2.1 on Wed, 2 Dec 2026 10:40:00 +0000.',
    '',
    `--${b}`,
    'Content-Type: message/feedback-report',
    '',
    `Feedback-Type: ${o.feedbackType ?? 'abuse'}`,
    'User-Agent: SomeGenerator/1.0',
    'Version: 1',
    ...(o.originalMailFrom ? [`Original-Mail-From: <${o.originalMailFrom}>`] : []),
    `Original-Rcpt-To: <${o.originalRcptTo}>`,
    'Received-Date: Wed, 2 Dec 2026 10:40:00 +0000',
    'Source-IP: 192.0.2.1',
    'Reported-Domain: news.example',
    '',
    `--${b}`,
    'Content-Type: message/rfc822',
    'Content-Disposition: inline',
    '',
    o.original,
    '',
    `--${b}--`,
    '',
  ]);
}
