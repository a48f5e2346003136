import { sql, type Kysely } from 'kysely';

// Admin console sessions. The cookie carries 256 random bits; only their SHA-256 is stored, so a
// copy of the database does not let anyone log in. Each session has its own CSRF token (checked
// on every console POST), an absolute expiry and a last-seen time.

const up_statements = [
  `CREATE TABLE admin_sessions (
    id_sha256 text PRIMARY KEY,
    admin_user_id integer NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    ip text,
    user_agent text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
  )`,
  `CREATE INDEX admin_sessions_user_idx ON admin_sessions (admin_user_id)`,
  `CREATE INDEX admin_sessions_expiry_idx ON admin_sessions (expires_at)`,
  // Admin addresses compare case-insensitively: one account per address however it is typed.
  `CREATE UNIQUE INDEX admin_users_email_lower_idx ON admin_users (lower(email))`,
];

const down_statements = [
  'DROP INDEX admin_users_email_lower_idx',
  'DROP TABLE admin_sessions',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of up_statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of down_statements) await sql.raw(statement).execute(db);
}
