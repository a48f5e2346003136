import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_KINDS, FREQUENCIES } from '../../src/db/types.js';
import type { DigestPayload } from '../../src/services/digests.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { readerFlows } from '../helpers/flows.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { mailLinks, mainText, notARealPage, pageForms, pageLinks, pathPattern, type PageForm } from '../helpers/pages.js';

// Every link in every mail works. One mail of every kind the service sends goes through a real
// SMTP server; a reader follows each link in the HTML and in the text part: each must open a real
// page, and each form on it, submitted as a person fills it, must do what its button says. The
// crawl is generic: a new link or form is followed without editing this test, a new kind of mail
// fails it until the round below produces one, and a new button fails it until EXPECT says what
// the button does. Submitting is destructive, so each form is replayed on a fresh round of mail.

let smtp: TestSmtpServer;
let app: TestApp;
let admin: Awaited<ReturnType<typeof apiClient>>;
let flows: ReturnType<typeof readerFlows>;
const articleUrls = new Set<string>();
const TOPICS: Record<string, string> = { japan: 'Japan', nato: 'NATO' };

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await startTestApp({ SMTP_URL: smtp.url, SIGNUP_RATE_LIMIT: '10000', MAIL_FROM: 'Example News <alerts@news.example>', PUBLISHER_NAME: 'Example News', POSTAL_ADDRESS: '1 Fleet Street, London' });
  admin = await apiClient(app);
  flows = readerFlows(app, smtp);
  for (const [slug, name] of Object.entries(TOPICS)) expect((await admin.post('/api/v1/topics', { slug, name, query: slug })).status).toBe(201);
});
afterAll(async () => {
  await app?.close();
  await smtp?.close();
});

interface Mail {
  key: string;
  to: string;
  parsed: ParsedMail;
}

/** Monday 7 December 2026, 07:00 UTC, one week later per round (weekly digests go on Mondays). */
const roundStart = (round: number) => new Date(Date.UTC(2026, 11, 7 + 7 * round, 7, 0, 0));

/**
 * One mail of every kind, to fresh addresses: a confirmation left unanswered, instant, daily and
 * weekly digests, a preference link from /manage, and the admin's test digest.
 */
async function produceRound(round: number): Promise<Mail[]> {
  app.clock.set(roundStart(round));
  const who = (role: string) => `r${round}-${role}@example.com`;
  for (const frequency of FREQUENCIES) await flows.activeSubscriber(who(frequency), ['japan', 'nato'], frequency);
  app.clock.advance(60_000);
  for (const slug of ['japan', 'nato']) {
    const url = `https://news.example/r${round}/${slug}`;
    articleUrls.add(url);
    expect((await admin.post('/api/v1/articles', { url, title: `${slug} story of round ${round}`, summary: `About ${slug}.`, publishedAt: app.clock.now().toISOString() })).status).toBe(201);
  }
  app.clock.advance(6 * 60_000);
  await app.ctx.services.scheduler.run('test'); // instant
  app.clock.set(new Date(roundStart(round).getTime() + 3600_000 + 30_000));
  await app.ctx.services.scheduler.run('test'); // daily and weekly, 08:00 on a Monday
  expect((await flows.signup({ email: who('pending'), topics: ['japan'] })).status).toBe(202);
  expect((await fetch(`${app.url}/manage`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `email=${encodeURIComponent(who('daily'))}` })).status).toBe(202);
  expect((await admin.post('/api/v1/digests/test', { email: who('editor') })).status).toBe(202);

  const before = smtp.received.length;
  await app.ctx.services.sender.runOnce();
  const mails: Mail[] = [];
  for (const raw of smtp.received.slice(before)) {
    const parsed = await simpleParser(raw.raw);
    const delivery = (await app.ctx.repos.deliveries.list({ limit: 500 })).find((d) => String(d.id) === parsed.headers.get('x-delivery-id'));
    if (!delivery) throw new Error(`a mail without its delivery: ${parsed.subject}`);
    // Earlier rounds' readers who are still subscribed get this round's digests too: not ours.
    if (!delivery.toAddress?.startsWith(`r${round}-`)) continue;
    const frequency = delivery.kind === 'digest' ? `:${(delivery.payload as DigestPayload).frequency}` : '';
    mails.push({ key: `${delivery.kind}${frequency}`, to: delivery.toAddress!, parsed });
  }
  return mails;
}

/** The mail's links, each with a key that finds the same link in another round's mail. */
function keyedLinks(mail: Mail): { key: string; url: string; part: string }[] {
  const { html, text } = mailLinks(mail.parsed);
  const seen = new Map<string, number>();
  return [...html.map((url) => ({ url, part: 'html' })), ...text.map((url) => ({ url, part: 'text' }))].map((l) => {
    const base = `${l.part} ${new URL(l.url).origin === new URL(app.url).origin ? pathPattern(l.url) : new URL(l.url).host}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return { ...l, key: `${base} #${n}` };
  });
}

