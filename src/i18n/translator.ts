import { readFileSync } from 'node:fs';
import { IntlMessageFormat, type Formats, type Formatters } from 'intl-messageformat';
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { escapeHtml } from '../escape-html.js';
import { dirOf, languageOf, LANGUAGES, type Language } from './languages.js';

// Every word a reader sees, in ICU MessageFormat, one catalogue a language. English is complete
// by definition; another catalogue may lack a key (English shows) but never has a placeholder
// English lacks (a test checks both). The publisher's own words override any key per language.

export type Catalogue = Readonly<Record<string, string>>;

export function loadCatalogues(): Record<Language, Catalogue> {
  const out = {} as Record<Language, Catalogue>;
  for (const lang of LANGUAGES) out[lang] = JSON.parse(readFileSync(new URL(`./catalogues/${lang}.json`, import.meta.url), 'utf8')) as Catalogue;
  return out;
}

export type ArgKind = 'text' | 'number' | 'date';

/** The arguments (with what they are formatted as) and the tag names a message uses. */
export function messageNames(source: string): { args: Map<string, ArgKind>; tags: Set<string> } {
  const args = new Map<string, ArgKind>();
  const tags = new Set<string>();
  const walk = (els: MessageFormatElement[]) => {
    for (const el of els) {
      if (el.type === TYPE.literal || el.type === TYPE.pound) continue;
      if (el.type === TYPE.tag) {
        tags.add(el.value);
        walk(el.children);
        continue;
      }
      const kind: ArgKind = el.type === TYPE.date || el.type === TYPE.time ? 'date' : el.type === TYPE.number || el.type === TYPE.plural ? 'number' : 'text';
      if (!args.has(el.value) || kind !== 'text') args.set(el.value, kind);
      if (el.type === TYPE.plural || el.type === TYPE.select) for (const opt of Object.values(el.options)) walk(opt.value);
    }
  };
  walk(parse(source));
  return { args, tags };
}

/** A value for a message: lists (of strings or of things with a name) become "a, b and c". */
export type Value = string | number | Date | null | undefined | readonly unknown[] | { name?: unknown };
export type Values = Readonly<Record<string, Value>>;
/** What a tag of a rich message becomes: the HTML around its text. */
export type Tags = Readonly<Record<string, { open: string; close: string }>>;

/**
 * Named formats messages may use beyond ICU's own: `{expiresAt, date, expiry}` is a date with
 * the time and the zone (when a link stops working, the reader needs all three).
 */
