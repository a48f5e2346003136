import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { WebhookTables } from '../webhooks/tables.js';

// Table types mirror migrations/. Columns with database defaults are Generated; timestamps are
// written as Date or left to now().

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/**
 * A partition key (migrations/20261203000200): a date, written as YYYY-MM-DD and never updated.
 * Read it as text (`::text`) if at all: the driver would turn a date into local midnight.
 */
type PartitionDay<Insert = string> = ColumnType<string, Insert, never>;
type Json = ColumnType<unknown, string, string>;

export type TopicStatus = 'active' | 'archived';
export type SubscriptionStatus = 'pending' | 'active' | 'unsubscribed' | 'declined' | 'expired';
/** How often a subscription's digests go out: the one list every schema and loop uses. */
export const FREQUENCIES = ['instant', 'daily', 'weekly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];
export type ConsentAction = 'requested' | 'confirmed' | 'declined' | 'withdrawn' | 'erased' | 'preferences-changed';
export type ConsentForm = 'widget' | 'hosted' | 'preferences' | 'api' | 'email' | 'one-click' | 'admin';
/** Every kind of mail the service sends (the deliveries.kind check constraint lists the same). */
export const DELIVERY_KINDS = ['confirmation', 'manage-link', 'digest', 'test'] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];
export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'bounced' | 'cancelled';
export type SuppressionReason = 'hard-bounce' | 'soft-bounce' | 'complaint' | 'erased' | 'manual' | 'unsubscribed';
export type PromptEvent = 'shown' | 'dismissed' | 'signup';
export type ApiScope = 'admin' | 'ingest' | 'bounces';

