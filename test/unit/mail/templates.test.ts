import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cleanSubject,
  compileTemplates,
  createMailHandlebars,
  expandPartials,
  TemplateCompileError,
  type MailTemplates,
} from '../../../src/mail/templates.js';
import { confirmData, digestData, digestUrls, manageLinkData, TEMPLATES_DIR } from './fixtures.js';

let templates: MailTemplates;

beforeAll(async () => {
  templates = await compileTemplates(TEMPLATES_DIR, { validationLevel: 'strict' });
});

/** Visible text of the HTML part, roughly: tags out, entities of interest decoded. */
function visibleText(html: string): string {
  return html
    .replace(/<head>[\s\S]*?<\/head>/, '')
    .replace(/<div style="display:none[^>]*>[\s\S]*?<\/div>/, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

function hrefs(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) =>
    (m[1] ?? '').replace(/&#x3D;/g, '=').replace(/&amp;/g, '&'),
  );
}

describe('compileTemplates', () => {
  it('compiles every template with strict MJML validation', () => {
    expect([...templates.names].sort()).toEqual(['confirm', 'digest', 'manage-link']);
  });

  it('fails start-up on invalid MJML in strict mode and names the template', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ta-tpl-'));
    try {
      await cp(TEMPLATES_DIR, dir, { recursive: true });
      await writeFile(
        path.join(dir, 'digest.mjml'),
        '<mjml><mj-body><mj-section><mj-column><mj-text colour="red">x</mj-text></mj-column></mj-section></mj-body></mjml>',
      );
      await expect(compileTemplates(dir)).rejects.toThrow(TemplateCompileError);
      await expect(compileTemplates(dir)).rejects.toThrow(/digest/);
      await expect(compileTemplates(dir, { validationLevel: 'soft', onWarning: () => {} })).resolves.toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails start-up on an unknown helper or a missing include', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ta-tpl-'));
    try {
      await cp(TEMPLATES_DIR, dir, { recursive: true });
      await writeFile(path.join(dir, 'digest.subject.txt'), '{{shout topicNames}}');
      await expect(compileTemplates(dir)).rejects.toThrow(/digest.*subject[\s\S]*shout/);
      await cp(TEMPLATES_DIR, dir, { recursive: true });
      await rm(path.join(dir, 'partials', 'footer.mjml'));
      await expect(compileTemplates(dir)).rejects.toThrow(/mj-include/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails when a template has no text part', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ta-tpl-'));
    try {
      await cp(TEMPLATES_DIR, dir, { recursive: true });
      await rm(path.join(dir, 'confirm.txt'));
      await expect(compileTemplates(dir)).rejects.toThrow(/confirm\.txt/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.each([
  ['confirm', () => templates.render('confirm', confirmData())],
  ['manage-link', () => templates.render('manage-link', manageLinkData())],
  ['digest', () => templates.render('digest', digestData(1))],
] as const)('every mail: %s', (_name, render) => {
  it('has <html lang>, a preheader, dark-mode support, the publisher and postal address', () => {
    const { html, text } = render();
    expect(html).toMatch(/<html lang="en-(GB|US)"/);
    expect(html).toMatch(/<div style="display:none;[^"]*">[^<\s]/);
    expect(html).toContain('<meta name="color-scheme" content="light dark">');
    expect(html).toContain('prefers-color-scheme: dark');
    expect(html).toContain('role="presentation"');
    for (const part of [html, text]) {
      expect(part).toContain('The Daily Bugle');
      expect(part).toContain('1 Fleet Street, London EC4A 2AB, United Kingdom');
    }
    // no placeholder survived and no external font is pulled in
    expect(html).not.toMatch(/\{\{|\}\}/);
    expect(text).not.toMatch(/\{\{|\}\}/);
    expect(html).not.toContain('fonts.googleapis.com');
  });

  it('has a subject without line breaks and a text part', () => {
    const { subject, text } = render();
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject.length).toBeGreaterThan(5);
    expect(text.trim().length).toBeGreaterThan(50);
  });
});

describe('confirm', () => {
  it('names the topics, has Confirm and the decline link, expiry, frequency and terms version', () => {
    const data = confirmData();
    const { subject, html, text } = templates.render('confirm', data);
    expect(subject).toBe('Confirm your alerts: Japan and NATO');
    const links = hrefs(html);
    expect(links).toContain(data.confirmUrl);
    expect(links).toContain(data.declineUrl);
    expect(links).toContain(data.termsUrl);
    const visible = visibleText(html);
    expect(visible).toMatch(/>?\s*Confirm\s/);
    expect(visible).toContain("No thanks, this wasn't me");
    expect(visible).toContain('1 December 2026 at 10:00 GMT');
    expect(visible).toContain('Terms & Conditions (version 3)');
    expect(visible).toContain('daily');
    // before consent there is nothing to unsubscribe from: the decline link stands in for it
    expect(visible).not.toContain('Unsubscribe');
    for (const url of [data.confirmUrl, data.declineUrl, data.termsUrl]) expect(text).toContain(url);
    expect(text).toContain('1 December 2026 at 10:00 GMT');
  });

  it('formats the expiry in the given time zone and language', () => {
    const { text } = templates.render('confirm', confirmData({ lang: 'de-DE', timeZone: 'Asia/Tokyo' }));
    expect(text).toContain('1. Dezember 2026 um 19:00');
  });
});

describe('manage-link', () => {
  it('has the button to the preferences, the expiry and the link in the text', () => {
    const data = manageLinkData();
    const { subject, html, text } = templates.render('manage-link', data);
    expect(subject).toBe('Your link to manage your alerts');
    expect(hrefs(html)).toContain(data.preferencesUrl);
    expect(visibleText(html)).toContain('Your link to manage your alerts');
    expect(visibleText(html)).toContain('2 December 2026 at 08:30 GMT');
    expect(text).toContain(data.preferencesUrl);
  });
});

describe('digest', () => {
  it('has the count and topics in the subject and the first headline as preheader', () => {
    const data = digestData(0, { more: false });
    const { subject, html } = templates.render('digest', data);
    expect(subject).toBe(`15 new articles: ${new Intl.ListFormat(data.lang, { type: 'conjunction' }).format(data.topicNames)}`);
    const first = data.sections[0]?.articles[0]?.title ?? '';
    expect(html).toMatch(new RegExp(`<div style="display:none;[^"]*">${first.replace(/[.*+?^${}()|[\]\\#]/g, '\\$&')}`));
    expect(templates.render('digest', { ...data, articleCount: 1 }).subject).toMatch(/^1 new article: /);
  });

  it('links every article, topic page, "N more", per-topic and global unsubscribe, preferences', () => {
    const data = digestData(1);
    const { html, text } = templates.render('digest', data);
    const links = hrefs(html);
    for (const url of digestUrls(data)) {
      expect(links).toContain(url);
      expect(text).toContain(url);
    }
    const visible = visibleText(html);
    const truncated = data.sections.find((s) => s.moreCount > 0);
    expect(truncated).toBeDefined();
    expect(visible).toContain(`${truncated?.moreCount} more on ${truncated?.topic.name}`);
    expect(visible.match(/Unsubscribe from this topic/g)).toHaveLength(data.sections.length);
    expect(visible).toContain('Unsubscribe from all alerts');
    expect(visible).toContain('Manage your alert preferences');
    expect(visible).toMatch(/confirmed on (3 March 2026|March 3, 2026)/);
    for (const s of data.sections) expect(visible).toContain(s.topic.name);
  });

  it('shows summaries and published times; omits a missing summary', () => {
    const data = digestData(2);
    const { html } = templates.render('digest', data);
    const withSummary = data.sections.flatMap((s) => s.articles).filter((a) => a.summary);
    for (const a of withSummary) expect(html).toContain(a.summary);
    expect(html).toMatch(/<time datetime="2026-11-25T\d\d:\d\d:00\.000Z">25 Nov 2026, \d\d:\d\d<\/time>/);
    expect(html).not.toContain('class="ta-summary"></p>');
  });

  it('escapes HTML in titles, summaries and topic names; never a raw <script>', () => {
    const evil = '<script>alert("x")</script>';
    const data = digestData(3);
    data.topicNames = [`Japan ${evil}`, 'NATO'];
    const first = data.sections[0];
    if (!first?.articles[0]) throw new Error('fixture');
    first.topic.name = `Japan ${evil}`;
    first.articles[0].title = `Title ${evil} & "quotes"`;
    first.articles[0].summary = `<img src=x onerror=alert(1)>`;
    data.publisherName = `Bugle ${evil}`;
    const { html, subject, text } = templates.render('digest', data);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('Title &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('Japan &lt;script&gt;');
    // the text part and the subject are not HTML: no entities there
    expect(text).toContain(`Title ${evil} & "quotes"`);
    expect(subject).toContain(`Japan ${evil}`);
  });

  it('turns javascript: and other non-web links into "#"', () => {
    const data = digestData(4);
    const a = data.sections[0]?.articles[0];
    if (!a) throw new Error('fixture');
    a.url = 'javascript:alert(document.cookie)';
    const { html, text } = templates.render('digest', data);
    expect(html).not.toContain('javascript:');
    expect(text).not.toContain('javascript:');
  });

  it('keeps the subject on one line even when topic names carry CR/LF', () => {
    const data = digestData(5);
    data.topicNames = ['Japan\r\nBcc: victim@example.com', 'NATO\nX-Evil: 1', 'Tab\there'];
    const { subject } = templates.render('digest', data);
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject).toContain('Japan Bcc: victim@example.com, NATO X-Evil: 1');
    const confirm = templates.render('confirm', confirmData({ topics: [{ name: 'A\r\n\r\nB', slug: 'a' }] }));
    expect(confirm.subject).toBe('Confirm your alerts: A B');
  });

  it('varies per recipient without state leaking between renders', () => {
    const a = templates.render('digest', digestData(10));
    const b = templates.render('digest', digestData(11));
    const a2 = templates.render('digest', digestData(10));
    expect(a.html).not.toBe(b.html);
    expect(a2).toEqual(a);
  });
});

describe('cleanSubject', () => {
  it('removes control characters and unicode line separators', () => {
    expect(cleanSubject(' a\r\nb\u2028c\u0000d\te  ')).toBe('a b c d e');
  });
});

describe('expandPartials', () => {
  it('renders exactly what Handlebars renders with runtime inline and file partials', () => {
    const hb = createMailHandlebars();
    const footer = 'Footer for {{name}}: {{#> why}}{{/why}} [{{#> missing}}{{/missing}}]';
    hb.registerPartial('footer', footer);
    const source =
      '{{#*inline "why"}}because {{#each items}}{{this}}{{#unless @last}}, {{/unless}}{{/each}}{{/inline}}' +
      '<p>{{#> why}}{{/why}}</p>{{#if name}}{{> footer}}{{/if}}';
    const data = { name: 'A & <B>', items: ['x', 'y'] };
    const expanded = expandPartials(source, new Map([['footer', footer]]));
    expect(expanded).not.toContain('inline');
    expect(expanded).not.toContain('{{>');
    expect(hb.compile(expanded)(data)).toBe(hb.compile(source)(data));
  });
});

describe('compiled MJML cache', () => {
  it('renders the same from the cache, and recompiles when a template changes', async () => {
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'ta-mjml-cache-'));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ta-templates-'));
    try {
      await cp(TEMPLATES_DIR, dir, { recursive: true });
      const first = await compileTemplates(dir, { cacheDir });
      const cached = (await import('node:fs')).readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
      expect(cached).toHaveLength(1);
      const second = await compileTemplates(dir, { cacheDir });
      const data = digestData();
      expect(second.render('digest', data)).toEqual(first.render('digest', data));
      expect(second.render('digest', data)).toEqual(templates.render('digest', data));

      // A changed source is a new key: compiled again, never served stale.
      const mjml = path.join(dir, 'confirm.mjml');
      const source = (await import('node:fs')).readFileSync(mjml, 'utf8');
      await writeFile(mjml, source.replace('</mj-body>', '<mj-section><mj-column><mj-text>Cache probe</mj-text></mj-column></mj-section></mj-body>'));
      const third = await compileTemplates(dir, { cacheDir });
      expect(third.render('confirm', confirmData()).html).toContain('Cache probe');
      expect((await import('node:fs')).readdirSync(cacheDir).filter((f) => f.endsWith('.json'))).toHaveLength(2);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });
});
