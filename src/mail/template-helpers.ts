// The Handlebars helpers of the mail templates (dates, plurals, lists, safe links), shared by
// both fill engines. Formatters are cached: building an Intl object costs ~20x a format call.
import Handlebars from 'handlebars';
import type { FillHelper } from './fill.js';
import { MESSAGE_HELPERS } from './message-helpers.js';

type DateStyle = 'long' | 'short' | 'date' | 'time';

const DATE_STYLES: Record<DateStyle, Intl.DateTimeFormatOptions> = {
  // an expiry: the reader needs the zone to know when exactly
  long: { year: 'numeric', month: 'long', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' },
  short: { dateStyle: 'medium', timeStyle: 'short' },
  date: { dateStyle: 'long' },
  time: { timeStyle: 'short' },
};

const pluralRules = new Map<string, Intl.PluralRules>();
const listFormats = new Map<string, Intl.ListFormat>();

function cached<T>(cache: Map<string, T>, key: string, make: () => T, fallback: () => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    try {
      value = make();
    } catch {
      // an unknown locale or time zone in the data must not stop a send
      value = fallback();
    }
    cache.set(key, value);
  }
  return value;
}

/**
 * A date format with a memo of what it produced. The recipients of one digest run share their
 * articles, so the same instants are formatted over and over (and twice per mail: HTML and text);
 * a Map lookup is ~20x cheaper than Intl's format().
 */
interface MemoFormat {
  format(date: Date): string;
}

const MEMO_LIMIT = 20_000;

function memoFormat(fmt: Intl.DateTimeFormat): MemoFormat {
  let memo = new Map<number, string>();
  return {
    format(date) {
      const t = date.getTime();
      let s = memo.get(t);
      if (s === undefined) {
        s = fmt.format(date);
        if (memo.size >= MEMO_LIMIT) memo = new Map();
        memo.set(t, s);
      }
      return s;
    },
  };
}

// lang → time zone → style, so the per-call lookup builds no key string
const dateFormats = new Map<string, Map<string, Map<DateStyle, MemoFormat>>>();

// the formats of the last language and zone asked for: a mail asks ~30 times for the same pair
let lastLang: string | undefined;
let lastZone: string | undefined;
let lastByStyle: Map<DateStyle, MemoFormat> | undefined;

function dateFormat(lang: string, timeZone: string, style: DateStyle): MemoFormat {
  let byStyle: Map<DateStyle, MemoFormat>;
  if (lang === lastLang && timeZone === lastZone && lastByStyle) byStyle = lastByStyle;
  else {
    let byZone = dateFormats.get(lang);
    if (!byZone) dateFormats.set(lang, (byZone = new Map()));
    let found = byZone.get(timeZone);
    if (!found) byZone.set(timeZone, (found = new Map()));
    byStyle = found;
    lastLang = lang;
    lastZone = timeZone;
    lastByStyle = byStyle;
  }
  let fmt = byStyle.get(style);
  if (!fmt) {
    const opts = DATE_STYLES[style] ?? DATE_STYLES.short;
    try {
      fmt = memoFormat(new Intl.DateTimeFormat(lang, { ...opts, timeZone }));
    } catch {
      // an unknown locale or time zone in the data must not stop a send
      fmt = memoFormat(new Intl.DateTimeFormat('en', { ...opts, timeZone: 'UTC' }));
    }
    byStyle.set(style, fmt);
  }
  return fmt;
}

const isoMemo = memoFormat({ format: (d: Date) => d.toISOString() } as Intl.DateTimeFormat);

function toDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'string' || typeof value === 'number') {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

interface RootData {
  lang?: unknown;
  timeZone?: unknown;
}

type Hash = Readonly<Record<string, unknown>>;

function langOf(root: RootData | null | undefined, hash: Hash): string {
  const hashLang = hash.lang;
  if (typeof hashLang === 'string' && hashLang) return hashLang;
  const lang = root?.lang;
  return typeof lang === 'string' && lang ? lang : 'en';
}

function names(list: unknown, key: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => {
    if (typeof key === 'string' && item !== null && typeof item === 'object') {
      return String((item as Record<string, unknown>)[key] ?? '');
    }
    return String(item ?? '');
  });
}

/**
 * Plural categories and formatted lists, memoised like the dates: Intl's select() and format()
 * cost a microsecond or two each, and every mail asks for the same few counts and topic lists
 * (HTML and text part alike).
 */
const pluralMemos = new Map<Intl.PluralRules, Map<number, string>>();

function pluralCategory(rules: Intl.PluralRules, n: number): string {
  if (Object.is(n, -0)) return rules.select(n); // a Map does not tell -0 from 0
  let memo = pluralMemos.get(rules);
  if (!memo) pluralMemos.set(rules, (memo = new Map()));
  let category = memo.get(n);
  if (category === undefined) {
    category = rules.select(n);
    if (memo.size >= 1_000) memo.clear();
    memo.set(n, category);
  }
  return category;
}

const listMemos = new Map<Intl.ListFormat, Map<string, string>>();