async function open(url: string, init?: RequestInit) {
  const res = await fetch(url, { redirect: 'follow', ...init });
  return { url: res.url, status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), body: await res.text() };
}

function expectPage(page: Awaited<ReturnType<typeof open>>, where: string) {
  expect(notARealPage(page.status, page.type, page.body), `${where} → ${page.url}`).toBeUndefined();
}

// ---------------------------------------------------------------- what each button must do

interface State {
  exists: boolean;
  statuses: Record<string, string>;
  queued: Record<string, number>;
  articles: number;
}

async function stateOf(address: string): Promise<State> {
  const subscriber = await app.ctx.repos.subscribers.findByEmail(address);
  const statuses = subscriber ? Object.fromEntries((await app.ctx.repos.subscriptions.forSubscriber(subscriber.id)).map((s) => [s.topicSlug, s.status])) : {};
  const queued: Record<string, number> = {};
  for (const d of await app.ctx.repos.deliveries.list({ status: 'queued', limit: 1000 })) if (d.toAddress === address) queued[d.kind] = (queued[d.kind] ?? 0) + 1;
  return { exists: subscriber !== undefined, statuses, queued, articles: await app.ctx.repos.articles.count() };
}

const live = (s: State) => Object.entries(s.statuses).filter(([, st]) => st === 'active' || st === 'pending').map(([t]) => t).sort();

interface Effect {
  before: State;
  after: State;
  /** Text of the page the form was on, and of the page its answer showed. */
  page: string;
  answer: string;
  /** The address typed into the form, if one was. */
  typed?: State;
}

const EXPECT: Record<string, (e: Effect) => void> = {
  Confirm: (e) => {
    const pending = Object.keys(e.before.statuses).filter((t) => e.before.statuses[t] === 'pending');
    expect(pending.length).toBeGreaterThan(0);
    for (const t of pending) expect(e.after.statuses[t]).toBe('active');
    expect(e.answer).toContain("You're subscribed");
  },
  "No thanks, this wasn't me": (e) => {
    expect(Object.values(e.after.statuses)).not.toContain('pending');
    expect(e.answer).toContain('Thanks for letting us know');
  },
  Unsubscribe: (e) => {
    const named = /This stops alerts about (.+?)\. Other topics/.exec(e.page)![1]!.split(', ');
    for (const [slug, status] of Object.entries(e.after.statuses)) {
      expect(status, slug).toBe(named.includes(TOPICS[slug]!) ? 'unsubscribed' : e.before.statuses[slug]);
    }
    expect(live(e.after).length).toBeGreaterThan(0);
    expect(e.answer).toContain('You are unsubscribed');
  },
  'Unsubscribe from all alerts': (e) => {
    expect(live(e.before).length).toBeGreaterThan(0);
    expect(live(e.after)).toEqual([]);
    expect(e.answer).toContain('any of our alerts');
  },
  'Unsubscribe from all': (e) => {
    expect(live(e.after)).toEqual([]);
    expect(e.answer).toContain('unsubscribed from all alerts');
  },
  'Save preferences': (e) => {
    expect(e.after.statuses).toEqual(e.before.statuses);
    expect(e.answer).toContain('Your preferences are saved.');
  },
  'Erase my data…': (e) => {
    expect(e.after).toEqual(e.before);
    expect(e.answer).toContain('Erase your data?');
  },
  'Yes, erase my data': (e) => {
    expect(e.before.exists).toBe(true);
    expect(e.after.exists).toBe(false);
    expect(e.answer).toContain('Your data is erased');
  },
  'Email me a link': (e) => {
    expect(e.answer).toContain('Check your inbox');
    expect(e.typed!.queued['manage-link'] ?? 0).toBe((e.before.queued['manage-link'] ?? 0) + (e.before.exists ? 1 : 0));
  },
  // The demo page (linked from the home page in development and tests).
  'Publish sample articles': (e) => {
    expect(e.after.articles - e.before.articles).toBe(3);
  },
  'Sign up for free today': (e) => {
    expect(e.answer).toContain('Check your inbox');
    expect(e.typed!.queued.confirmation).toBe(1);
  },
};

// ---------------------------------------------------------------- the crawl

interface Step {
  mail: string;
  link: string;
  /** A link on the page the mail's link opened, clicked before the forms (by its path). */
  via?: string;
  /** Forms submitted one after the other, each on the page the previous one answered with. */
  chain: { pattern: string; index: number; label: string }[];
}

let typedSeq = 0;

