import { sql, type Kysely } from 'kysely';

// The history tables that grow by millions of rows a day become monthly range partitions, so
// retention drops a partition instead of deleting rows (src/history):
// - deliveries by `period_start`: a digest's slot date (taken from its idempotency key), else the
//   UTC day it was queued. The same key always comes to the same period, so the unique key
//   (idempotency_key, period_start) is as strong as a unique idempotency_key: a digest is still
//   queued once, across partitions. Other kinds carry a fresh id in their key.
// - sent_articles by `article_month` and sent_stories by `story_month`: the month the article
//   (the story's first article) was first seen. That is a function of the article (story), so
//   the primary keys with it added still say "this article, this story edition, once per
//   subscriber" across partitions; digests never offer articles older than the claims' retention,
//   so dropping an expired month cannot let one through again.
// - consent_events by `created_at`.
// Each table also gets a DEFAULT partition, a safety net for rows outside the months created so
// far (the worker creates months ahead and moves such rows out). Foreign keys *to* deliveries
// (from sent_articles, sent_stories, bounce_events) go: a partitioned table's unique keys must
// include its partition key, and those references are kept by the code (claims are written with
// their delivery; bounce events keep the id as a plain reference).
// Existing rows are copied with their ids; identity sequences continue after the largest id.

interface Spec {
  table: string;
  /** The partition key column, added to the table (unless it is already a column) and how existing rows get it. */
  key: { column: string; type: 'date' | 'timestamptz'; add?: { from: string; expression: string } };
  identity: boolean;
  primaryKey: string[];
  uniques: { name: string; columns: string[] }[];
  indexes: string[];
  foreignKeys: string[];
  triggers: string[];
}

const dayOf = (column: string) => `(${column} AT TIME ZONE 'UTC')::date`;
const monthOf = (column: string) => `date_trunc('month', ${column} AT TIME ZONE 'UTC')::date`;

