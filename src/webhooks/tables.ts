import type { ColumnType, Generated } from 'kysely';

// The webhook tables (migrations/20261202000400_webhooks.ts), merged into the Database type.

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface WebhookEndpointsTable {
  id: Generated<number>;
  url: string;
  description: Generated<string>;
  events: string[];
  active: Generated<boolean>;
  disabled_reason: string | null;
  disabled_at: NullableTimestamp;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookEventsTable {
  seq: Generated<number>;
  id: string;
  type: string;
  subscriber_key: string;
  payload: ColumnType<unknown, string, string>;
  created_at: Timestamp;
}

export interface WebhookMessagesTable {
  id: Generated<number>;
  event_seq: number;
  endpoint_id: number;
  subscriber_key: string;
  status: Generated<'pending' | 'sending' | 'delivered'>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  lease_owner: string | null;
  lease_expires_at: NullableTimestamp;
  last_error: string | null;
  created_at: Timestamp;
  delivered_at: NullableTimestamp;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  message_id: number;
  endpoint_id: number;
  attempt: number;
  ok: boolean;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
  duration_ms: number;
  created_at: Timestamp;
}

export interface WebhookTables {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_events: WebhookEventsTable;
  webhook_messages: WebhookMessagesTable;
  webhook_attempts: WebhookAttemptsTable;
}
