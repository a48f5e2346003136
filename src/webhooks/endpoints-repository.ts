import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.js';

// The webhook endpoints: a publisher's URL, the events it wants, its signing secret and the
// previous one during a rotation, and why it was disabled.

export interface WebhookEndpoint {
  id: number;
  url: string;
  description: string;
  events: string[];
  active: boolean;
  disabledReason: string | null;
  disabledAt: Date | null;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const ENDPOINT_COLUMNS = ['id', 'url', 'description', 'events', 'active', 'disabled_reason', 'disabled_at', 'secret', 'previous_secret', 'previous_secret_expires_at', 'created_at', 'updated_at'] as const;

type EndpointRow = { id: number; url: string; description: string; events: string[]; active: boolean; disabled_reason: string | null; disabled_at: Date | null; secret: string; previous_secret: string | null; previous_secret_expires_at: Date | null; created_at: Date; updated_at: Date };

const toEndpoint = (r: EndpointRow): WebhookEndpoint => ({
  id: r.id, url: r.url, description: r.description, events: r.events, active: r.active, disabledReason: r.disabled_reason, disabledAt: r.disabled_at,
  secret: r.secret, previousSecret: r.previous_secret, previousSecretExpiresAt: r.previous_secret_expires_at, createdAt: r.created_at, updatedAt: r.updated_at,
});

export class WebhookEndpointsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(e: { url: string; description: string; events: string[]; active: boolean; secret: string; now: Date }): Promise<WebhookEndpoint> {
    const row = await this.db
      .insertInto('webhook_endpoints')
      .values({ url: e.url, description: e.description, events: e.events, active: e.active, secret: e.secret, created_at: e.now, updated_at: e.now })
      .returning(ENDPOINT_COLUMNS)
      .executeTakeFirstOrThrow();
    return toEndpoint(row);
  }

  async find(id: number): Promise<WebhookEndpoint | undefined> {
    const row = await this.db.selectFrom('webhook_endpoints').select(ENDPOINT_COLUMNS).where('id', '=', id).executeTakeFirst();
    return row && toEndpoint(row);
  }

  async list(): Promise<WebhookEndpoint[]> {
    return (await this.db.selectFrom('webhook_endpoints').select(ENDPOINT_COLUMNS).orderBy('id').execute()).map(toEndpoint);
  }

  async update(
    id: number,
    c: { url?: string; description?: string; events?: string[]; active?: boolean; secret?: string; previousSecret?: string | null; previousSecretExpiresAt?: Date | null; now: Date },
  ): Promise<WebhookEndpoint | undefined> {
    const row = await this.db
      .updateTable('webhook_endpoints')
      .set({
        ...(c.url !== undefined && { url: c.url }),
        ...(c.description !== undefined && { description: c.description }),
        ...(c.events !== undefined && { events: c.events }),
        ...(c.active !== undefined && { active: c.active }),
        // re-enabling clears the reason it was disabled for
        ...(c.active === true && { disabled_reason: null, disabled_at: null }),
        ...(c.secret !== undefined && { secret: c.secret }),
        ...(c.previousSecret !== undefined && { previous_secret: c.previousSecret }),
        ...(c.previousSecretExpiresAt !== undefined && { previous_secret_expires_at: c.previousSecretExpiresAt }),
        updated_at: c.now,
      })
      .where('id', '=', id)
      .returning(ENDPOINT_COLUMNS)
      .executeTakeFirst();
    return row && toEndpoint(row);
  }

  /** Re-enabled endpoints start their waiting messages afresh, in order, now. */
  async restartMessages(endpointId: number, now: Date): Promise<void> {
    await this.db.updateTable('webhook_messages').set({ attempts: 0, next_attempt_at: now }).where('endpoint_id', '=', endpointId).where('status', '=', 'pending').execute();
  }

  /** Disables an endpoint with the reason shown in the console; only if still active. */
  async disable(id: number, reason: string, now: Date): Promise<boolean> {
    const r = await this.db.updateTable('webhook_endpoints').set({ active: false, disabled_reason: reason, disabled_at: now, updated_at: now }).where('id', '=', id).where('active', '=', true).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(id: number): Promise<boolean> {
    const r = await this.db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

}

/** A new signing secret in the Standard Webhooks format: whsec_ + base64 of 32 random bytes. */
export const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
