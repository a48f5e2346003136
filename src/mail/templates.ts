import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import Handlebars from 'handlebars';
import { compileFill, type FillHelper } from './fill.js';
import type { Frequency } from '../db/types.js';

// Rendering is two-stage (DESIGN §7): MJML → HTML once per template at start-up, then a
// Handlebars fill per recipient. mjml2html costs milliseconds; a fill costs microseconds, which
// is what makes per-recipient digests cheap. The templates are Handlebars, but the fill is done by
// ./fill.ts, which compiles them to plain JS functions with Handlebars' exact output at about
// twice the speed of Handlebars' runtime (Handlebars remains the fallback and the reference).

// ---------------------------------------------------------------------------------------------
// Template data. Every template gets the common fields; dates may be Date or ISO strings.
// ---------------------------------------------------------------------------------------------

export interface MailCommonData {
  /** BCP 47 language tag: `<html lang>` and the locale for dates, lists and plurals. */
  lang: string;
  /** IANA time zone in which dates are shown, e.g. `Europe/London`. */
  timeZone: string;
  publisherName: string;
  postalAddress: string;
  /** Public base URL of the service, e.g. `https://alerts.example.com`. */
  baseUrl: string;
  /** Hidden preview text; each template has a sensible default when omitted. */
  preheader?: string;
  preferencesUrl?: string;
  unsubscribeUrl?: string;
  /** Optional logo shown in the header (alt text is the publisher name). */
  logoUrl?: string;
}

export interface TopicRef {
  name: string;
  slug: string;
}

export interface ConfirmMailData extends MailCommonData {
  topics: TopicRef[];
  frequency: Frequency;
  confirmUrl: string;
  /** "No thanks, this wasn't me". The confirmation mail carries this instead of unsubscribe. */
  declineUrl: string;
  expiresAt: Date | string;
  termsVersion: string | number;
  termsUrl: string;
}

export interface ManageLinkMailData extends MailCommonData {
  preferencesUrl: string;
  expiresAt: Date | string;
}

export interface DigestArticle {
  title: string;
  url: string;
  summary?: string | null;
  publishedAt: Date | string;
}

export interface DigestSection {
  topic: TopicRef & { url: string };
  /** Unsubscribes from this topic only. */
  unsubscribeUrl: string;
  articles: DigestArticle[];
  /** Matches left out of this section (0 when none); linked to `moreUrl`. */
  moreCount: number;
  moreUrl: string;
}

export interface DigestMailData extends MailCommonData {
  sections: DigestSection[];
  /** All new articles, including the ones counted in `moreCount`. */
  articleCount: number;
  topicNames: string[];
  /** When the subscriber confirmed (shown in "why you get this"). */
  confirmedAt: Date | string | null;
  frequency?: Frequency;
  preferencesUrl: string;
  /** Unsubscribe from all topics: also the target of the List-Unsubscribe header. */
  unsubscribeUrl: string;
}

export interface TemplateDataMap {
  confirm: ConfirmMailData;
  'manage-link': ManageLinkMailData;
  digest: DigestMailData;
}

export type TemplateName = keyof TemplateDataMap;

export interface RenderedMail {
  /** Never contains CR or LF. */
  subject: string;
  html: string;
  text: string;
}

export interface MailTemplates {
  /** Names of every compiled template (`<name>.mjml` in the directory). */
  readonly names: readonly string[];
  render<N extends TemplateName>(name: N, data: TemplateDataMap[N]): RenderedMail;
}

