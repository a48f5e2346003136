import { simpleParser, type ParsedMail } from 'mailparser';
import type { TestApp } from './app.js';
import type { TestSmtpServer } from './smtp.js';

/** The reader's flows over HTTP, shared by the integration tests. */
export function readerFlows(app: TestApp, smtp: TestSmtpServer) {
  async function widgetToken(): Promise<{ formToken: string; termsVersion: number }> {
    const res = await fetch(`${app.url}/api/v1/widget-config`);
    const body = (await res.json()) as { formToken: string; consent: { termsVersion: number } };
    return { formToken: body.formToken, termsVersion: body.consent.termsVersion };
  }

  /** Signs up as the widget would: a real form token, then a wait past the time trap. */
  async function signup(fields: Record<string, unknown>, opts: { contentType?: 'json' | 'form'; wait?: boolean; headers?: Record<string, string> } = {}) {
    const { formToken, termsVersion } = await widgetToken();
    if (opts.wait !== false) app.clock.advance(3000);
    const body = { topics: ['japan'], frequency: 'daily', acceptTerms: true, termsVersion, formToken, sourceUrl: 'https://news.example/article', website: '', ...fields };
    const form = opts.contentType === 'form';
    const res = await fetch(`${app.url}/api/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', 'user-agent': 'LifecycleTest/1.0', ...opts.headers },
      body: form
        ? new URLSearchParams(Object.entries(body).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, String(x)]) : [[k, String(v)]]))).toString()
        : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  /** Runs the sender and returns the mails it delivered to the test SMTP server, parsed, with their raw text. */
  async function sendQueued(): Promise<(ParsedMail & { raw: string })[]> {
    const before = smtp.received.length;
    await app.ctx.services.sender.runOnce();
    return Promise.all(smtp.received.slice(before).map(async (m) => Object.assign(await simpleParser(m.raw), { raw: m.raw.toString('utf8') })));
  }

  function links(mail: ParsedMail): string[] {
    return [...new Set((mail.html || '').match(/https?:\/\/[^"'\s<>]+/g) ?? [])].map((u) => u.replace(/&amp;/g, '&').replace(/&#x3D;/g, '='));
  }
  const linkTo = (mail: ParsedMail, path: string) => links(mail).find((u) => u.startsWith(`${app.url}${path}`));

  /** Signs up, sends the confirmation, confirms it: an active subscriber. */
  async function activeSubscriber(email: string, topics: string[], frequency = 'daily') {
    await signup({ email, topics, frequency });
    const mails = await sendQueued();
    const mail = mails.find((m) => m.to && 'text' in m.to && m.to.text.toLowerCase() === email.toLowerCase());
    if (!mail) throw new Error(`no confirmation mail for ${email}`);
    const res = await fetch(linkTo(mail, '/confirm/')!, { method: 'POST' });
    if (res.status !== 200) throw new Error(`confirmation failed: ${res.status}`);
    return (await app.ctx.repos.subscribers.findByEmail(email.toLowerCase()))!;
  }

  const recipient = (m: ParsedMail) => (m.to && 'text' in m.to ? m.to.text.toLowerCase() : '');

  return { widgetToken, signup, sendQueued, links, linkTo, activeSubscriber, recipient };
}
