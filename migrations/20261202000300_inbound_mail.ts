import { sql, type Kysely } from 'kysely';

// The deliverability loop: every message the inbound SMTP listener accepts (bounces to the VERP
// return path, complaints as ARF reports) is stored before the relay is told 250, then parsed.
// A message that cannot be understood stays here, `unparseable`, for an admin to read: nothing
// the relay handed over is dropped. Processed messages keep their outcome for the console.

const up_statements = [
  `CREATE TABLE inbound_messages (
    id bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL,
    mail_from text,
    rcpt_to text[] NOT NULL DEFAULT '{}',
    remote_address text,
    size integer NOT NULL,
    raw bytea NOT NULL,
    status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'unparseable', 'ignored')),
    report_kind text CHECK (report_kind IN ('dsn', 'arf')),
    outcome jsonb,
    error text,
    processed_at timestamptz
  )`,
  // The console lists the unparseable ones; the retry job picks up what a crash left 'received'.
  `CREATE INDEX inbound_messages_status_idx ON inbound_messages (status, id)`,
  // Reputation figures count bounce and complaint events by day.
  `CREATE INDEX bounce_events_created_idx ON bounce_events (created_at)`,
  `CREATE INDEX bounce_events_delivery_idx ON bounce_events (delivery_id) WHERE delivery_id IS NOT NULL`,
  // ...over the deliveries sent recently (the last day, or the last 1,000).
  `CREATE INDEX deliveries_sent_at_idx ON deliveries (sent_at) WHERE sent_at IS NOT NULL`,
];

const down_statements = ['DROP INDEX deliveries_sent_at_idx', 'DROP INDEX bounce_events_delivery_idx', 'DROP INDEX bounce_events_created_idx', 'DROP TABLE inbound_messages'];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of up_statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of down_statements) await sql.raw(statement).execute(db);
}
