import { describe, expect, it } from 'vitest';
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { loadCatalogues, Messages, messageNames, shippedMessages } from '../../../src/i18n/translator.js';
import { acceptedLanguages, chooseLanguage, dirOf, LANGUAGES } from '../../../src/i18n/languages.js';
import { checkMessage } from '../../../src/i18n/service.js';
import { DomainError } from '../../../src/errors.js';

const catalogues = loadCatalogues();
const english = catalogues.en;

/** The plural categories every plural argument of a message offers, by argument. */
function pluralCategories(source: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const walk = (els: MessageFormatElement[]) => {
    for (const el of els) {
      if (el.type === TYPE.plural) {
        const set = out.get(el.value) ?? new Set<string>();
        for (const k of Object.keys(el.options)) if (!k.startsWith('=')) set.add(k);
        out.set(el.value, set);
      }
      if (el.type === TYPE.plural || el.type === TYPE.select) for (const o of Object.values(el.options)) walk(o.value);
      if (el.type === TYPE.tag) walk(el.children);
    }
  };
  walk(parse(source));
  return out;
}

describe('message catalogues', () => {
  it('ship every language, each with every key English has and none it lacks', () => {
    expect(Object.keys(catalogues).sort()).toEqual([...LANGUAGES].sort());
    for (const lang of LANGUAGES) {
      const keys = Object.keys(catalogues[lang]);
      expect(Object.keys(english).filter((k) => !keys.includes(k)), `${lang} lacks`).toEqual([]);
      expect(keys.filter((k) => english[k] === undefined), `${lang} has keys English lacks`).toEqual([]);
    }
  });

  it('use in every translation exactly the placeholders (with their types) and tags of the English message', () => {
    const problems: string[] = [];
    for (const lang of LANGUAGES) {
      for (const [key, source] of Object.entries(catalogues[lang])) {
        const want = messageNames(english[key]!);
        const got = messageNames(source);
        for (const [arg, kind] of got.args) if (want.args.get(arg) !== kind) problems.push(`${lang} ${key}: {${arg}} (${kind}) is not in English`);
        for (const tag of got.tags) if (!want.tags.has(tag)) problems.push(`${lang} ${key}: <${tag}> is not in English`);
        for (const arg of want.args.keys()) if (!got.args.has(arg)) problems.push(`${lang} ${key}: drops {${arg}}`);
        for (const tag of want.tags) if (!got.tags.has(tag)) problems.push(`${lang} ${key}: drops <${tag}>`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('give each plural every category of its language (Arabic has six)', () => {
    expect(new Intl.PluralRules('ar').resolvedOptions().pluralCategories.sort()).toEqual(['few', 'many', 'one', 'other', 'two', 'zero']);
    const problems: string[] = [];
    let arabicPlurals = 0;
    for (const lang of LANGUAGES) {
      const needed = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
      for (const [key, source] of Object.entries(catalogues[lang])) {
        for (const [arg, have] of pluralCategories(source)) {
          if (lang === 'ar') arabicPlurals++;
          const missing = needed.filter((c) => !have.has(c));
          if (missing.length > 0) problems.push(`${lang} ${key} {${arg}} lacks ${missing.join(', ')}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(arabicPlurals).toBeGreaterThanOrEqual(4);
  });

  it('pick the Arabic plural form by number: zero, one, two, few, many, other', () => {
    const ar = shippedMessages('ar');
    const forms = [0, 1, 2, 3, 11, 100].map((n) => ar.t('mail.digest.heading', { articleCount: n }));
    expect(new Set(forms).size).toBe(6);
    expect(forms[2]).not.toMatch(/2/); // the dual says "two articles" without the digit
    expect(forms[4]).toContain('11');
  });

  it('format every message in every language with sample values, leaving no braces, hashes or tags', () => {
    const values = (source: string) => {
      const out: Record<string, unknown> = {};
      for (const [name, kind] of messageNames(source).args) out[name] = kind === 'date' ? new Date('2026-12-02T10:00:00Z') : kind === 'number' ? 3 : name === 'frequency' ? 'daily' : name === 'topics' ? ['Japan', 'NATO'] : 'X';
      return out;
    };
    for (const lang of LANGUAGES) {
      const m = shippedMessages(lang);
      for (const key of Object.keys(english)) {
        const text = m.t(key, values(m.strings[key]!) as never, 'Asia/Tokyo');
        expect(text, `${lang} ${key}`).not.toMatch(/[{}<>]|(?<!\w)#(?!\w)/);
        expect(text.length, `${lang} ${key}`).toBeGreaterThan(0);
      }
    }
  });

  it('read right to left in Arabic only', () => {
    expect(dirOf('ar')).toBe('rtl');
    for (const lang of LANGUAGES.filter((l) => l !== 'ar')) expect(dirOf(lang)).toBe('ltr');
    expect(shippedMessages('ar').dir).toBe('rtl');
    expect(shippedMessages('en-GB').dir).toBe('ltr');
  });
});

describe('Messages', () => {
  const m = new Messages('en', { 'x.rich': 'By signing to this email alert, you agree to our <terms>Terms & Conditions</terms> on {topics}', 'x.date': 'Expires {at, date, expiry}' });

  it('escapes values and text in HTML and puts the given markup for tags', () => {
    const out = m.html('x.rich', { topics: ['<b>Japan</b>', 'NATO & co'] }, { terms: { open: '<a href="/terms">', close: '</a>' } });
    expect(out).toBe('By signing to this email alert, you agree to our <a href="/terms">Terms &amp; Conditions</a> on &lt;b&gt;Japan&lt;/b&gt; and NATO &amp; co');
  });

  it('keeps a tag’s text only, in plain text and in pieces', () => {
    expect(m.t('x.rich', { topics: ['Japan'] })).toBe('By signing to this email alert, you agree to our Terms & Conditions on Japan');
    const parts = m.segments('x.rich', { topics: ['Japan'] });
    expect(parts.find((p) => p.tag === 'terms')?.text).toBe('Terms & Conditions');
    expect(parts.map((p) => p.text).join('')).toBe(m.t('x.rich', { topics: ['Japan'] }));
  });

  it('shows dates in the zone asked for, and survives a bad zone or date', () => {
    const at = new Date('2026-12-01T10:00:00Z');
    expect(m.t('x.date', { at }, 'Asia/Tokyo')).toContain('7:00 PM');
    expect(m.t('x.date', { at }, 'Nope/Zone')).toContain('10:00 AM');
    expect(m.t('x.date', { at: 'not a date' })).toBe('Expires ');
  });

  it('gives the same result from its memo as from formatting: per value, per zone, per kind of value', () => {
    const memo = new Messages('en', { 'x.n': '{n, plural, one {# article} other {# articles}} on {topic}', 'x.date': 'Expires {at, date, expiry}' });
    const fresh = () => new Messages('en', memo.strings);
    const at = new Date('2026-12-01T10:00:00Z');
    const calls: [string, Record<string, unknown>, string?][] = [
      ['x.n', { n: 1, topic: 'Japan' }], ['x.n', { n: 2, topic: 'Japan' }], ['x.n', { n: 1, topic: 'Japan' }], ['x.n', { n: '1', topic: 'Japan' }],
      ['x.n', { n: 2, topic: ['Japan', 'NATO'] }], ['x.n', { n: 2, topic: 'Japan and NATO' }], ['x.n', { n: 2, topic: 'a\u0001sb' }], ['x.n', { n: 2, topic: 'a' }],
      ['x.n', { n: 2, topic: ['a\u0001b'] }], ['x.n', { n: 2, topic: ['a', 'b'] }],
      ['x.date', { at }, 'Asia/Tokyo'], ['x.date', { at }, 'UTC'], ['x.date', { at }, 'Asia/Tokyo'], ['x.date', { at: at.getTime() }, 'UTC'],
    ];
    for (const [key, values, zone] of calls) expect(memo.t(key, values as never, zone), `${key} ${JSON.stringify(values)} ${zone}`).toBe(fresh().t(key, values as never, zone));
    expect(memo.t('x.date', { at }, 'Asia/Tokyo')).not.toBe(memo.t('x.date', { at }, 'UTC'));
  });
});

describe('choosing a language', () => {
  it('goes by the first hint that names a language we ship', () => {
    expect(chooseLanguage(['xx', 'pt-BR', 'ar'], 'en')).toBe('pt');
    expect(chooseLanguage([undefined, null, ''], 'fr')).toBe('fr');
    expect(acceptedLanguages('de;q=0.5, ar-EG, en;q=0.9, *;q=0.1, fr;q=0')).toEqual(['ar-EG', 'en', 'de']);
  });
});

describe("the publisher's own words", () => {
  it('must parse and use only what the English message uses', () => {
    expect(() => checkMessage('Hello {publisherName}', 'From {publisherName}', 'en')).not.toThrow();
    const extra = (() => {
      try {
        checkMessage('Hi {name} <x>y</x>', 'From {publisherName}', 'en');
      } catch (e) {
        return e;
      }
    })();
    expect(extra).toBeInstanceOf(DomainError);
    expect((extra as DomainError).message).toContain('{name}, <x>');
    expect(() => checkMessage('Broken {', 'x', 'en')).toThrow(/not a valid message/);
  });
});