describe('every link in every mail', () => {
  it('opens a real page, and every form on it does what its button says', async () => {
    const survey = await produceRound(0);
    const kinds = new Set(survey.map((m) => m.key));
    const expectedKinds = DELIVERY_KINDS.flatMap((k) => (k === 'digest' ? FREQUENCIES.map((f) => `digest:${f}`) : [k]));
    expect([...kinds].sort(), 'one mail of every kind').toEqual([...expectedKinds].sort());
    expect(survey).toHaveLength(expectedKinds.length);

    // GET every link of every mail, and every same-origin link on the pages they open.
    const steps: Step[] = [];
    const formsSeen = new Set<string>();
    const pagesSeen = new Set<string>();
    let opened = 0;
    // A form is submitted once per page kind and button (the preference page's forms once, though
    // every digest and the preference-link mail open it).
    const collectForms = (mail: Mail, link: string, chain: Step['chain'], pageUrl: string, body: string, via?: string) => {
      const pattern = pathPattern(pageUrl);
      for (const form of pageForms(body, pageUrl, () => mail.to)) {
        const sig = `${pattern} #${form.index} ${form.label}`;
        if (formsSeen.has(sig)) continue;
        formsSeen.add(sig);
        steps.push({ mail: mail.key, link, via, chain: [...chain, { pattern, index: form.index, label: form.label }] });
      }
    };
    for (const mail of survey) {
      const links = keyedLinks(mail);
      expect(links.filter((l) => l.part === 'html').length, `${mail.key}: links in HTML`).toBeGreaterThan(0);
      expect(links.filter((l) => l.part === 'text').length, `${mail.key}: links in text`).toBeGreaterThan(0);
      for (const link of links) {
        if (new URL(link.url).origin !== new URL(app.url).origin) {
          expect(articleUrls.has(link.url), `${mail.key}: ${link.url} is neither ours nor an article`).toBe(true);
          continue;
        }
        const page = await open(link.url);
        opened++;
        expectPage(page, `${mail.key} ${link.key}`);
        collectForms(mail, link.key, [], link.url, page.body);
        for (const onward of pageLinks(page.body, link.url)) {
          if (pagesSeen.has(pathPattern(onward.href))) continue;
          pagesSeen.add(pathPattern(onward.href));
          const next = await open(onward.href);
          opened++;
          if (onward.kind === 'download') {
            expect(next.status, onward.href).toBe(200);
            expect(next.disposition, onward.href).toMatch(/^attachment/);
          } else if (onward.kind === 'feed') {
            expect(next.status, onward.href).toBe(200);
            expect(next.type, onward.href).toMatch(/^application\/(rss|atom)\+xml/);
            expect(next.body, onward.href).toMatch(/^<\?xml[\s\S]*<(rss|feed)\b/);
          } else {
            expectPage(next, `${mail.key} ${link.key} → ${onward.href}`);
            collectForms(mail, link.key, [], next.url, next.body, pathPattern(onward.href));
          }
        }
      }
    }

    // Each form on a fresh round: find the same mail, link and form; submit it; check the effect.
    // A form's answer can hold the next step (erase asks to confirm): that becomes a step too.
    let round = 1;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      const mails = await produceRound(round++);
      const mail = mails.find((m) => m.key === step.mail)!;
      const link = keyedLinks(mail).find((l) => l.key === step.link)!;
      expect(link, `${step.mail} ${step.link} in round ${round - 1}`).toBeDefined();
      let page = await open(link.url);
      if (step.via) {
        const onward = pageLinks(page.body, link.url).find((l) => pathPattern(l.href) === step.via);
        expect(onward, `${step.link} → ${step.via}`).toBeDefined();
        page = await open(onward!.href);
      }
      let pageUrl = page.url;
      for (const [n, want] of step.chain.entries()) {
        let typedAddress: string | undefined;
        const forms = pageForms(page.body, pageUrl, ({ action }) => (typedAddress = new URL(action).pathname === '/subscribe' ? `typed-${++typedSeq}@example.com` : mail.to));
        const form = forms.find((f) => f.index === want.index) as PageForm;
        expect(form?.label, `${want.pattern} form #${want.index}`).toBe(want.label);
        const expectation = EXPECT[form.label];
        expect(expectation, `no expectation for the button "${form.label}" on ${want.pattern}: say in EXPECT what it must do`).toBeDefined();
        const before = await stateOf(mail.to);
        app.clock.advance(3000); // a person takes a moment (and the signup form's time trap wants one)
        const answer = await open(form.action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.body.toString() });
        expectPage(answer, `${step.mail} ${step.link} → "${form.label}"`);
        expectation!({ before, after: await stateOf(mail.to), page: mainText(page.body), answer: mainText(answer.body), typed: typedAddress ? await stateOf(typedAddress) : undefined });
        const last = n === step.chain.length - 1;
        if (last && step.chain.length < 3) collectForms(mail, step.link, step.chain, answer.url, answer.body, step.via);
        page = answer;
        pageUrl = answer.url;
      }
    }
    console.log(steps.map((s) => `${s.mail} ${s.link}${s.via ? ` → ${s.via}` : ''} ${s.chain.map((c) => `${c.pattern}#${c.index} ${c.label}`).join(" > ")}`).join("\n"));
    console.log(`${survey.length} mails, ${opened} pages opened, ${steps.length} forms submitted on ${round - 1} fresh rounds`);
    expect(steps.map((s) => s.chain.at(-1)!.label)).toEqual(expect.arrayContaining(Object.keys(EXPECT)));
  }, 180_000);
});