export const NAMED_FORMATS: Partial<Formats> = {
  date: { expiry: { year: 'numeric', month: 'long', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' } },
};

// Markers for tag boundaries while the formatted text is escaped: private-use characters, which
// no message or value contains.
const OPEN = (i: number) => String.fromCharCode(0xe000 + 2 * i);
const CLOSE = (i: number) => String.fromCharCode(0xe001 + 2 * i);

interface Compiled {
  format: IntlMessageFormat;
  args: Map<string, ArgKind>;
  tags: string[];
  /** The text of a message without arguments, formatted once. */
  constant?: string;
  /**
   * Results by their arguments (and zone), for messages without tags. A digest run formats the
   * same few messages with the same values for many readers (same topics, same counts), and
   * IntlMessageFormat costs microseconds a call; bounded, so odd values cannot grow it.
   */
  results?: Map<string, string>;
}

const MEMO_LIMIT = 2_000;
const SEP = '\u0001';

/** The strings of one language, ready to format. */
export class Messages {
  readonly dir: 'ltr' | 'rtl';
  private readonly compiled = new Map<string, Compiled>();
  private readonly listFormat: Intl.ListFormat;
  private readonly lists = new Map<string, string>();
  /** The zone dates are shown in, for the format call under way (formatting is synchronous). */
  private zone = 'UTC';
  private readonly formatters: Formatters;

  constructor(
    readonly lang: Language,
    /** Catalogue with English beneath and the publisher's overrides on top. */
    readonly strings: Catalogue,
    /** The locale numbers, dates and lists are formatted for ("en-GB"); the language by default. */
    readonly locale: string = lang,
  ) {
    this.dir = dirOf(lang);
    this.listFormat = new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' });
    const dateFormats = new Map<string, Intl.DateTimeFormat>();
    const numberFormats = new Map<string, Intl.NumberFormat>();
    const pluralRules = new Map<string, Intl.PluralRules>();
    const memo = <T>(cache: Map<string, T>, key: string, make: () => T): T => {
      let v = cache.get(key);
      if (v === undefined) cache.set(key, (v = make()));
      return v;
    };
    this.formatters = {
      // A bad zone or date in the data must not stop a mail: UTC for the one, nothing for the other.
      getDateTimeFormat: (locales, opts) =>
        memo(dateFormats, `${this.zone}|${JSON.stringify([locales, opts])}`, () => {
          let f: Intl.DateTimeFormat;
          try {
            f = new Intl.DateTimeFormat(locales, { ...opts, timeZone: this.zone });
          } catch {
            f = new Intl.DateTimeFormat(locales, { ...opts, timeZone: 'UTC' });
          }
          return { format: (d?: Date | number) => (d === undefined || Number.isNaN(+d) ? '' : f.format(d)) } as Intl.DateTimeFormat;
        }),
      getNumberFormat: (locales, opts) => memo(numberFormats, JSON.stringify([locales, opts]), () => new Intl.NumberFormat(locales, opts)),
      getPluralRules: (locales, opts) => memo(pluralRules, JSON.stringify([locales, opts]), () => new Intl.PluralRules(locales, opts)),
    };
  }

  has(key: string): boolean {
    return this.strings[key] !== undefined;
  }

  /** The tag names of a message (`<terms>` of "… <terms>Terms & Conditions</terms>"). */
  tagsOf(key: string): readonly string[] {
    return this.compile(key).tags;
  }

  private compile(key: string): Compiled {
    let c = this.compiled.get(key);
    if (!c) {
      const source = this.strings[key];
      if (source === undefined) throw new Error(`no message "${key}" in any catalogue`);
      const names = messageNames(source);
      c = { format: new IntlMessageFormat(source, this.locale, NAMED_FORMATS, { formatters: this.formatters }), args: names.args, tags: [...names.tags] };
      if (c.args.size === 0 && c.tags.length === 0) c.constant = String(c.format.format());
      this.compiled.set(key, c);
    }
    return c;
  }

  private value(v: Value, kind: ArgKind): string | number | Date {
    if (v === null || v === undefined) return kind === 'number' ? 0 : '';
    if (kind === 'date') return v instanceof Date ? v : new Date(v as string | number);
    if (kind === 'number') return Number(v);
    if (Array.isArray(v)) return this.list(v);
    if (typeof v === 'object' && !(v instanceof Date)) return String((v as { name?: unknown }).name ?? '');
    return v as string | number | Date;
  }

  /** "Japan, NATO and Brexit" in this language; items may be strings or have a name. */
  list(items: readonly unknown[]): string {
    const names = items.map((i) => (i !== null && typeof i === 'object' ? String((i as { name?: unknown }).name ?? '') : String(i ?? '')));
    // Names holding the separator could make two keys alike: such a list is not memoised.
    if (names.some((n) => n.includes(SEP))) return this.listFormat.format(names);
    const key = names.join(SEP);
    let out = this.lists.get(key);
    if (out === undefined) {
      if (this.lists.size >= MEMO_LIMIT) this.lists.clear();
      this.lists.set(key, (out = this.listFormat.format(names)));
    }
    return out;
  }

  private run(key: string, values: Values | ((name: string) => Value), timeZone: string | undefined, tagFn: (tag: string, i: number) => (chunks: unknown[]) => string): string {
    const c = this.compile(key);
    if (c.constant !== undefined) return c.constant;
    const input: Record<string, unknown> = {};
    const get = typeof values === 'function' ? values : (name: string) => values[name];
    let memoKey: string | undefined = c.tags.length === 0 ? (timeZone ?? 'UTC') : undefined;
    for (const [name, kind] of c.args) {
      const v = (input[name] = this.value(get(name), kind));
      if (memoKey === undefined) continue;
      // A value holding the separator could make two keys alike: such a call is not memoised.
      if (typeof v === 'string' && v.includes(SEP)) memoKey = undefined;
      else memoKey += SEP + (v instanceof Date ? `d${v.getTime()}` : typeof v === 'number' ? `n${v}` : `s${v}`);
    }
    if (memoKey !== undefined) {
      const hit = c.results?.get(memoKey);
      if (hit !== undefined) return hit;
    }
    c.tags.forEach((tag, i) => (input[tag] = tagFn(tag, i)));
    this.zone = timeZone ?? 'UTC';
    const formatted = c.format.format(input as Record<string, string>);
    const out = Array.isArray(formatted) ? formatted.join('') : String(formatted);
    if (memoKey !== undefined) {
      c.results ??= new Map();
      if (c.results.size >= MEMO_LIMIT) c.results.clear();
      c.results.set(memoKey, out);
    }
    return out;
  }

  /** The text in pieces, each with the tag it is inside (if any): for a client that builds its own DOM. */
  segments(key: string, values: Values | ((name: string) => Value) = {}, timeZone?: string): { text: string; tag?: string }[] {
    const c = this.compile(key);
    if (c.constant !== undefined) return [{ text: c.constant }];
    const raw = this.run(key, values, timeZone, (_tag, i) => (chunks) => `${OPEN(i)}${chunks.join('')}${CLOSE(i)}`);
    const out: { text: string; tag?: string }[] = [];
    let rest = raw;
    for (;;) {
      let first = -1;
      let at = rest.length;
      c.tags.forEach((_t, i) => {
        const j = rest.indexOf(OPEN(i));
        if (j !== -1 && j < at) [first, at] = [i, j];
      });
      if (first === -1) break;
      const end = rest.indexOf(CLOSE(first), at);
      if (at > 0) out.push({ text: rest.slice(0, at) });
      out.push({ text: rest.slice(at + 1, end), tag: c.tags[first]! });
      rest = rest.slice(end + 1);
    }
    if (rest) out.push({ text: rest });
    return out;
  }

  /** Plain text (escape it where it goes into HTML); a rich message's tags keep only their text. */
  t(key: string, values: Values | ((name: string) => Value) = {}, timeZone?: string): string {
    return this.run(key, values, timeZone, () => (chunks) => chunks.join(''));
  }

  /**
   * HTML: the message and its values escaped, its tags (`<terms>Terms</terms>`) replaced by the
   * markup given for them (a tag without markup keeps only its text). Safe to insert as it is.
   */
  html(key: string, values: Values | ((name: string) => Value) = {}, tags: Tags = {}, timeZone?: string): string {
    const c = this.compile(key);
    if (c.constant !== undefined) return escapeHtml(c.constant);
    const raw = this.run(key, values, timeZone, (tag, i) => (tags[tag] ? (chunks) => `${OPEN(i)}${chunks.join('')}${CLOSE(i)}` : (chunks) => chunks.join('')));
    let out = escapeHtml(raw);
    c.tags.forEach((tag, i) => {
      const markup = tags[tag];
      if (markup) out = out.split(OPEN(i)).join(markup.open).split(CLOSE(i)).join(markup.close);
    });
    return out;
  }
}

/** Builds each language's Messages from the catalogues and the current overrides, and caches them. */
export class Translator {
  private cache = new Map<Language, Messages>();
  private overrides = new Map<Language, Map<string, string>>();

  constructor(private readonly catalogues: Record<Language, Catalogue>) {}

  get english(): Catalogue {
    return this.catalogues.en;
  }

  catalogue(lang: Language): Catalogue {
    return this.catalogues[lang];
  }

  /** Replaces the overrides (language → key → text); every language is rebuilt on next use. */
  setOverrides(overrides: Map<Language, Map<string, string>>): void {
    this.overrides = overrides;
    this.cache.clear();
  }

  messages(lang: Language): Messages {
    let m = this.cache.get(lang);
    if (!m) {
      m = new Messages(lang, { ...this.catalogues.en, ...this.catalogues[lang], ...Object.fromEntries(this.overrides.get(lang) ?? []) });
      this.cache.set(lang, m);
    }
    return m;
  }
}

let shipped: Record<Language, Catalogue> | undefined;
const shippedByLocale = new Map<string, Messages>();
/**
 * The shipped catalogues without overrides, for a BCP 47 tag ("en-GB": English words, British
 * dates): mail rendered outside a running service (tests, previews, benchmarks).
 */
export function shippedMessages(tag: string): Messages {
  let m = shippedByLocale.get(tag);
  if (!m) {
    shipped ??= loadCatalogues();
    const lang = languageOf(tag) ?? 'en';
    let locale = lang === languageOf(tag) ? tag : lang;
    try {
      new Intl.Locale(locale);
    } catch {
      locale = lang;
    }
    m = new Messages(lang, { ...shipped.en, ...shipped[lang] }, locale);
    if (shippedByLocale.size < 100) shippedByLocale.set(tag, m);
  }
  return m;
}