const SPECS: Spec[] = [
  {
    table: 'deliveries',
    key: {
      column: 'period_start',
      type: 'date',
      add: {
        from: 'deliveries t',
        expression: `CASE WHEN t.kind = 'digest' AND t.idempotency_key ~ '^digest:[0-9]+:[a-z]+:[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN substring(t.idempotency_key from ':([0-9]{4}-[0-9]{2}-[0-9]{2})')::date ELSE ${dayOf('t.created_at')} END`,
      },
    },
    identity: true,
    primaryKey: ['id', 'period_start'],
    uniques: [{ name: 'deliveries_idempotency_key_key', columns: ['idempotency_key', 'period_start'] }],
    indexes: [
      `CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at, id) WHERE status = 'queued'`,
      `CREATE INDEX deliveries_kind_subscriber_idx ON deliveries (subscriber_id, kind, created_at)`,
      `CREATE INDEX deliveries_lease_idx ON deliveries (lease_expires_at) WHERE status = 'sending'`,
      `CREATE INDEX deliveries_message_id_idx ON deliveries (message_id)`,
      `CREATE INDEX deliveries_run_idx ON deliveries (run_id, status) WHERE run_id IS NOT NULL`,
      `CREATE INDEX deliveries_sent_at_idx ON deliveries (sent_at) WHERE sent_at IS NOT NULL`,
    ],
    foreignKeys: [
      `ALTER TABLE deliveries ADD CONSTRAINT deliveries_run_id_fkey FOREIGN KEY (run_id) REFERENCES digest_runs (id) ON DELETE SET NULL`,
      `ALTER TABLE deliveries ADD CONSTRAINT deliveries_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES subscribers (id) ON DELETE SET NULL`,
    ],
    triggers: [],
  },
  {
    table: 'sent_articles',
    key: { column: 'article_month', type: 'date', add: { from: 'sent_articles t JOIN articles a ON a.id = t.article_id', expression: monthOf('a.created_at') } },
    identity: false,
    primaryKey: ['subscriber_id', 'article_id', 'article_month'],
    uniques: [],
    indexes: [`CREATE INDEX sent_articles_delivery_idx ON sent_articles (delivery_id)`],
    foreignKeys: [
      `ALTER TABLE sent_articles ADD CONSTRAINT sent_articles_article_id_fkey FOREIGN KEY (article_id) REFERENCES articles (id) ON DELETE CASCADE`,
      `ALTER TABLE sent_articles ADD CONSTRAINT sent_articles_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES subscribers (id) ON DELETE CASCADE`,
    ],
    triggers: [],
  },
  {
    table: 'sent_stories',
    key: {
      column: 'story_month',
      type: 'date',
      // A story whose first article is gone keeps a fixed month (it lands in the default partition).
      add: { from: 'sent_stories t LEFT JOIN articles a ON a.id = t.story_id', expression: `coalesce(${monthOf('a.created_at')}, DATE '1970-01-01')` },
    },
    identity: false,
    primaryKey: ['subscriber_id', 'story_id', 'edition', 'story_month'],
    uniques: [],
    indexes: [`CREATE INDEX sent_stories_delivery_idx ON sent_stories (delivery_id)`],
    foreignKeys: [`ALTER TABLE sent_stories ADD CONSTRAINT sent_stories_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES subscribers (id) ON DELETE CASCADE`],
    triggers: [],
  },
  {
    table: 'consent_events',
    key: { column: 'created_at', type: 'timestamptz' },
    identity: true,
    primaryKey: ['id', 'created_at'],
    uniques: [],
    indexes: [
      `CREATE INDEX consent_events_day_idx ON consent_events (created_at, action)`,
      `CREATE INDEX consent_events_subscriber_idx ON consent_events (subscriber_id, created_at)`,
    ],
    foreignKeys: [
      `ALTER TABLE consent_events ADD CONSTRAINT consent_events_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES subscribers (id) ON DELETE SET NULL`,
      `ALTER TABLE consent_events ADD CONSTRAINT consent_events_terms_version_fkey FOREIGN KEY (terms_version) REFERENCES terms_versions (version)`,
    ],
    // Append-only: the record of consent cannot be rewritten (DELETE stays allowed: erasure, retention).
    triggers: [`CREATE TRIGGER consent_events_append_only BEFORE UPDATE ON consent_events FOR EACH ROW EXECUTE FUNCTION refuse_change()`],
  },
];

/** First days of the months from `from`'s month to `to`'s month, as YYYY-MM-DD. */
function monthStarts(from: Date, to: Date): string[] {
  const out: string[] = [];
  for (let y = from.getUTCFullYear(), m = from.getUTCMonth(); y < to.getUTCFullYear() || (y === to.getUTCFullYear() && m <= to.getUTCMonth()); m === 11 ? ((m = 0), y++) : m++) {
    out.push(`${y}-${String(m + 1).padStart(2, '0')}-01`);
  }
  return out;
}

function nextMonth(start: string): string {
  const [y, m] = start.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}

const bound = (type: Spec['key']['type'], day: string) => (type === 'date' ? `'${day}'` : `'${day} 00:00:00+00'`);

async function exec(db: Kysely<unknown>, statement: string): Promise<void> {
  await sql.raw(statement).execute(db);
}

