import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

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
