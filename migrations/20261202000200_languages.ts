import { sql, type Kysely } from 'kysely';

// Readers in their own language.
// - A topic's name per language (names: {"ar": "اليابان"}); `name` stays the default (English).
// - The publisher's own words: any reader-facing message overridden per language.
// - A terms version's text per language (the version's own text is its default language's);
//   consent records which language's text was accepted, and its hash.

const up_statements = [
  `ALTER TABLE topics ADD COLUMN names jsonb NOT NULL DEFAULT '{}'`,
  `CREATE TABLE text_overrides (
    language text NOT NULL,
    key text NOT NULL,
    text text NOT NULL,
    updated_by text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (language, key)
  )`,
  // The language the consent text was shown in, and the language of the terms text accepted
  // (terms_sha256 is that text's hash): they differ when the terms lack the reader's language.
  `ALTER TABLE consent_events ADD COLUMN language text`,
  `ALTER TABLE consent_events ADD COLUMN terms_language text`,
  // The language of a version's own text; older versions were written in English.
  `ALTER TABLE terms_versions ADD COLUMN language text NOT NULL DEFAULT 'en'`,
  `CREATE TABLE terms_texts (
    version integer NOT NULL REFERENCES terms_versions (version),
    language text NOT NULL,
    title text NOT NULL,
    body_markdown text NOT NULL,
    body_sha256 text NOT NULL,
    published_by text,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (version, language)
  )`,
  // Published texts are never edited, like the versions they belong to.
  `CREATE TRIGGER terms_texts_immutable BEFORE UPDATE ON terms_texts FOR EACH ROW EXECUTE FUNCTION refuse_change()`,
];

const down_statements = [
  'DROP TABLE terms_texts',
  'ALTER TABLE terms_versions DROP COLUMN language',
  'ALTER TABLE consent_events DROP COLUMN terms_language',
  'ALTER TABLE consent_events DROP COLUMN language',
  'DROP TABLE text_overrides',
  'ALTER TABLE topics DROP COLUMN names',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of up_statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of down_statements) await sql.raw(statement).execute(db);
}
