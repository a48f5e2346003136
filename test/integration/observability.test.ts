import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { readerFlows } from '../helpers/flows.js';

let smtp: TestSmtpServer;
let app: TestApp;
let logs = '';
const sink = new Writable({
  write(chunk, _enc, cb) {
    logs += chunk.toString();
    cb();
  },
});

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await startTestApp({ SMTP_URL: smtp.url, LOG_LEVEL: 'trace', SIGNUP_RATE_LIMIT: '1000' }, { logDestination: sink });
  const admin = await apiClient(app);
  await admin.post('/api/v1/topics', { slug: 'japan', name: 'Japan', query: 'japan' });
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

describe('observability', () => {
  it('never writes an address, a token or a password to the log (signup, confirmation, login)', async () => {
    const flows = readerFlows(app, smtp);
    const email = 'Private.Person@Example.org';
    await flows.signup({ email, topics: ['japan'] });
    const [mail] = await flows.sendQueued();
    const confirmUrl = flows.linkTo(mail!, '/confirm/')!;
    const token = confirmUrl.split('/confirm/')[1]!;
    await fetch(confirmUrl);
    await fetch(confirmUrl, { method: 'POST' });
    const subscriber = (await app.ctx.repos.subscribers.findByEmail(email.toLowerCase()))!;
    const prefs = app.ctx.links.preferencesUrl(subscriber.id, app.clock.now());
    await fetch(prefs);

    const password = 'correct horse battery staple 42';
    await app.ctx.services.admin.createAdmin('ops@example.org', password, 'test');
    const loginPage = await fetch(`${app.url}/admin/login`);
    const cookie = (loginPage.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
    const nonce = (await loginPage.text()).match(/name="_login" value="([^"]+)"/)?.[1] ?? '';
    const login = await fetch(`${app.url}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ _login: nonce, email: 'ops@example.org', password, next: '/admin' }).toString(),
    });
    expect([302, 303]).toContain(login.status);
    const { token: apiToken } = await app.ctx.services.tokens.create('logged', ['admin'], 'test');
    await fetch(`${app.url}/api/v1/topics`, { headers: { authorization: `Bearer ${apiToken}` } });

    expect(logs.length).toBeGreaterThan(1000); // trace level: the requests above were logged
    for (const secret of [email, email.toLowerCase(), 'private.person', token, prefs.split('/preferences/')[1]!, password, apiToken, 'ops@example.org']) {
      expect(logs.toLowerCase(), `log contains ${secret}`).not.toContain(secret.toLowerCase());
    }
    expect(logs).toContain('[redacted]');
  });

  it('exposes Prometheus metrics', async () => {
    await fetch(`${app.url}/api/v1/prompt-events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topics: ['japan'], event: 'dismissed' }) });
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const name of [
      'topic_alerts_http_request_duration_seconds_bucket',
      'topic_alerts_signups_total 1',
      'topic_alerts_confirmations_total{outcome="confirmed"} 1',
      'topic_alerts_prompt_events_total{event="dismissed"} 1',
      'topic_alerts_send_duration_seconds_count',
      'topic_alerts_queue_depth{status="queued"}',
      'topic_alerts_sender_paused 0',
      'topic_alerts_match_duration_seconds',
      'topic_alerts_feed_errors_total',
      'topic_alerts_unsubscribes_total',
      'topic_alerts_deliveries_total',
    ]) {
      expect(text, name).toContain(name);
    }
    expect(text).toMatch(/route="\/confirm\/:token"/);
    expect(text).not.toMatch(/route="\/confirm\/[A-Za-z0-9_-]+\./);
  });
});
