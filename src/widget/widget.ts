// The embeddable signup box (GET /widget.js). Plain DOM, no framework, bundled and minified by
// src/widget/build.ts when the server starts.
//
//   <div data-topic-alerts data-topics="japan,nato" data-article="https://…/article"></div>
//   <script async src="https://alerts.example.com/widget.js"></script>
//
// Every [data-topic-alerts] element (present now, at DOMContentLoaded, or added later) gets a
// shadow root with the box. Anything inside the element is fallback content (e.g. a link to
// /subscribe): it stays visible if the box cannot render. Whatever goes wrong (config request
// fails, no topics, storage blocked) the box renders nothing and never throws into the page.
//
// No Thanks is remembered in localStorage under `topic-alerts:dismissed:<slugs>`, the box's
// topic slugs sorted and joined with commas, with the expiry time (ms since the epoch) as value:
// a reader who dismisses the Japan box is not asked about Japan again for `snoozeDays`, but is
// still offered other topics.

// styles.css, minified and inlined by build.ts.
declare const __WIDGET_CSS__: string;
const CSS = __WIDGET_CSS__;

interface TopicOption {
  slug: string;
  name: string;
  checked?: boolean;
}
interface Consent {
  mode: 'checkbox' | 'statement';
  text: string;
  termsUrl: string;
  termsVersion: number;
}
interface WidgetConfig {
  topics: TopicOption[];
  heading?: string;
  submitLabel?: string;
  dismissLabel?: string;
  consent: Consent;
  frequencies?: string[];
  defaultFrequency?: string;
  snoozeDays?: number;
  formToken: string;
  publisherName?: string;
  /** Optional: the server's time trap, if it ever announces it. */
  minSubmitMs?: number;
}
interface Issue {
  path: string;
  message: string;
}

const DISMISS_PREFIX = 'topic-alerts:dismissed:';
// The server silently drops a submission made less than 2 s after its form token was issued
// (time trap against bots). A fast human, or one resubmitting right after the config was
// reloaded, must not lose their signup to it: the widget waits out the rest itself.
const MIN_TOKEN_AGE_MS = 2200;
// Tokens also go stale (the server drops them after a day, silently too): one older than this
// is replaced before submitting.
const TOKEN_REFRESH_MS = 3_600_000;
const FREQUENCY_LABELS: Record<string, string> = { instant: 'As it happens', daily: 'Once a day', weekly: 'Once a week' };
const TERMS_WORDS = /Terms (?:&|and) Conditions/;

const MSG = {
  success: 'Check your inbox to confirm your subscription.',
  sending: 'Signing you up…',
  tooMany: 'Too many attempts. Please try again later.',
  termsChanged: 'Our Terms & Conditions have changed. Please review them and submit again.',
  unavailable: 'Sign-up is not available right now. Please try again later.',
  network: 'We could not reach the server. Check your connection and try again.',
  generic: 'Something went wrong. Please try again.',
  email: 'Enter your email address, like name@example.com.',
  topics: 'Choose at least one topic.',
  consent: 'Tick the box to accept the Terms & Conditions.',
};

type Child = Node | string | null | undefined | false;

