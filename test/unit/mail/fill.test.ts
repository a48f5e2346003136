import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Handlebars from 'handlebars';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { compileFill, esc } from '../../../src/mail/fill.js';
import {
  compileTemplates,
  createMailHandlebars,
  MAIL_HELPERS,
  type DigestMailData,
  type MailTemplates,
  type TemplateDataMap,
} from '../../../src/mail/templates.js';
import { confirmData, digestData, manageLinkData, TEMPLATES_DIR } from './fixtures.js';

// The compiled fill (src/mail/fill.ts) must give exactly Handlebars' bytes. These tests render
// the same templates and data through both and compare.

const knownHelpers = Object.fromEntries(Object.keys(MAIL_HELPERS).map((name) => [name, true]));

function options(noEscape: boolean): NonNullable<Parameters<typeof Handlebars.compile>[1]> {
  return { knownHelpers: { ...knownHelpers }, knownHelpersOnly: true, noEscape };
}

const hb = createMailHandlebars();

function outcome(render: () => string): { out: string } | { error: string } {
  try {
    return { out: render() };
  } catch (err) {
    return { error: String(err) };
  }
}

/** Renders `source` with Handlebars and with the compiled fill: the same output, or the same error. */
function expectSame(source: string, data: unknown, noEscape = false): void {
  const fill = compileFill(source, options(noEscape), MAIL_HELPERS);
  expect(fill, source).toBeDefined();
  const template = hb.compile(source, options(noEscape));
  expect(outcome(() => fill!(data)), source).toEqual(outcome(() => template(data)));
}

const nasty = [
  '<script>alert("x")</script>',
  `Tom & Jerry's "quotes" \`ticks\` a=b <b>bold</b> &amp; already`,
  'Ünïcödé — ✓ 🎉 日本語 العربية ‮rtl‬ e\u0301',
  'line\nbreak\r\nand\u2028separator\u2029',
  'https://news.example.com/a?utm_source=alerts&utm_medium=email&s=t1x63z',
  'javascript:alert(document.cookie)',
  '',
  '   ',
];

class WithPrototype {
  own = 'own value';
  get inherited(): string {
    return 'from the prototype';
  }
}

function dataSets(): Record<string, unknown>[] {
  const sets: Record<string, unknown>[] = [];
  for (const [i, s] of nasty.entries()) {
    sets.push({
      a: s,
      b: { c: s, d: { e: s } },
      'weird key': s,
      arr: [s, `${s}!`, s],
      list: [s, 0, '', 'x', null, undefined, false, [], {}],
      names: [s, 'NATO', 'Climate'].slice(0, (i % 3) + 1),
      topics: [{ name: s }, { name: 'NATO' }],
      obj: { name: s, x: i },
      n: i,
      when: new Date(Date.UTC(2026, i, 3, 12, 30)),
      url: s,
      freq: ['daily', 'weekly', 'instant', s][i % 4],
      lang: ['en-GB', 'de-DE', 'ja-JP', 'ar-EG', 'fr', '', 'xx-invalid', 'en-US'][i],
      timeZone: ['Europe/London', 'Asia/Tokyo', 'America/New_York', 'Not/AZone', 'UTC'][i % 5],
      publisherName: s,
      sections: [
        { topic: { name: s }, articles: [{ title: s }, { title: 'two' }] },
        { topic: { name: 'empty' }, articles: [] },
      ],
    });
  }
  // odd values in every position
  for (const v of [0, 1, -1, NaN, true, false, null, undefined, '', '0', [], [0], {}, [, 'hole', , 'x'], new Date(0)]) {
    sets.push({ a: v, b: { c: v, d: v }, arr: v, list: v, names: v, topics: v, obj: v, n: v, when: v, url: v, freq: v, lang: v, sections: v });
  }
  sets.push({
    a: { toHTML: () => '<b>safe</b>' },
    b: { c: { toString: () => '<i>obj</i>' } },
    list: new Map([
      ['k1', '<v1>'],
      ['k2', 'v2'],
    ]),
    arr: new Set(['s1', '<s2>']),
    obj: { first: 1, second: '<2>', third: null },
    names: 'not an array',
    fn() {
      return `lambda sees ${(this as { n?: unknown }).n}`;
    },
    n: 7,
  });
  sets.push({ a: new WithPrototype(), b: new WithPrototype(), list: [new WithPrototype()], obj: Object.create({ name: 'proto' }) });
  return sets;
}