export interface CompileTemplatesOptions {
  /** MJML validation; `strict` (the default) fails start-up on any MJML error. */
  validationLevel?: 'strict' | 'soft';
  /** Receives MJML warnings in `soft` mode. */
  onWarning?: (message: string) => void;
  /**
   * A folder for the MJML output, keyed by a hash of every template source, the mjml version
   * and the options. A process that finds its key there never loads mjml (~60 MB of modules):
   * workers start faster and stay smaller. Unset: always compile.
   */
  cacheDir?: string;
  /**
   * What fills a template per recipient: `compiled` (the default) turns each template into a
   * plain JS function (./fill.ts), falling back to Handlebars for constructs it does not cover;
   * `handlebars` always uses Handlebars' runtime. Both give the same bytes; the tests compare them.
   */
  fill?: 'compiled' | 'handlebars';
  /**
   * Called for each part (`subject`, `html`, `text`) that the compiled fill does not cover, which
   * Handlebars' runtime then fills: the same output, about half the speed.
   */
  onFallback?: (template: string, part: 'subject' | 'html' | 'text') => void;
}

export class TemplateCompileError extends Error {
  constructor(
    message: string,
    readonly template: string,
    readonly details: string[] = [],
  ) {
    super(details.length > 0 ? `${message}\n  ${details.join('\n  ')}` : message);
    this.name = 'TemplateCompileError';
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers. Formatters are cached: building an Intl object costs ~20x a format call.
// ---------------------------------------------------------------------------------------------

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
function registerHelpers(hb: typeof Handlebars): Record<string, true> {
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

// ---------------------------------------------------------------------------------------------
// Compile
// ---------------------------------------------------------------------------------------------

/** Removes everything that could end or fold a header line; collapses runs of space. */
export function cleanSubject(subject: string): string {
  // the replaces change nothing in a subject without control characters or double spaces
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f\u2028\u2029]| {2}/.test(subject)) return subject.trim();
  // eslint-disable-next-line no-control-regex
  return subject.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/ {2,}/g, ' ').trim();
}

/**
 * Runs of three or more newlines become two (what `text.replace(/\n{3,}/g, '\n\n')` does, with
 * indexOf instead of the regex: a text part has one or two such runs in ~4 KB), then trimmed.
 */
function cleanText(text: string): string {
  let i = text.indexOf('\n\n\n');
  if (i !== -1) {
    let out = '';
    let last = 0;
    do {
      let end = i + 3;
      while (text.charCodeAt(end) === 10) end++;
      out += `${text.slice(last, i)}\n\n`;
      last = end;
      i = text.indexOf('\n\n\n', end);
    } while (i !== -1);
    text = out + text.slice(last);
  }
  return `${text.trim()}\n`;
}

