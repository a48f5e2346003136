import net from 'node:net';
import { sql, type Kysely } from 'kysely';
import { SMTPServer } from 'smtp-server';
import type { Database } from '../../src/db/types.js';
import type { ServiceProcess } from './process.js';
import { listenSmtp } from './smtp.js';

// What the fault tests share: an SMTP sink that counts each delivery it accepts, due
// deliveries queued in one statement, and waiting on the database.

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type SmtpReply = { code: number; message: string } | undefined;

/**
 * An SMTP sink that counts accepted mail by X-Delivery-Id and RCPT attempts by address, answers
 * what the test tells it to, and can go down and come back on the same port.
 */
export class Sink {
  /** Accepted messages per X-Delivery-Id. */
  readonly accepted = new Map<string, number>();
  /** RCPT TO attempts per address (accepted or not). */
  readonly rcpt = new Map<string, number>();
  acceptedTotal = 0;
  deferred = 0;
  onRcpt: (address: string) => SmtpReply = () => undefined;
  /** Called for every complete message before it is accepted. */
  onMessage: (deliveryId: string) => SmtpReply = () => undefined;
  /** Called after a message is accepted (e.g. to take the server down mid-run). */
  afterAccept: (total: number) => void = () => {};
  private server: SMTPServer | undefined;
  port = 0;

  get url() {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      disableReverseLookup: true,
      logger: false,
      // close() ends idle pooled connections this soon instead of after 30 s
      closeTimeout: 200,
      size: 10 * 1024 * 1024,
      onRcptTo: (address, _session, callback) => {
        const a = address.address.toLowerCase();
        this.rcpt.set(a, (this.rcpt.get(a) ?? 0) + 1);
        const r = this.onRcpt(a);
        callback(r ? Object.assign(new Error(r.message), { responseCode: r.code }) : undefined);
      },
      onData: (stream, _session, callback) => {
        let head = '';
        stream.on('data', (c: Buffer) => {
          if (head.length < 16_384 && !head.includes('\r\n\r\n')) head += c.toString('latin1');
        });
        stream.on('end', () => {
          const id = /^X-Delivery-Id:\s*(\S+)/im.exec(head)?.[1] ?? '?';
          const r = this.onMessage(id);
          if (r) {
            if (r.code < 500) this.deferred++;
            return callback(Object.assign(new Error(r.message), { responseCode: r.code }));
          }
          this.accepted.set(id, (this.accepted.get(id) ?? 0) + 1);
          this.acceptedTotal++;
          callback();
          this.afterAccept(this.acceptedTotal);
        });
      },
    });
    // Lasting 'error' listeners: the SIGKILLed worker's connections reset mid-transaction.
    await listenSmtp(server, this.port);
    this.port = (server.server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  get running() {
    return this.server !== undefined;
  }

  /** Deliveries among `ids` accepted more than once, and those never accepted. */
  tally(ids: readonly number[]) {
    let duplicates = 0;
    let missing = 0;
    for (const id of ids) {
      const n = this.accepted.get(String(id)) ?? 0;
      if (n === 0) missing++;
      else duplicates += n - 1;
    }
    return { duplicates, missing };
  }
}

/** Five articles, so a 'test' delivery renders a real sample digest. */
export async function ensureArticles(db: Kysely<Database>): Promise<void> {
  await sql`
    INSERT INTO articles (url, title, summary, published_at)
    SELECT 'https://news.example/faults/' || g, 'Fault-test story ' || g, 'What happened in story ' || g, now() - g * interval '1 minute'
    FROM generate_series(1, 5) g
    ON CONFLICT (url) DO NOTHING`.execute(db);
}

/**
 * Queues `n` due deliveries of kind 'test' (each composes a sample digest of the newest
 * articles: real rendered mail) in one INSERT; `address(i)` picks the recipient.
 */
export async function queueDeliveries(db: Kysely<Database>, prefix: string, n: number, dueAt: Date, domain = 'example.com'): Promise<number[]> {
  const rows = await sql<{ id: number }>`
    INSERT INTO deliveries (kind, to_address, idempotency_key, message_id, payload, created_at, updated_at, next_attempt_at)
    SELECT 'test', ${prefix} || '-' || g || '@' || ${domain}, 'fault:' || ${prefix} || ':' || g, '<fault-' || ${prefix} || '-' || g || '@news.example>', '{}'::jsonb, ${dueAt}, ${dueAt}, ${dueAt}
    FROM generate_series(1, ${n}::int) g
    RETURNING id`.execute(db);
  return rows.rows.map((r) => Number(r.id));
}

export async function statusCounts(db: Kysely<Database>, ids: readonly number[]): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('id', 'in', ids)
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

export async function waitUntil(what: string, cond: () => Promise<boolean>, timeoutMs: number, procs: ServiceProcess[] = []): Promise<number> {
  const started = Date.now();
  while (!(await cond())) {
    for (const p of procs) if (p.child.exitCode !== null && p.child.signalCode === null) throw new Error(`a worker exited early:\n${p.output()}`);
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
  return Date.now() - started;
}