// the last list formatted: the HTML and the text part of a mail ask for the same one
let lastListFmt: Intl.ListFormat | undefined;
let lastList: string[] = [];
let lastListResult = '';

function sameItems(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  // indices, not every(): a hole (which format() rejects) must not match
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] || !(i in a)) return false;
  return true;
}

function formatList(fmt: Intl.ListFormat, items: string[]): string {
  if (fmt === lastListFmt && sameItems(items, lastList)) return lastListResult;
  let memo = listMemos.get(fmt);
  if (!memo) listMemos.set(fmt, (memo = new Map()));
  const key = JSON.stringify(items); // unambiguous for any strings
  let s = memo.get(key);
  if (s === undefined) {
    s = fmt.format(items);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(key, s);
  }
  lastListFmt = fmt;
  lastList = items;
  lastListResult = s;
  return s;
}

const SAFE_URL = /^(?:https?:\/\/|mailto:)/i;

const FREQUENCY_LABELS: Record<string, string> = { instant: 'instant', daily: 'daily', weekly: 'weekly' };

/**
 * The helpers every template may use. Written once against (root data, hash, arguments) so both
 * fill engines call the same code: compiled fills (./fill.ts) call them directly, Handlebars
 * through the adapter in registerHelpers.
 */
export const MAIL_HELPERS: Readonly<Record<string, FillHelper>> = {
  ...MESSAGE_HELPERS,
  /** `{{formatDate value style="long|short|date|time" timeZone=… lang=…}}`; zone and locale default to the root data. */
  formatDate: {
    arity: 1,
    fn(root: RootData | null | undefined, hash, value): string {
      const date = toDate(value);
      if (!date) return '';
      const hashZone = hash.timeZone;
      const rootZone = root?.timeZone;
      const timeZone =
        typeof hashZone === 'string' && hashZone ? hashZone : typeof rootZone === 'string' && rootZone ? rootZone : 'UTC';
      const style = (hash.style as DateStyle | undefined) ?? 'short';
      return dateFormat(langOf(root, hash), timeZone, style).format(date);
    },
  },
  /** Machine-readable time for `<time datetime>`. */
  isoDate: {
    arity: 1,
    safe: true, // digits, "-+:.TZ"
    fn(_root, _hash, value): string {
      const date = toDate(value);
      return date ? isoMemo.format(date) : '';
    },
  },
  /** `{{plural count "article" "articles"}}`: the word only, chosen by the locale's plural rules. */
  plural: {
    arity: 3,
    fn(root: RootData | null | undefined, hash, count, singular, plural): string {
      const lang = langOf(root, hash);
      const rules = cached(
        pluralRules,
        lang,
        () => new Intl.PluralRules(lang),
        () => new Intl.PluralRules('en'),
      );
      return String(pluralCategory(rules, Number(count)) === 'one' ? singular : plural);
    },
  },
  /** `{{join list ", " key="name"}}` */
  join: {
    arity: 2,
    fn(_root, hash, list, sep): string {
      return names(list, hash.key).join(typeof sep === 'string' ? sep : ', ');
    },
  },
  /** `{{listFormat list key="name"}}` → "Japan, NATO and Brexit" in the mail's language. */
  listFormat: {
    arity: 1,
    fn(root: RootData | null | undefined, hash, list): string {
      const lang = langOf(root, hash);
      const fmt = cached(
        listFormats,
        lang,
        () => new Intl.ListFormat(lang, { style: 'long', type: 'conjunction' }),
        () => new Intl.ListFormat('en', { style: 'long', type: 'conjunction' }),
      );
      return formatList(fmt, names(list, hash.key));
    },
  },
  /** Only http(s) and mailto links reach a mail: a feed could carry `javascript:` URLs. */
  href: {
    arity: 1,
    fn(_root, _hash, url): string {
      return typeof url === 'string' && SAFE_URL.test(url) ? url : '#';
    },
  },
  frequencyLabel: {
    arity: 1,
    fn(_root, _hash, value): string {
      const key = String(value ?? '');
      return FREQUENCY_LABELS[key] ?? key;
    },
  },
  eq: {
    arity: 2,
    fn(_root, _hash, a, b): boolean {
      return a === b;
    },
  },
};

/** Registers the mail helpers with Handlebars; returns them as known helpers for the compiler. */
export function registerHelpers(hb: typeof Handlebars): Record<string, true> {
  const known: Record<string, true> = {};
  for (const [name, helper] of Object.entries(MAIL_HELPERS)) {
    hb.registerHelper(name, function (this: unknown, ...args: unknown[]) {
      const options = args.pop() as Handlebars.HelperOptions;
      const root = (options.data as { root?: RootData } | undefined)?.root;
      return helper.fn(root, (options.hash as Hash | undefined) ?? {}, args[0], args[1], args[2]);
    });
    known[name] = true;
  }
  return known;
}

/** A Handlebars environment with the mail helpers (for previews and the render benchmark). */
export function createMailHandlebars(): typeof Handlebars {
  const hb = Handlebars.create();
  registerHelpers(hb);
  return hb;
}