/** Moves one table's rows into a new table (partitioned or not) of the same name, with its keys, indexes and references. */
async function rebuild(db: Kysely<unknown>, spec: Spec, partitioned: boolean): Promise<void> {
  const { table, key } = spec;
  const tmp = `${table}_rebuild`;
  const added = key.add && partitioned;
  await exec(db, `CREATE TABLE ${tmp} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS${added ? `, ${key.column} ${key.type} NOT NULL` : ''})${partitioned ? ` PARTITION BY RANGE (${key.column})` : ''}`);
  // Non-digest deliveries are filed under the day they are queued; claims always say their month.
  if (added && key.column === 'period_start') await exec(db, `ALTER TABLE ${tmp} ALTER COLUMN period_start SET DEFAULT ${dayOf('now()')}`);
  if (key.add && !partitioned) await exec(db, `ALTER TABLE ${tmp} DROP COLUMN ${key.column}`);
  if (partitioned) {
    // Months from the oldest row's to two months ahead, then the default partition.
    // (The fixed month of a story without its first article stays in the default partition.)
    const expression = key.add ? key.add.expression : `t.${key.column}`;
    const range = await sql<{ lo: Date | null }>`SELECT min(${sql.raw(expression)})::timestamptz AS lo FROM ${sql.raw(key.add ? key.add.from : `${table} t`)} WHERE ${sql.raw(expression)} >= DATE '2000-01-01'`.execute(db);
    const now = new Date();
    const lo = range.rows[0]?.lo && range.rows[0].lo < now ? range.rows[0].lo : now;
    const ahead = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1));
    for (const start of monthStarts(lo, ahead)) {
      await exec(db, `CREATE TABLE ${table}_p${start.slice(0, 7).replace('-', '')} PARTITION OF ${tmp} FOR VALUES FROM (${bound(key.type, start)}) TO (${bound(key.type, nextMonth(start))})`);
    }
    await exec(db, `CREATE TABLE ${table}_default PARTITION OF ${tmp} DEFAULT`);
  }
  const columns = (await sql<{ name: string }>`SELECT attname AS name FROM pg_attribute WHERE attrelid = ${table}::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`.execute(db)).rows.map((r) => r.name);
  if (added) {
    await exec(db, `INSERT INTO ${tmp} (${[...columns, key.column].join(', ')}) SELECT ${columns.map((c) => `t.${c}`).join(', ')}, ${key.add!.expression} FROM ${key.add!.from}`);
  } else {
    const keep = key.add ? columns.filter((c) => c !== key.column) : columns;
    await exec(db, `INSERT INTO ${tmp} (${keep.join(', ')}) SELECT ${keep.join(', ')} FROM ${table}`);
  }
  // CASCADE: the references to deliveries from sent_articles, sent_stories and bounce_events.
  await exec(db, `DROP TABLE ${table} CASCADE`);
  await exec(db, `ALTER TABLE ${tmp} RENAME TO ${table}`);
  if (spec.identity) {
    await exec(db, `ALTER TABLE ${table} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY`);
    await exec(db, `SELECT setval(pg_get_serial_sequence('${table}', 'id'), coalesce((SELECT max(id) FROM ${table}), 0) + 1, false)`);
  }
  const withKey = (cols: string[]) => (partitioned ? cols : cols.filter((c) => c !== key.column));
  await exec(db, `ALTER TABLE ${table} ADD CONSTRAINT ${table}_pkey PRIMARY KEY (${withKey(spec.primaryKey).join(', ')})`);
  for (const u of spec.uniques) await exec(db, `ALTER TABLE ${table} ADD CONSTRAINT ${u.name} UNIQUE (${withKey(u.columns).join(', ')})`);
  for (const s of [...spec.indexes, ...spec.foreignKeys, ...spec.triggers]) await exec(db, s);
}

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const spec of SPECS) await rebuild(db, spec, true);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const spec of [...SPECS].reverse()) await rebuild(db, spec, false);
  // The references come back: claims of deliveries retention dropped go (as the cascade would
  // have taken them), their story claims and bounce events keep no delivery.
  await exec(db, `DELETE FROM sent_articles sa WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = sa.delivery_id)`);
  await exec(db, `UPDATE sent_stories SET delivery_id = NULL WHERE delivery_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = sent_stories.delivery_id)`);
  await exec(db, `ALTER TABLE sent_articles ADD CONSTRAINT sent_articles_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES deliveries (id) ON DELETE CASCADE`);
  await exec(db, `ALTER TABLE sent_stories ADD CONSTRAINT sent_stories_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES deliveries (id) ON DELETE SET NULL`);
  await exec(db, `UPDATE bounce_events SET delivery_id = NULL WHERE delivery_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = bounce_events.delivery_id)`);
  await exec(db, `ALTER TABLE bounce_events ADD CONSTRAINT bounce_events_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES deliveries (id) ON DELETE SET NULL`);
}
