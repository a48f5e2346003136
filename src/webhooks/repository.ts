import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import type { NewWebhookEvent } from './events.js';
import type { SignupWrite } from '../repositories/subscribers.js';
import { WebhookEndpointsRepository } from './endpoints-repository.js';
import type { SigningSecrets } from './signer.js';

export type { WebhookEndpoint } from './endpoints-repository.js';

// The webhook tables: endpoints, the outbox (events and one message per endpoint), attempts.
// Events are written by services inside the transaction of the change they report, so a
// rolled-back change leaves no event and a committed one always has its messages.

export interface ClaimedMessage {
  id: number;
  endpointId: number;
  attempts: number;
  eventId: string;
  body: string;
  /** Where it goes and the secrets that sign it, as the endpoint was when claimed. */
  endpoint: { url: string } & SigningSecrets;
}

export interface NewAttempt {
  messageId: number;
  endpointId: number;
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  durationMs: number;
}

export interface WebhookMessageView {
  id: number;
  eventId: string;
  type: string;
  status: string;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** An attempt as the console shows it. */
export interface WebhookAttempt extends Omit<NewAttempt, 'endpointId'> {
  id: number;
  eventId: string;
  type: string;
  createdAt: Date;
}

/** A stable, unguessable message id (the webhook-id header). */
export const newEventId = () => `msg_${randomBytes(16).toString('base64url')}`;

export class WebhooksRepository {
  constructor(private readonly db: Kysely<Database>) {
    this.endpoints = new WebhookEndpointsRepository(db);
  }

  /** The endpoints (their own table, written by WebhookService). */
  readonly endpoints: WebhookEndpointsRepository;

  // ---------------------------------------------------------------- the outbox

  /**
   * Writes events and one message for every active endpoint that wants each one's type, in one
   * statement (part of the caller's transaction). An event nobody wants is not stored at all.
   */
  async emit(events: readonly NewWebhookEvent[], now: Date): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((e) => ({ id: newEventId(), type: e.type, key: e.key, payload: { type: e.type, timestamp: now.toISOString(), data: e.data } }));
    await sql`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(id text, type text, key text, payload jsonb)
      ), ev AS (
        INSERT INTO webhook_events (id, type, subscriber_key, payload, created_at)
        SELECT i.id, i.type, i.key, i.payload, ${now} FROM input i
        WHERE EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.active AND i.type = ANY (e.events))
        RETURNING seq, type, subscriber_key
      )
      INSERT INTO webhook_messages (event_seq, endpoint_id, subscriber_key, next_attempt_at, created_at)
      SELECT ev.seq, e.id, ev.subscriber_key, ${now}, ${now}
      FROM ev JOIN webhook_endpoints e ON e.active AND ev.type = ANY (e.events)
      ORDER BY ev.seq, e.id`.execute(this.db);
  }

  /**
   * The signup statement's events: one 'subscriber.signup_requested' for each address the
   * statement wrote to (suppressed addresses write nothing, so they get no event either). Runs
   * in the signup's transaction, after it.
   */
  async emitSignups(items: readonly SignupWrite[], now: Date): Promise<void> {
    if (items.length === 0) return;
    const wanted = await this.db.selectFrom('webhook_endpoints').select('id').where('active', '=', true).where(sql<boolean>`'subscriber.signup_requested' = ANY (events)`).limit(1).executeTakeFirst();
    if (!wanted) return;
    const found = await this.db
      .selectFrom('subscribers as s')
      .select(['s.id', 's.email', 's.email_normalized', 's.language'])
      .where('s.email_normalized', 'in', items.map((i) => i.normalized))
      .execute();
    const suppressed = new Set(
      (await this.db.selectFrom('suppressions').select('email_hash').where('email_hash', 'in', items.map((i) => i.emailHash)).execute()).map((r) => r.email_hash),
    );
    const byAddress = new Map(found.map((s) => [s.email_normalized, s]));
    const events: NewWebhookEvent[] = [];
    for (const i of items) {
      const s = byAddress.get(i.normalized);
      if (!s || suppressed.has(i.emailHash)) continue;
      events.push({
        type: 'subscriber.signup_requested',
        key: `subscriber:${s.id}`,
        data: { subscriberId: s.id, email: s.email, topics: i.consent.topics, frequency: i.frequency, language: s.language, form: i.consent.form, sourceUrl: i.consent.sourceUrl },
      });
    }
    await this.emit(events, now);
  }