const INLINE_DEF = /\{\{#\*inline\s+"([\w-]+)"\s*\}\}([\s\S]*?)\{\{\/inline\}\}/g;
const PARTIAL_CALL = /\{\{#>\s*([\w-]+)\s*\}\}\{\{\/\1\}\}|\{\{>\s*([\w-]+)\s*\}\}/g;

/**
 * Expands, at compile time, partials called without arguments: the template's own
 * `{{#*inline "x"}}` blocks and the file partials. Handlebars would otherwise run the inline
 * decorators and invoke the partials on every render, which costs a third of a digest fill.
 * A `{{#> x}}{{/x}}` with no definition becomes empty, as Handlebars renders it.
 */
export function expandPartials(source: string, filePartials: ReadonlyMap<string, string> = new Map()): string {
  const inline = new Map<string, string>();
  let out = source.replace(INLINE_DEF, (_m, name: string, body: string) => {
    inline.set(name, body);
    return '';
  });
  for (let depth = 0; depth < 8; depth++) {
    let changed = false;
    out = out.replace(PARTIAL_CALL, (m, blockName: string | undefined, name: string | undefined) => {
      const key = blockName ?? name ?? '';
      const body = inline.get(key) ?? filePartials.get(key);
      if (body === undefined) {
        if (blockName) {
          changed = true;
          return '';
        }
        return m; // left to Handlebars, which reports a missing partial
      }
      changed = true;
      return body.replace(INLINE_DEF, (_d, n: string, b: string) => {
        if (!inline.has(n)) inline.set(n, b);
        return '';
      });
    });
    if (!changed) break;
  }
  return out;
}

type Fill = (context: unknown) => string;

interface CompiledTemplate {
  subject: Fill;
  html: Fill;
  text: Fill;
}

async function readRequired(file: string, template: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new TemplateCompileError(`missing ${path.basename(file)} for mail template "${template}"`, template, [
      (err as Error).message,
    ]);
  }
}

function compileHandlebars(
  hb: typeof Handlebars,
  source: string,
  template: string,
  part: 'subject' | 'html' | 'text',
  options: CompileOptions,
  opts: CompileTemplatesOptions,
): Fill {
  try {
    // hb.compile is lazy: precompile now so a broken placeholder or an unknown helper fails
    // start-up, not the first send
    hb.precompile(source, options);
    if ((opts.fill ?? 'compiled') === 'compiled') {
      // the same output without Handlebars' per-call overhead, unless the template uses more
      // than the subset ./fill.ts implements
      const fill = compileFill(source, options, MAIL_HELPERS);
      if (fill) return fill;
      opts.onFallback?.(template, part);
    }
    return hb.compile(source, options) as Fill;
  } catch (err) {
    throw new TemplateCompileError(`mail template "${template}" (${part}) does not compile`, template, [
      (err as Error).message,
    ]);
  }
}

type CompileOptions = NonNullable<Parameters<typeof Handlebars.compile>[1]>;

const require = createRequire(import.meta.url);

/** MJML → HTML for every template, from the cache when its key matches, else compiled (and cached). */
async function mjmlOutputs(
  root: string,
  files: string[],
  partialFiles: string[],
  validationLevel: 'strict' | 'soft',
  opts: CompileTemplatesOptions,
): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  for (const file of files) sources.set(file, await readFile(path.join(root, file), 'utf8'));
  let cachePath: string | undefined;
  if (opts.cacheDir) {
    const key = createHash('sha256');
    key.update(JSON.stringify({ mjml: (require('mjml/package.json') as { version: string }).version, validationLevel, format: 1 }));
    for (const [file, source] of sources) key.update(`\0${file}\0${source}`);
    for (const file of partialFiles.filter((f) => f.endsWith('.mjml')).sort()) key.update(`\0partials/${file}\0${await readFile(path.join(root, 'partials', file), 'utf8')}`);
    cachePath = path.join(opts.cacheDir, `mjml-${key.digest('hex').slice(0, 32)}.json`);
    try {
      return new Map(Object.entries(JSON.parse(await readFile(cachePath, 'utf8')) as Record<string, string>));
    } catch {
      // no cache yet (or unreadable): compile
    }
  }
  const { default: mjml2html } = await import('mjml');
  const out = new Map<string, string>();
  for (const file of files) {
    const name = file.slice(0, -'.mjml'.length);
    const filePath = path.join(root, file);
    const mjmlSource = sources.get(file)!;
    let html: string;
    try {
      const result = await mjml2html(mjmlSource, {
        validationLevel,
        filePath,
        // mjml 5 ignores mj-include unless told otherwise; includes stay confined to `root`
        ignoreIncludes: false,
        includePath: root,
        minify: false,
        beautify: false,
        // system fonts only: no request to a font CDN from every opened mail
        fonts: {},
      });
      if (result.errors.length > 0) {
        const details = result.errors.map((e) => e.formattedMessage);
        if (validationLevel === 'strict') {
          throw new TemplateCompileError(`MJML errors in mail template "${name}"`, name, details);
        }
        for (const d of details) opts.onWarning?.(`${name}: ${d}`);
      }
      // indentation is a third of mjml's output: every later fill copies it, and Gmail clips
      // mails over 102 KB. A run of whitespace with a newline means the same to HTML as one newline.
      html = result.html.replace(/[ \t]*\n\s*/g, '\n');
    } catch (err) {
      if (err instanceof TemplateCompileError) throw err;
      const e = err as Error & { details?: Array<{ formattedMessage?: string }> };
      throw new TemplateCompileError(
        `MJML failed for mail template "${name}"`,
        name,
        e.details?.map((d) => d.formattedMessage ?? String(d)) ?? [e.message],
      );
    }
    // mjml leaves a comment instead of failing when an mj-include cannot be read or is refused
    if (/mj-include (fails|denied)/i.test(html)) {
      throw new TemplateCompileError(`an mj-include of mail template "${name}" could not be read`, name);
    }
    out.set(name, html);
  }
  if (cachePath && opts.cacheDir) {
    // Written aside and renamed: a concurrent reader sees the whole file or none. Best effort:
    // a read-only disk only means the next start compiles again.
    try {
      await mkdir(opts.cacheDir, { recursive: true });
      const tmp = `${cachePath}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(Object.fromEntries(out)));
      await rename(tmp, cachePath);
    } catch {
      // ignored: see above
    }
  }
  return out;
}


/**
 * Compiles every `<name>.mjml` in `dir` (with `<name>.txt` and `<name>.subject.txt`) once.
 * Text partials come from `dir/partials/*.txt`; MJML partials are pulled in with `mj-include`.
 */
export async function compileTemplates(dir: string, opts: CompileTemplatesOptions = {}): Promise<MailTemplates> {
  const validationLevel = opts.validationLevel ?? 'strict';
  const root = path.resolve(dir);
  const hb = Handlebars.create();
  const knownHelpers = registerHelpers(hb);
  // knownHelpersOnly: a mustache is a property lookup unless it names one of our helpers (no
  // per-field helper probe at render time), and a typo'd helper fails start-up, not a send
  const htmlOptions: CompileOptions = { knownHelpers, knownHelpersOnly: true, preventIndent: true };
  const textOptions: CompileOptions = { knownHelpers, knownHelpersOnly: true, noEscape: true };

  const partialDir = path.join(root, 'partials');
  const partialFiles = await readdir(partialDir).catch(() => [] as string[]);
  const textPartials = new Map<string, string>();
  for (const file of partialFiles.filter((f) => f.endsWith('.txt')).sort()) {
    const source = await readFile(path.join(partialDir, file), 'utf8');
    const partialName = file.slice(0, -'.txt'.length);
    textPartials.set(partialName, source.replace(/\n$/, ''));
    // for calls with arguments, which are not expanded at compile time; compiled with the text
    // options, since a partial invoked from a text template must not escape
    hb.registerPartial(partialName, hb.compile(source, textOptions));
  }

  const files = (await readdir(root)).filter((f) => f.endsWith('.mjml')).sort();
  const htmlByName = await mjmlOutputs(root, files, partialFiles, validationLevel, opts);
  const compiled = new Map<string, CompiledTemplate>();
  for (const file of files) {
    const name = file.slice(0, -'.mjml'.length);
    const html = htmlByName.get(name)!;
    const text = await readRequired(path.join(root, `${name}.txt`), name);
    const subject = await readRequired(path.join(root, `${name}.subject.txt`), name);
    compiled.set(name, {
      html: compileHandlebars(hb, expandPartials(html), name, 'html', htmlOptions, opts),
      text: compileHandlebars(hb, expandPartials(text, textPartials), name, 'text', textOptions, opts),
      subject: compileHandlebars(hb, subject, name, 'subject', textOptions, opts),
    });
  }
  if (compiled.size === 0) {
    throw new TemplateCompileError(`no *.mjml mail templates in ${root}`, '');
  }

  return {
    names: [...compiled.keys()],
    render(name, data) {
      const t = compiled.get(name);
      if (!t) throw new Error(`unknown mail template "${name}"`);
      const subject = cleanSubject(t.subject(data));
      // the HTML <title> and aria-label show the subject
      const context = { ...data, subject };
      return { subject, html: t.html(context), text: cleanText(t.text(context)) };
    },
  };
}
