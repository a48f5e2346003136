import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import type { TestApp } from './app.js';
import type { apiClient } from './api.js';
import { event, WEBHOOK_EVENT_TYPES } from '../../src/webhooks/index.js';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  payload: { type: string; timestamp: string; data: Record<string, any> };
  /** Which of the receiver's secrets verified it (standardwebhooks, as a receiver's code would). */
  verifiedWith: string[];
}

/**
 * A webhook receiver on 127.0.0.1: verifies each request's signature with the `standardwebhooks`
 * package against every secret it was given, keeps what arrived, and answers what `respond`
 * says (200 by default). Stop and start it again on the same port to play "down for a while".
 */
export class WebhookReceiver {
  received: ReceivedWebhook[] = [];
  secrets: string[] = [];
  respond: (w: ReceivedWebhook) => number | Promise<number> = () => 200;
  port = 0;
  private server: http.Server | undefined;

  get url() {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = { 'webhook-id': String(req.headers['webhook-id'] ?? ''), 'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''), 'webhook-signature': String(req.headers['webhook-signature'] ?? '') };
        const verifiedWith = this.secrets.filter((s) => {
          try {
            new Webhook(s).verify(body, headers);
            return true;
          } catch {
            return false;
          }
        });
        let payload: ReceivedWebhook['payload'];
        try {
          payload = JSON.parse(body);
        } catch {
          payload = { type: '?', timestamp: '', data: {} };
        }
        const w: ReceivedWebhook = { id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'], body, payload, verifiedWith };
        this.received.push(w);
        const status = await this.respond(w);
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status < 300 ? 'ok' : `no (${status})`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Received events (first arrival of each id), in arrival order. */
  unique(): ReceivedWebhook[] {
    const seen = new Set<string>();
    return this.received.filter((w) => (seen.has(w.id) ? false : (seen.add(w.id), true)));
  }

  /** How many times each id arrived more than once. */
  duplicates(): number {
    return this.received.length - this.unique().length;
  }
}

export type WebhookTestKit = ReturnType<typeof webhookTestKit>;

/** What the webhook tests do over and over, against one test app. */
export function webhookTestKit(app: TestApp, admin: Awaited<ReturnType<typeof apiClient>>) {
  const receivers: WebhookReceiver[] = [];
  return {
    async receiver(): Promise<WebhookReceiver> {
      const r = new WebhookReceiver();
      await r.start();
      receivers.push(r);
      return r;
    },
    /** An endpoint for `r` wanting `events`; the receiver learns its secret. */
    async endpoint(r: WebhookReceiver, events: readonly string[] = WEBHOOK_EVENT_TYPES): Promise<number> {
      const res = await admin.post('/api/v1/webhooks', { url: r.url, events, description: 'test receiver' });
      expect(res.status).toBe(201);
      r.secrets.push(res.body.secret);
      return res.body.webhook.id;
    },
    deliver: () => app.ctx.services.webhookDeliverer.runOnce(),
    /** Emits test events through the outbox, as a service would in its transaction. */
    async emit(list: { key: string; n: number }[]): Promise<void> {
      await app.ctx.repos.transaction((r) =>
        r.webhooks.emit(list.map(({ key, n }) => event('subscription.changed', key, { subscriberId: n, email: `s${n}@example.com`, subscriptions: [], source: `seq-${n}` })), app.clock.now()),
      );
    },
    /** Each test's endpoints end paused, so the next test's runs deliver only to its own. */
    async deactivateAll(): Promise<void> {
      for (const e of await app.ctx.services.webhooks.list()) if (e.active) await admin.patch(`/api/v1/webhooks/${e.id}`, { active: false });
    },
    async close(): Promise<void> {
      for (const r of receivers) await r.stop();
    },
  };
}