export interface TopicsTable {
  id: Generated<number>;
  slug: string;
  name: string;
  description: Generated<string>;
  query: string;
  normalized_query: string;
  status: Generated<TopicStatus>;
  prompt_priority: Generated<number>;
  prompt_hidden: Generated<boolean>;
  /** The topic's name per language ({"ar": "اليابان"}); `name` is the default. */
  names: ColumnType<Record<string, string>, string | undefined, string>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TextOverridesTable {
  language: string;
  key: string;
  text: string;
  updated_by: string | null;
  updated_at: Generated<Date>;
}

export interface TermsTextsTable {
  version: number;
  language: string;
  title: string;
  body_markdown: string;
  body_sha256: string;
  published_by: string | null;
  published_at: Generated<Date>;
}

export interface ArticlesTable {
  id: Generated<number>;
  external_id: string | null;
  url: string;
  title: string;
  summary: Generated<string>;
  body: Generated<string>;
  tags: Generated<string[]>;
  section: string | null;
  language: Generated<string>;
  published_at: Timestamp;
  search_vector: Generated<string>;
  content_hash: Generated<string>;
  source: Generated<string>;
  feed_id: number | null;
  /** The first article of this article's story (its own id when it starts one). */
  story_id: number | null;
  story_similarity: number | null;
  is_update: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ArticleSignaturesTable {
  article_id: number;
  published_at: Timestamp;
  shingles: number;
  /** 64 MinHash minimums, uint32 little-endian. */
  mins: Buffer | Uint8Array;
}

export interface SentStoriesTable {
  subscriber_id: number;
  story_id: number;
  edition: number;
  delivery_id: number | null;
  created_at: Generated<Date>;
  /** The month the story's first article was first seen: its partition. */
  story_month: PartitionDay;
}

export interface SettingsTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  updated_at: Generated<Date>;
}

export interface MatchesTable {
  article_id: number;
  topic_id: number;
  matched_at: Timestamp;
}

export interface SubscribersTable {
  id: Generated<number>;
  email: string;
  email_normalized: string;
  time_zone: Generated<string>;
  digest_hour: Generated<number>;
  digest_weekday: Generated<number>;
  language: Generated<string>;
  paused_until: NullableTimestamp;
  paused_indefinitely: Generated<boolean>;
  declined_until: NullableTimestamp;
  quiet_start: number | null;
  quiet_end: number | null;
  instant_daily_cap: number | null;
  instant_overflow_since: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SubscriptionsTable {
  id: Generated<number>;
  subscriber_id: number;
  topic_id: number;
  status: Generated<SubscriptionStatus>;
  frequency: Generated<Frequency>;
  requested_at: Timestamp;
  confirmed_at: NullableTimestamp;
  unsubscribed_at: NullableTimestamp;
  updated_at: Timestamp;
}

export interface TermsVersionsTable {
  version: number;
  title: string;
  body_markdown: string;
  body_sha256: string;
  placeholder: Generated<boolean>;
  published_by: string | null;
  published_at: Timestamp;
  /** The language of this text; translations are in terms_texts. */
  language: Generated<string>;
}

export interface ConsentEventsTable {
  id: Generated<number>;
  subscriber_id: number | null;
  action: ConsentAction;
  topics: Generated<string[]>;
  terms_version: number | null;
  terms_sha256: string | null;
  consent_text: string | null;
  consent_mode: 'checkbox' | 'statement' | null;
  source_url: string | null;
  form: ConsentForm | null;
  ip: string | null;
  user_agent: string | null;
  /** The language the reader saw the consent text in. */
  language: string | null;
  /** The language of the terms text accepted (terms_sha256 is its hash). */
  terms_language: string | null;
  created_at: Timestamp;
}

export interface PromptCountsTable {
  day: ColumnType<string, string, string>;
  topic_id: number;
  event: PromptEvent;
  count: Generated<number>;
}

export interface DeliveriesTable {
  id: Generated<number>;
  kind: DeliveryKind;
  subscriber_id: number | null;
  to_address: string | null;
  idempotency_key: string;
  status: Generated<DeliveryStatus>;
  payload: Json;
  message_id: string;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  lease_owner: string | null;
  lease_expires_at: NullableTimestamp;
  last_error: string | null;
  smtp_response: string | null;
  created_at: Timestamp;
  sent_at: NullableTimestamp;
  updated_at: Timestamp;
  run_id: number | null;
  /** The digest's slot date, else the UTC day it was queued (the default): its partition. */
  period_start: PartitionDay<string | undefined>;
}

export interface SentArticlesTable {
  subscriber_id: number;
  article_id: number;
  delivery_id: number;
  created_at: Timestamp;
  /** The month the article was first seen: its partition. */
  article_month: PartitionDay;
}

export interface SuppressionsTable {
  email_hash: string;
  reason: SuppressionReason;
  note: string | null;
  created_at: Timestamp;
}

export interface AdminUsersTable {
  id: Generated<number>;
  email: string;
  password_hash: string;
  created_at: Timestamp;
  last_login_at: NullableTimestamp;
}

export interface AdminSessionsTable {
  id_sha256: string;
  admin_user_id: number;
  csrf_token: string;
  ip: string | null;
  user_agent: string | null;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  token_sha256: string;
  scopes: ApiScope[];
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

/** The times of an address's recent mails of one kind, for its daily limit (see takeMailQuota). */
export interface MailQuotasTable {
  subscriber_id: number;
  kind: 'confirmation' | 'manage-link';
  sent_at: Date[];
}

export interface AuditLogTable {
  id: Generated<number>;
  actor: string;
  action: string;
  target: string | null;
  details: Json;
  created_at: Timestamp;
}

export interface FeedsTable {
  id: Generated<number>;
  url: string;
  name: Generated<string>;
  default_section: string | null;
  default_tags: Generated<string[]>;
  etag: string | null;
  last_modified: string | null;
  next_poll_at: Timestamp;
  lease_expires_at: NullableTimestamp;
  last_polled_at: NullableTimestamp;
  last_success_at: NullableTimestamp;
  last_error: string | null;
  last_error_at: NullableTimestamp;
  consecutive_failures: Generated<number>;
  items_seen: Generated<number>;
  created_at: Timestamp;
}

export interface AppStateTable {
  key: string;
  value: number;
  updated_at: Timestamp;
}

export interface ConfirmationRequestsTable {
  id: Generated<number>;
  subscriber_id: number;
  topic_ids: number[];
  frequency: Frequency;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  outcome: 'confirmed' | 'declined' | null;
  created_at: Timestamp;
}

export interface DevOutboxTable {
  id: Generated<number>;
  delivery_id: number | null;
  message_id: string;
  envelope_from: string | null;
  recipient: string;
  subject: string;
  headers: Json;
  raw_headers: Generated<string>;
  html: string;
  text: string;
  created_at: Timestamp;
}

export interface DigestRunsTable {
  id: Generated<number>;
  trigger: 'cron' | 'api' | 'cli' | 'test';
  status: Generated<'running' | 'finished' | 'failed' | 'skipped'>;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  subscribers_scanned: Generated<number>;
  deliveries_queued: Generated<number>;
  error: string | null;
}

export interface BounceEventsTable {
  id: Generated<number>;
  email_hash: string;
  delivery_id: number | null;
  kind: 'hard' | 'soft' | 'complaint';
  detail: string | null;
  created_at: Timestamp;
}

export type InboundStatus = 'received' | 'processed' | 'unparseable' | 'ignored';

/** A message the inbound SMTP listener accepted (src/deliverability). */
export interface InboundMessagesTable {
  id: Generated<number>;
  received_at: Timestamp;
  mail_from: string | null;
  rcpt_to: Generated<string[]>;
  remote_address: string | null;
  size: number;
  raw: Buffer | Uint8Array;
  status: Generated<InboundStatus>;
  report_kind: 'dsn' | 'arf' | null;
  outcome: ColumnType<unknown, string | null | undefined, string | null>;
  error: string | null;
  processed_at: NullableTimestamp;
}

export interface Database extends WebhookTables {
  inbound_messages: InboundMessagesTable;
  digest_runs: DigestRunsTable;
  bounce_events: BounceEventsTable;
  confirmation_requests: ConfirmationRequestsTable;
  dev_outbox: DevOutboxTable;
  feeds: FeedsTable;
  app_state: AppStateTable;
  topics: TopicsTable;
  articles: ArticlesTable;
  matches: MatchesTable;
  subscribers: SubscribersTable;
  subscriptions: SubscriptionsTable;
  terms_versions: TermsVersionsTable;
  consent_events: ConsentEventsTable;
  prompt_counts: PromptCountsTable;
  deliveries: DeliveriesTable;
  mail_quotas: MailQuotasTable;
  sent_articles: SentArticlesTable;
  sent_stories: SentStoriesTable;
  article_signatures: ArticleSignaturesTable;
  settings: SettingsTable;
  text_overrides: TextOverridesTable;
  terms_texts: TermsTextsTable;
  suppressions: SuppressionsTable;
  admin_users: AdminUsersTable;
  admin_sessions: AdminSessionsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
}

export type TopicRow = Selectable<TopicsTable>;
export type NewTopic = Insertable<TopicsTable>;
export type TopicUpdate = Updateable<TopicsTable>;
export type ArticleRow = Selectable<ArticlesTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type FeedRow = Selectable<FeedsTable>;