  /**
   * 'delivery.sent' for the deliveries the sender just recorded as sent at `now` (in the same
   * transaction as that record; rows another worker recorded are not this statement's).
   */
  async emitDeliveriesSent(ids: readonly number[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await sql`
      WITH ev AS (
        INSERT INTO webhook_events (id, type, subscriber_key, payload, created_at)
        SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), 'delivery.sent',
          coalesce('subscriber:' || d.subscriber_id, 'delivery:' || d.id),
          jsonb_build_object('type', 'delivery.sent', 'timestamp', ${now.toISOString()}::text,
            'data', jsonb_build_object('deliveryId', d.id, 'subscriberId', d.subscriber_id, 'kind', d.kind, 'messageId', d.message_id)),
          ${now}
        FROM deliveries d
        WHERE d.id IN (${sql.join(ids)}) AND d.status = 'sent' AND d.sent_at = ${now}
          AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.active AND 'delivery.sent' = ANY (e.events))
        ORDER BY d.id
        RETURNING seq, subscriber_key
      )
      INSERT INTO webhook_messages (event_seq, endpoint_id, subscriber_key, next_attempt_at, created_at)
      SELECT ev.seq, e.id, ev.subscriber_key, ${now}, ${now}
      FROM ev JOIN webhook_endpoints e ON e.active AND 'delivery.sent' = ANY (e.events)
      ORDER BY ev.seq, e.id`.execute(this.db);
  }

  /** Erasure: the address leaves every stored event of the subscriber (delivered ones too). */
  async scrubAddress(key: string): Promise<void> {
    await sql`UPDATE webhook_events SET payload = jsonb_set(payload, '{data,email}', 'null'::jsonb)
      WHERE subscriber_key = ${key} AND payload->'data' ? 'email' AND payload->'data'->>'email' IS NOT NULL`.execute(this.db);
  }

  /**
   * Claims up to `limit` due messages of active endpoints for `owner` until `leaseUntil`.
   * Guarantees: a message is held by one worker at a time (FOR UPDATE SKIP LOCKED); a message is
   * claimable only when every earlier message of its endpoint and subscriber key is delivered,
   * so one subscriber's events reach an endpoint in order and a claim holds at most one of them;
   * a dead worker's messages (lease expired) are claimable again; every claim counts an attempt.
   */
  async claim(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedMessage[]> {
    // The body is the payload's jsonb text: the same bytes on every attempt, and no parse and
    // re-serialise in the worker. The endpoint comes along so posting needs no second query.
    // Two plan guards, both measured after a burst into an outbox whose statistics say it is
    // all delivered (the usual state of a live one): the active endpoints as an array rather
    // than a join, so no hash join undoes the due index's order; and OFFSET 0 in the ordering
    // check, which keeps it a per-row probe of the order index on all three columns. As an
    // anti-join it was planned as a scan of every undelivered row per candidate: 100–450 ms a
    // claim at a 5,000-message backlog instead of 2 ms, and growing with the backlog.
    const r = await sql<{ id: number; endpoint_id: number; attempts: number; event_id: string; body: string; url: string; secret: string; previous_secret: string | null; previous_secret_expires_at: Date | null }>`
      WITH picked AS (
        SELECT m.id FROM webhook_messages m
        WHERE m.delivered_at IS NULL AND m.next_attempt_at <= ${now}
          AND m.endpoint_id = ANY (ARRAY(SELECT id FROM webhook_endpoints WHERE active))
          AND (m.status = 'pending' OR m.lease_expires_at < ${now})
          AND NOT EXISTS (
            SELECT 1 FROM webhook_messages p
            WHERE p.endpoint_id = m.endpoint_id AND p.subscriber_key = m.subscriber_key AND p.id < m.id AND p.delivered_at IS NULL
            OFFSET 0)
        ORDER BY m.next_attempt_at, m.id
        LIMIT ${limit}
        FOR UPDATE OF m SKIP LOCKED
      ), claimed AS (
        UPDATE webhook_messages m SET status = 'sending', lease_owner = ${owner}, lease_expires_at = ${leaseUntil}, attempts = m.attempts + 1
        -- = ANY(ARRAY(…)): by primary key; a join with the CTE was planned as a hash join over a
        -- sequential scan of the whole (ever-growing) table.
        WHERE m.id = ANY (ARRAY(SELECT id FROM picked))
        RETURNING m.id, m.endpoint_id, m.attempts, m.event_seq
      )
      SELECT c.id, c.endpoint_id, c.attempts, ev.id AS event_id, ev.payload::text AS body,
        e.url, e.secret, e.previous_secret, e.previous_secret_expires_at
      FROM claimed c JOIN webhook_events ev ON ev.seq = c.event_seq JOIN webhook_endpoints e ON e.id = c.endpoint_id
      ORDER BY c.id`.execute(this.db);
    return r.rows.map((m) => ({
      id: m.id,
      endpointId: m.endpoint_id,
      attempts: m.attempts,
      eventId: m.event_id,
      body: m.body,
      endpoint: { url: m.url, secret: m.secret, previousSecret: m.previous_secret, previousSecretExpiresAt: m.previous_secret_expires_at },
    }));
  }

  /**
   * Records a batch of POSTs in one statement: every attempt, and the successful ones delivered
   * (whoever holds them now: a slow worker's late success still counts).
   */
  async recordResults(list: readonly NewAttempt[], now: Date): Promise<void> {
    if (list.length === 0) return;
    const rows = list.map((a) => ({ m: a.messageId, e: a.endpointId, n: a.attempt, ok: a.ok, s: a.statusCode, err: a.error, body: a.responseBody, ms: a.durationMs }));
    await sql`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(m bigint, e bigint, n integer, ok boolean, s integer, err text, body text, ms integer)
      ), still AS (
        -- Its endpoint deleted meanwhile: nothing to record. (By primary key: EXISTS was
        -- planned as a hash join over the whole table.)
        SELECT id FROM webhook_messages WHERE id = ANY (ARRAY(SELECT m FROM input))
      ), attempts AS (
        INSERT INTO webhook_attempts (message_id, endpoint_id, attempt, ok, status_code, error, response_body, duration_ms, created_at)
        SELECT i.m, i.e, i.n, i.ok, i.s, i.err, i.body, i.ms, ${now} FROM input i JOIN still ON still.id = i.m
      )
      UPDATE webhook_messages SET status = 'delivered', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL, delivered_at = ${now}
      WHERE id = ANY (ARRAY(SELECT m FROM input WHERE ok)) AND status = 'sending'`.execute(this.db);
  }

  /**
   * Back to the queue, only while this worker holds the lease: after a failed attempt (with its
   * error, at `nextAttemptAt`), or claimed and never posted (the worker is stopping; the attempt
   * is not counted).
   */
  async requeue(ids: readonly number[], owner: string, r: { failed: { error: string; nextAttemptAt: Date } } | { unposted: true }): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('webhook_messages')
      .set({
        status: 'pending',
        lease_owner: null,
        lease_expires_at: null,
        ...('failed' in r ? { next_attempt_at: r.failed.nextAttemptAt, last_error: r.failed.error.slice(0, 1000) } : { attempts: sql<number>`greatest(attempts - 1, 0)` }),
      })
      .where('id', 'in', ids)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'sending')
      .execute();
  }