const TEMPLATES = [
  // lookups, escaped and not
  '{{a}}|{{{a}}}|{{&a}}|{{b.c}}|{{b.d.e}}|{{this.a}}|{{./a}}|{{[weird key]}}|{{arr.[1]}}|{{arr.length}}|{{b}}|{{missing.deep.path}}',
  '{{a.own}}|{{a.inherited}}|{{a.constructor}}|{{a.__proto__}}|{{b.constructor.name}}|{{obj.name}}|{{a.toString}}',
  // if / unless / else if
  '{{#if a}}yes{{else}}no{{/if}}|{{#unless a}}u{{/unless}}|{{#if a}}1{{else if b.c}}2{{else}}3{{/if}}|{{^if a}}inv{{/if}}',
  '{{#if list}}L{{/if}}{{#if arr}}A{{/if}}{{#if n}}N{{/if}}{{#unless n}}!N{{else}}has N{{/unless}}',
  // each over arrays, iterables, objects, strings, nothing
  '{{#each list}}[{{@index}}:{{@key}}:{{@first}}:{{@last}}:{{this}}]{{else}}empty{{/each}}',
  '{{#each arr}}<{{@index}}={{.}}>{{/each}}|{{#each obj}}{{@key}}={{this}};{{else}}no obj{{/each}}',
  '{{#each list}}{{#if this}}T{{else}}[{{this}}]{{/if}}{{/each}}',
  '{{#each sections}}{{topic.name}}({{@index}}):{{#each articles}}{{@index}}/{{@first}}/{{@last}} {{title}} {{@root.publisherName}} {{@../index}};{{else}}none{{/each}}{{/each}}',
  // with
  '{{#with obj}}{{name}}-{{x}}{{else}}none{{/with}}|{{#with b}}{{#with d}}{{e}}{{/with}}{{/with}}',
  // helpers, hash, sub-expressions
  '{{formatDate when style="long"}}|{{formatDate when}}|{{formatDate when style="date" lang="de-DE" timeZone="Asia/Tokyo"}}|{{isoDate when}}',
  '{{plural n "article" "articles"}}|{{join names ", "}}|{{join topics " / " key="name"}}|{{listFormat names}}|{{listFormat topics key="name"}}',
  '<a href="{{href url}}">{{a}}</a>|{{frequencyLabel freq}}|{{#if (eq n 1)}}one{{else}}not one{{/if}}|{{plural (eq n 0) "a" "b"}}',
  // lambdas
  '{{fn}}|{{#if fn}}t{{/if}}|{{#each fn}}x{{/each}}|{{#with fn}}{{this}}{{/with}}|{{href fn}}',
  // whitespace control, standalone lines and comments
  '<ul>\n  {{#each arr}}\n  <li>{{this}}</li>\n  {{/each}}\n</ul>\n{{~a~}}  x  {{~#if a~}} y {{~/if~}}\n{{! comment }}\n{{!-- {{long}} comment --}}\nend  \n  {{#if n}}\n    n\n  {{else}}\n    no n\n  {{/if}}\n',
];