/** A tiny element factory. Text always goes in as text nodes: nothing from the server is parsed as HTML. */
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const name in attrs) {
    const v = attrs[name];
    if (v === true) el.setAttribute(name, '');
    else if (typeof v === 'string') el.setAttribute(name, v);
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const uniqueSorted = (slugs: string[]) => [...new Set(slugs)].sort();
const dismissKey = (slugs: string[]) => DISMISS_PREFIX + uniqueSorted(slugs).join(',');

function isDismissed(slugs: string[]): boolean {
  if (slugs.length === 0) return false;
  try {
    const key = dismissKey(slugs);
    const raw = localStorage.getItem(key);
    if (raw === null) return false;
    if (Number(raw) > Date.now()) return true;
    localStorage.removeItem(key);
  } catch {
    // Storage blocked (privacy mode, sandboxed frame): nothing remembered, so ask.
  }
  return false;
}

function remember(slugsList: string[][], days: number): void {
  const until = String(Date.now() + days * 86_400_000);
  for (const slugs of slugsList) {
    try {
      if (slugs.length > 0) localStorage.setItem(dismissKey(slugs), until);
    } catch {
      // as above
    }
  }
}

function findBase(): URL | undefined {
  let src = (document.currentScript as HTMLScriptElement | null)?.src;
  if (!src) {
    const scripts = document.querySelectorAll<HTMLScriptElement>('script[src]');
    for (let i = scripts.length - 1; i >= 0 && !src; i--) {
      if (/\/widget\.js(?:[?#]|$)/.test(scripts[i]!.src)) src = scripts[i]!.src;
    }
  }
  // The directory of widget.js, so a service mounted under a path prefix works too.
  return src ? new URL('.', src) : undefined;
}

function validConfig(c: unknown): c is WidgetConfig {
  const cfg = c as WidgetConfig | null;
  return (
    !!cfg &&
    Array.isArray(cfg.topics) &&
    cfg.topics.length > 0 &&
    cfg.topics.every((t) => t && typeof t.slug === 'string' && typeof t.name === 'string') &&
    !!cfg.consent &&
    (cfg.consent.mode === 'checkbox' || cfg.consent.mode === 'statement') &&
    typeof cfg.consent.text === 'string' &&
    // No terms in force (termsVersion null): a signup could not succeed, so no box.
    typeof cfg.consent.termsVersion === 'number' &&
    typeof cfg.formToken === 'string'
  );
}

/** The consent text with its "Terms & Conditions" words as the link to the terms (new tab). */
function consentText(consent: Consent): Child[] {
  const link = (text: string) => h('a', { href: consent.termsUrl, target: '_blank', rel: 'noopener' }, text);
  const m = TERMS_WORDS.exec(consent.text);
  if (!m) return [consent.text + ' (', link('Terms & Conditions'), ')'];
  return [consent.text.slice(0, m.index), link(m[0]), consent.text.slice(m.index + m[0].length)];
}

let sharedSheet: CSSStyleSheet | undefined;
function applyStyles(root: ShadowRoot): void {
  // A constructed stylesheet is not subject to the host page's CSP style-src; a <style>
  // element is the fallback for browsers without them.
  try {
    if (!sharedSheet) {
      sharedSheet = new CSSStyleSheet();
      sharedSheet.replaceSync(CSS);
    }
    root.adoptedStyleSheets = [sharedSheet];
  } catch {
    root.append(h('style', {}, CSS));
  }
}

function mount(host: HTMLElement, base: URL): void {
  const requested = (host.getAttribute('data-topics') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const article = host.getAttribute('data-article')?.trim() || undefined;
  if (requested.length === 0 && !article) return;
  if (isDismissed(requested)) return;

  const api = (path: string) => new URL('api/v1/' + path, base).toString();
  let cfg: WidgetConfig;
  let tokenAt = 0;
  let root: ShadowRoot;
  let slugs: string[] = [];
  let busy = false;

  async function loadConfig(): Promise<WidgetConfig | undefined> {
    const url = new URL(api('widget-config'));
    if (requested.length > 0) url.searchParams.set('topics', requested.join(','));
    if (article) url.searchParams.set('article', article);
    try {
      // no-store: the answer carries a fresh form token, and after a terms_outdated the new
      // terms version; a cached copy could hold neither.
      const res = await fetch(url.toString(), { credentials: 'omit', cache: 'no-store', headers: { accept: 'application/json' } });
      if (!res.ok) return undefined;
      const body: unknown = await res.json();
      if (!validConfig(body)) return undefined;
      tokenAt = Date.now();
      return body;
    } catch {
      return undefined;
    }
  }

  function postEvent(event: 'shown' | 'dismissed'): void {
    try {
      fetch(api('prompt-events'), {
        method: 'POST',
        keepalive: true,
        credentials: 'omit',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ topics: slugs, event }),
      }).catch(() => undefined);
    } catch {
      // counting is best effort
    }
  }

  // The form's elements, rebuilt by render().
  let form: HTMLFormElement;
  let email: HTMLInputElement;
  let topicBoxes: HTMLInputElement[] = [];
  let topicsGroup: HTMLFieldSetElement | undefined;
  let frequency: HTMLSelectElement | undefined;
  let consentBox: HTMLInputElement | undefined;
  let honeypot: HTMLInputElement;
  let submitBtn: HTMLButtonElement;
  let status: HTMLElement;
  const errorEls: Record<string, HTMLElement> = {};

  function errorEl(field: string): HTMLElement {
    return (errorEls[field] = h('p', { id: `ta-${field}-error`, class: 'error', hidden: true }));
  }

  function render(): void {
    const prevEmail = email?.value ?? '';
    const prevTopics = topicBoxes.length ? new Set(topicBoxes.filter((b) => b.checked).map((b) => b.value)) : undefined;
    const prevFrequency = frequency?.value;
    const c = cfg.consent;
    const topics = cfg.topics;
    slugs = uniqueSorted(topics.map((t) => t.slug));

    email = h('input', { id: 'ta-email', name: 'email', type: 'email', autocomplete: 'email', required: true, spellcheck: 'false', autocapitalize: 'off' });
    email.value = prevEmail;

    topicBoxes = [];
    topicsGroup = undefined;
    let topicsPart: Child;
    if (topics.length === 1) {
      topicsPart = h('p', { class: 'intro' }, 'Topic: ', h('strong', {}, topics[0]!.name));
    } else {
      topicsGroup = h('fieldset', { id: 'ta-topics' }, h('legend', {}, 'Topics'));
      topics.forEach((t, i) => {
        const box = h('input', { type: 'checkbox', id: `ta-topic-${i}`, name: 'topics', value: t.slug });
        box.checked = prevTopics ? prevTopics.has(t.slug) : t.checked !== false;
        topicBoxes.push(box);
        topicsGroup!.append(h('div', { class: 'check' }, box, h('label', { for: box.id }, t.name)));
      });
      topicsGroup.append(errorEl('topics'));
      topicsPart = topicsGroup;
    }

    const freqs = (cfg.frequencies ?? []).filter((f) => typeof f === 'string');
    frequency = undefined;
    if (freqs.length > 1) {
      frequency = h('select', { id: 'ta-frequency', name: 'frequency' }, ...freqs.map((f) => h('option', { value: f }, FREQUENCY_LABELS[f] ?? f)));
      const wanted = prevFrequency ?? cfg.defaultFrequency ?? 'daily';
      frequency.value = freqs.includes(wanted) ? wanted : freqs[0]!;
    }

    consentBox = undefined;
    let consentPart: Child = null;
    let statement: Child = null;
    if (c.mode === 'checkbox') {
      // Never pre-ticked: consent must be an action of the reader.
      consentBox = h('input', { type: 'checkbox', id: 'ta-consent', name: 'acceptTerms', required: true });
      consentPart = h('div', { class: 'field' }, h('div', { class: 'check' }, consentBox, h('label', { for: 'ta-consent' }, ...consentText(c))), errorEl('consent'));
    } else {
      statement = h('p', { id: 'ta-statement', class: 'statement' }, ...consentText(c));
    }

    honeypot = h('input', { id: 'ta-website', name: 'website', type: 'text', tabindex: '-1', autocomplete: 'off' });
    submitBtn = h('button', { type: 'submit', class: 'submit', 'aria-describedby': statement ? 'ta-statement' : undefined }, cfg.submitLabel || 'Sign up for free today');
    const dismissBtn = h('button', { type: 'button', class: 'dismiss' }, cfg.dismissLabel || 'No Thanks');
    dismissBtn.addEventListener('click', dismiss);

    form = h(
      'form',
      { novalidate: true, 'aria-labelledby': 'ta-heading' },
      topicsGroup ? null : topicsPart,
      h('div', { class: 'field' }, h('label', { for: 'ta-email' }, 'Email address'), email, errorEl('email')),
      topicsGroup,
      frequency && h('div', { class: 'field' }, h('label', { for: 'ta-frequency' }, 'How often'), frequency, errorEl('frequency')),
      consentPart,
      h('div', { class: 'hp', 'aria-hidden': 'true' }, h('label', { for: 'ta-website' }, 'Leave this field empty'), honeypot),
      h('div', { class: 'actions' }, submitBtn, dismissBtn),
      statement,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void submit();
    });

    status = h('p', { id: 'ta-status', class: 'status', role: 'status', 'aria-live': 'polite', tabindex: '-1' });
    const intro = cfg.publisherName ? h('p', { class: 'intro' }, `Free email alerts from ${cfg.publisherName}. Unsubscribe at any time.`) : null;
    root.replaceChildren(
      h('section', { class: 'box', 'aria-labelledby': 'ta-heading' }, h('h2', { id: 'ta-heading' }, cfg.heading || 'Get the latest news on this topic'), intro, form, status),
    );
  }

  function say(text: string, ok = false): void {
    status.textContent = text;
    status.classList.toggle('ok', ok);
  }

  function fieldFor(path: string): { key: string; el: HTMLElement; describe: HTMLElement[] } | undefined {
    const key = path.split('.')[0]!;
    if (key === 'email') return { key, el: email, describe: [email] };
    if (key === 'topics' && topicsGroup) return { key, el: topicBoxes[0]!, describe: [topicsGroup] };
    if (key === 'frequency' && frequency) return { key, el: frequency, describe: [frequency] };
    if (key === 'acceptTerms' && consentBox) return { key: 'consent', el: consentBox, describe: [consentBox] };
    return undefined;
  }

  function clearErrors(): void {
    for (const key in errorEls) {
      errorEls[key]!.textContent = '';
      errorEls[key]!.hidden = true;
    }
    for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    for (const el of [email, frequency, consentBox, topicsGroup]) {
      const ids = (el?.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id && !id.endsWith('-error'));
      if (ids.length) el!.setAttribute('aria-describedby', ids.join(' '));
      else el?.removeAttribute('aria-describedby');
    }
  }

  /** Shows each issue next to its field; returns whether any could be placed. Focuses the first. */
  function showErrors(issues: Issue[]): boolean {
    let first: HTMLElement | undefined;
    const order: (HTMLElement | undefined)[] = [email, ...topicBoxes, frequency, consentBox];
    for (const issue of issues) {
      const f = fieldFor(issue.path);
      if (!f || !errorEls[f.key] || errorEls[f.key]!.textContent) continue;
      const err = errorEls[f.key]!;
      const m = issue.message.trim();
      err.textContent = m.charAt(0).toUpperCase() + m.slice(1) + (/[.!?]$/.test(m) ? '' : '.');
      err.hidden = false;
      const invalid = f.key === 'topics' ? topicBoxes : [f.el];
      for (const el of invalid) el.setAttribute('aria-invalid', 'true');
      for (const el of f.describe) el.setAttribute('aria-describedby', [el.getAttribute('aria-describedby'), err.id].filter(Boolean).join(' '));
      if (!first || order.indexOf(f.el) < order.indexOf(first)) first = f.el;
    }
    first?.focus();
    return !!first;
  }

  function localIssues(): Issue[] {
    const issues: Issue[] = [];
    if (!email.value.trim() || !email.checkValidity()) issues.push({ path: 'email', message: MSG.email });
    if (topicBoxes.length > 0 && !topicBoxes.some((b) => b.checked)) issues.push({ path: 'topics', message: MSG.topics });
    if (consentBox && !consentBox.checked) issues.push({ path: 'acceptTerms', message: MSG.consent });
    return issues;
  }

  function serverIssues(body: unknown): Issue[] {
    const issues = (body as { error?: { issues?: unknown } } | null)?.error?.issues;
    return Array.isArray(issues) ? issues.filter((i): i is Issue => !!i && typeof i.path === 'string' && typeof i.message === 'string') : [];
  }

  /** A new form token (and whatever else changed), keeping what the reader entered. */
  async function refreshToken(): Promise<boolean> {
    const fresh = await loadConfig();
    if (fresh) cfg.formToken = fresh.formToken;
    return !!fresh;
  }

  async function post(): Promise<Response> {
    if (Date.now() - tokenAt > TOKEN_REFRESH_MS) await refreshToken();
    const minAge = typeof cfg.minSubmitMs === 'number' ? cfg.minSubmitMs + 200 : MIN_TOKEN_AGE_MS;
    const wait = minAge - (Date.now() - tokenAt);
    if (wait > 0) await sleep(wait);
    const payload = {
      email: email.value.trim(),
      topics: topicBoxes.length > 0 ? topicBoxes.filter((b) => b.checked).map((b) => b.value) : [cfg.topics[0]!.slug],
      frequency: frequency?.value ?? cfg.defaultFrequency ?? 'daily',
      acceptTerms: true,
      termsVersion: cfg.consent.termsVersion,
      sourceUrl: location.href.split('#')[0],
      formToken: cfg.formToken,
      website: honeypot.value,
    };
    return fetch(api('subscriptions'), {
      method: 'POST',
      credentials: 'omit',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(payload),
    });
  }

  const readJson = async (res: Response): Promise<unknown> => {
    try {
      return await res.json();
    } catch {
      return null; // not JSON: the status decides
    }
  };

  async function submit(): Promise<void> {
    if (busy) return;
    clearErrors();
    say('');
    const problems = localIssues();
    if (problems.length > 0) {
      showErrors(problems);
      return;
    }
    busy = true;
    submitBtn.setAttribute('aria-disabled', 'true');
    say(MSG.sending);
    try {
      let res: Response;
      let body: unknown;
      try {
        res = await post();
        body = await readJson(res);
        // A form token the server no longer takes (the page was open for long): once more
        // with a fresh one, without bothering the reader.
        if (res.status === 400 && serverIssues(body).some((i) => i.path === 'formToken') && (await refreshToken())) {
          res = await post();
          body = await readJson(res);
        }
      } catch {
        say(MSG.network);
        return;
      }
      const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
      if (res.ok) {
        form.hidden = true;
        say(MSG.success, true);
        status.focus();
      } else if (res.status === 400) {
        say('');
        if (!showErrors(serverIssues(body))) {
          // Nothing to put next to a field (e.g. an expired form token): the server's own words.
          const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
          say(typeof message === 'string' && message ? message : MSG.generic);
        }
      } else if (res.status === 409 && code === 'terms_outdated') {
        await reloadForNewTerms();
      } else if (res.status === 429) {
        say(MSG.tooMany);
      } else if (res.status === 503) {
        say(MSG.unavailable);
      } else {
        say(MSG.generic);
      }
    } finally {
      busy = false;
      submitBtn.removeAttribute('aria-disabled');
    }
  }

  async function reloadForNewTerms(): Promise<void> {
    const fresh = await loadConfig();
    if (!fresh) {
      say(MSG.unavailable);
      return;
    }
    cfg = fresh;
    render(); // keeps email, topics and frequency; the consent box comes back unticked
    say(MSG.termsChanged);
    (consentBox ?? submitBtn).focus();
  }

  function dismiss(): void {
    // Remember under both the embed's own topics and the ones shown, so the next page view can
    // skip the box before it even asks the server.
    remember([requested, slugs], cfg.snoozeDays ?? 30);
    postEvent('dismissed');
    root.replaceChildren();
  }

  void (async () => {
    const loaded = await loadConfig();
    if (!loaded) return;
    cfg = loaded;
    slugs = uniqueSorted(cfg.topics.map((t) => t.slug));
    if (isDismissed(slugs)) return;
    try {
      root = host.attachShadow({ mode: 'open' });
    } catch {
      return; // already has a shadow root: someone else owns this element
    }
    applyStyles(root);
    render();
    postEvent('shown');
  })().catch(() => undefined);
}

(() => {
  const base = findBase();
  if (!base) return;
  const w = window as unknown as Record<string, WeakSet<Element> | undefined>;
  // One registry per page (the script may be included twice): each element is mounted once.
  const seen = (w.__topicAlertsSeen ??= new WeakSet<Element>());
  const scan = () => {
    for (const el of document.querySelectorAll<HTMLElement>('[data-topic-alerts]')) {
      if (seen.has(el) || el.shadowRoot) continue;
      seen.add(el);
      try {
        mount(el, base);
      } catch {
        // never an error in the reader's page
      }
    }
  };
  scan();
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', scan);
  // Boxes added later (infinite scroll, client-side navigation).
  let pending = false;
  try {
    new MutationObserver(() => {
      if (pending) return;
      pending = true;
      setTimeout(() => {
        pending = false;
        scan();
      }, 50);
    }).observe(document.documentElement, { childList: true, subtree: true });
  } catch {
    // no observer: present and DOMContentLoaded boxes only
  }
})();