  // ---------------------------------------------------------------- the console's views

  async recentMessages(endpointId: number, limit: number): Promise<WebhookMessageView[]> {
    const rows = await this.db
      .selectFrom('webhook_messages as m')
      .innerJoin('webhook_events as ev', 'ev.seq', 'm.event_seq')
      .select(['m.id', 'ev.id as event_id', 'ev.type', 'm.status', 'm.attempts', 'm.next_attempt_at', 'm.last_error', 'm.created_at', 'm.delivered_at'])
      .where('m.endpoint_id', '=', endpointId)
      .orderBy('m.id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, eventId: r.event_id, type: r.type, status: r.status, attempts: r.attempts, nextAttemptAt: r.next_attempt_at, lastError: r.last_error, createdAt: r.created_at, deliveredAt: r.delivered_at }));
  }

  async recentAttempts(endpointId: number, limit: number): Promise<WebhookAttempt[]> {
    const rows = await this.db
      .selectFrom('webhook_attempts as a')
      .innerJoin('webhook_messages as m', 'm.id', 'a.message_id')
      .innerJoin('webhook_events as ev', 'ev.seq', 'm.event_seq')
      .select(['a.id', 'a.message_id', 'ev.id as event_id', 'ev.type', 'a.attempt', 'a.ok', 'a.status_code', 'a.error', 'a.response_body', 'a.duration_ms', 'a.created_at'])
      .where('a.endpoint_id', '=', endpointId)
      .orderBy('a.id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, messageId: r.message_id, eventId: r.event_id, type: r.type, attempt: r.attempt, ok: r.ok, statusCode: r.status_code, error: r.error, responseBody: r.response_body, durationMs: r.duration_ms, createdAt: r.created_at }));
  }

  /** Replays one message: a new message for the same event (same webhook-id), queued now. */
  async replay(endpointId: number, messageId: number, now: Date): Promise<number | undefined> {
    const row = await sql<{ id: number }>`
      INSERT INTO webhook_messages (event_seq, endpoint_id, subscriber_key, next_attempt_at, created_at)
      SELECT m.event_seq, m.endpoint_id, m.subscriber_key, ${now}, ${now} FROM webhook_messages m WHERE m.id = ${messageId} AND m.endpoint_id = ${endpointId}
      RETURNING id`.execute(this.db);
    return row.rows[0]?.id;
  }

  /** Messages per status of an endpoint. */
  async counts(endpointId: number): Promise<Record<string, number>> {
    const rows = await this.db.selectFrom('webhook_messages').select(['status', sql<number>`count(*)::int`.as('n')]).where('endpoint_id', '=', endpointId).groupBy('status').execute();
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}

export { newSecret } from './endpoints-repository.js';