describe('compileFill', () => {
  const sets = dataSets();
  let errors: ReturnType<typeof vi.spyOn>;
  beforeAll(() => {
    // Handlebars logs denied prototype access once per property name
    errors = vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterAll(() => errors.mockRestore());

  for (const noEscape of [false, true]) {
    it(`renders what Handlebars renders (${noEscape ? 'noEscape' : 'escaped'})`, () => {
      for (const source of TEMPLATES) {
        if (source.includes('@../')) {
          expect(compileFill(source, options(noEscape), MAIL_HELPERS)).toBeUndefined();
          continue;
        }
        for (const data of sets) expectSame(source, data, noEscape);
      }
    });
  }

  it('covers nested data frames without ../ paths', () => {
    const source = '{{#each sections}}{{@index}}{{#each articles}}{{@index}}{{@root.publisherName}}{{title}}{{/each}}{{/each}}';
    for (const data of sets) expectSame(source, data);
  });

  it('returns undefined for what it leaves to Handlebars', () => {
    for (const source of [
      '{{> footer}}',
      '{{#> layout}}x{{/layout}}',
      '{{#*inline "x"}}y{{/inline}}',
      '{{#each list as |item|}}{{item}}{{/each}}',
      '{{#each list}}{{../a}}{{/each}}',
      '{{lookup obj "name"}}',
      '{{log a}}',
      '{{#if a includeZero=true}}x{{/if}}',
      '{{#if a b}}x{{/if}}',
      '{{#href url}}x{{/href}}',
      '{{plural n}}',
      '{{formatDate when style=a}}',
      '{{href}}',
      '{{#with}}x{{/with}}',
    ]) {
      expect(compileFill(source, options(false), MAIL_HELPERS), source).toBeUndefined();
    }
    expect(compileFill('{{a}}', { knownHelpers, knownHelpersOnly: false }, MAIL_HELPERS)).toBeUndefined();
  });
});

describe('esc', () => {
  it('escapes exactly as Handlebars.escapeExpression', () => {
    const alphabet = ['&', '<', '>', '"', "'", '`', '=', 'a', ' ', 'é', '😀', ';', '#', 'x'];
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values: unknown[] = [...nasty, 0, 1, NaN, true, false, null, undefined, {}, [1, '<2>'], { toHTML: () => '<ok>' }];
    for (let i = 0; i < 2000; i++) {
      values.push(Array.from({ length: Math.floor(rand() * 20) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(''));
    }
    for (const v of values) expect(esc(v)).toBe(Handlebars.escapeExpression(v as string));
  });
});

describe('compiled mail templates', () => {
  let compiled: MailTemplates;
  let reference: MailTemplates;
  const fallbacks: string[] = [];
  beforeAll(async () => {
    compiled = await compileTemplates(TEMPLATES_DIR, { onFallback: (t, part) => fallbacks.push(`${t}/${part}`) });
    reference = await compileTemplates(TEMPLATES_DIR, { fill: 'handlebars' });
  });

  it('fills every shipped template without falling back to Handlebars', () => {
    expect(fallbacks).toEqual([]);
  });

  function expectSameMail<N extends keyof TemplateDataMap>(name: N, data: TemplateDataMap[N]): void {
    expect(compiled.render(name, data)).toEqual(reference.render(name, data));
  }

  it('renders byte-identical digests for many varied recipients', () => {
    for (let i = 0; i < 120; i++) {
      const data = digestData(i, { topics: i % 5, articles: (i * 7) % 7, more: i % 4 !== 0 });
      const variant = i % 12;
      const first = data.sections[0];
      const article = first?.articles[0];
      if (variant === 1 && first && article) {
        article.title = nasty[i % nasty.length] ?? '';
        article.summary = nasty[(i + 1) % nasty.length];
        first.topic.name = nasty[(i + 2) % nasty.length] ?? '';
        data.topicNames = data.sections.map((s) => s.topic.name);
      }
      if (variant === 2) data.publisherName = `Bugle <b>"${i}"</b> & 'co' \`=\``;
      if (variant === 3) Object.assign(data, { confirmedAt: null, preferencesUrl: '' });
      if (variant === 4) Object.assign(data, { logoUrl: `https://cdn.example.com/logo.png?v=${i}&x="y"`, preheader: `Pre <${i}>` });
      if (variant === 5) Object.assign(data, { lang: ['de-DE', 'fr-FR', 'ja-JP', 'ar-EG', 'xx-invalid'][i % 5], timeZone: ['Asia/Tokyo', 'Nope/Zone'][i % 2] });
      if (variant === 6 && article) {
        article.url = 'javascript:alert(1)';
        article.publishedAt = '2026-11-25T06:13:00Z';
        article.summary = null;
      }
      if (variant === 7) data.articleCount = [0, 1, 2][i % 3] ?? 0;
      if (variant === 8) data.topicNames = ['Japan\r\nBcc: victim@example.com', 'NATO\u2028X', '  spaced  out  '];
      if (variant === 9 && first) first.moreCount = 250;
      if (variant === 10) data.sections = [];
      if (variant === 11 && article) article.publishedAt = 'not a date';
      expectSameMail('digest', data as DigestMailData);
    }
  });

  it('renders byte-identical confirm and manage-link mails', () => {
    for (let i = 0; i < nasty.length; i++) {
      const s = nasty[i] ?? '';
      expectSameMail('confirm', confirmData({ topics: [{ name: s, slug: 'a' }, { name: 'NATO', slug: 'n' }], publisherName: s, frequency: (['daily', 'weekly', 'instant'] as const)[i % 3] }));
      expectSameMail('confirm', confirmData({ topics: [], lang: 'de-DE', timeZone: 'Asia/Tokyo', expiresAt: 'garbage' }));
      expectSameMail('manage-link', manageLinkData({ publisherName: s, postalAddress: s, preferencesUrl: `https://x.example/p?a=${i}&b="${s}"` }));
    }
  });

  it('falls back to Handlebars for a construct it does not cover, with the same output', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ta-fill-'));
    try {
      await cp(TEMPLATES_DIR, dir, { recursive: true });
      const text = path.join(dir, 'digest.txt');
      await writeFile(text, `${await readFile(text, 'utf8')}\n{{#each sections as |section|}}{{section.topic.name}} {{/each}}\n`);
      const seen: string[] = [];
      const withFallback = await compileTemplates(dir, { onFallback: (t, part) => seen.push(`${t}/${part}`) });
      const handlebarsOnly = await compileTemplates(dir, { fill: 'handlebars' });
      expect(seen).toEqual(['digest/text']);
      const data = digestData(3);
      const mail = withFallback.render('digest', data);
      expect(mail).toEqual(handlebarsOnly.render('digest', data));
      expect(mail.text).toContain(data.sections.map((s) => s.topic.name).join(' '));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
