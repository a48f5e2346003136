// The box's DOM: its styles, the form built from the config, and the status line and field
// errors shown in it. Nothing here sends anything: the buttons call the handlers render() is given.
import { uniqueSorted, type BoxState, type Consent, type Issue, type WidgetConfig } from './state.js';

// styles.css, minified and inlined by build.ts.
declare const __WIDGET_CSS__: string;
const CSS = __WIDGET_CSS__;

// The English words, for a server too old to send `strings`; the server's are in the reader's language.
const ENGLISH: Record<string, string> = {
  intro: 'Free email alerts. Unsubscribe at any time.',
  topic: 'Topic:',
  topics: 'Topics',
  email: 'Email address',
  frequency: 'How often',
  'frequency.instant': 'As it happens',
  'frequency.daily': 'Once a day',
  'frequency.weekly': 'Once a week',
  honeypot: 'Leave this field empty',
};
const TERMS_WORDS = /Terms (?:&|and) Conditions/;

/** One of the box's words, in the language the server chose. */
export function word(cfg: WidgetConfig, name: string, english = ENGLISH[name] ?? name): string {
  const s = cfg.strings?.[name];
  return typeof s === 'string' && s ? s : english;
}

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

/** The consent text with its "Terms & Conditions" words as the link to the terms (new tab). */
function consentText(consent: Consent): Child[] {
  const link = (text: string) => h('a', { href: consent.termsUrl, target: '_blank', rel: 'noopener' }, text);
  const at = consent.linkText ? consent.text.indexOf(consent.linkText) : -1;
  if (at !== -1) return [consent.text.slice(0, at), link(consent.linkText!), consent.text.slice(at + consent.linkText!.length)];
  const m = TERMS_WORDS.exec(consent.text);
  if (!m) return [consent.text + ' (', link(consent.linkText || 'Terms & Conditions'), ')'];
  return [consent.text.slice(0, m.index), link(m[0]), consent.text.slice(m.index + m[0].length)];
}

let sharedSheet: CSSStyleSheet | undefined;
export function applyStyles(root: ShadowRoot): void {
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

function errorEl(state: BoxState, field: string): HTMLElement {
  return (state.errorEls[field] = h('p', { id: `ta-${field}-error`, class: 'error', hidden: true }));
}

/** What the form's buttons do; passed in, so that rendering and sending stay apart. */
export interface Handlers {
  submit(): void;
  dismiss(): void;
}

export function render(state: BoxState, on: Handlers): void {
  const cfg = state.cfg;
  const prevEmail = state.email?.value ?? '';
  const prevTopics = state.topicBoxes.length ? new Set(state.topicBoxes.filter((b) => b.checked).map((b) => b.value)) : undefined;
  const prevFrequency = state.frequency?.value;
  const c = cfg.consent;
  const topics = cfg.topics;
  state.slugs = uniqueSorted(topics.map((t) => t.slug));

  // An address reads left to right in any language.
  const email = (state.email = h('input', { id: 'ta-email', name: 'email', type: 'email', autocomplete: 'email', required: true, spellcheck: 'false', autocapitalize: 'off', dir: 'ltr' }));
  email.value = prevEmail;

  const topicBoxes: HTMLInputElement[] = (state.topicBoxes = []);
  let topicsGroup: HTMLFieldSetElement | undefined;
  let topicsPart: Child;
  if (topics.length === 1) {
    topicsPart = h('p', { class: 'intro' }, `${word(cfg, 'topic')} `, h('strong', {}, topics[0]!.name));
  } else {
    topicsGroup = h('fieldset', { id: 'ta-topics' }, h('legend', {}, word(cfg, 'topics')));
    topics.forEach((t, i) => {
      const box = h('input', { type: 'checkbox', id: `ta-topic-${i}`, name: 'topics', value: t.slug });
      box.checked = prevTopics ? prevTopics.has(t.slug) : t.checked !== false;
      topicBoxes.push(box);
      topicsGroup!.append(h('div', { class: 'check' }, box, h('label', { for: box.id }, t.name)));
    });
    topicsGroup.append(errorEl(state, 'topics'));
    topicsPart = topicsGroup;
  }
  state.topicsGroup = topicsGroup;

  const freqs = (cfg.frequencies ?? []).filter((f) => typeof f === 'string');
  let frequency: HTMLSelectElement | undefined;
  if (freqs.length > 1) {
    frequency = h('select', { id: 'ta-frequency', name: 'frequency' }, ...freqs.map((f) => h('option', { value: f }, word(cfg, `frequency.${f}`, f))));
    const wanted = prevFrequency ?? cfg.defaultFrequency ?? 'daily';
    frequency.value = freqs.includes(wanted) ? wanted : freqs[0]!;
  }
  state.frequency = frequency;

  let consentBox: HTMLInputElement | undefined;
  let consentPart: Child = null;
  let statement: Child = null;
  if (c.mode === 'checkbox') {
    // Never pre-ticked: consent must be an action of the reader.
    consentBox = h('input', { type: 'checkbox', id: 'ta-consent', name: 'acceptTerms', required: true });
    consentPart = h('div', { class: 'field' }, h('div', { class: 'check' }, consentBox, h('label', { for: 'ta-consent' }, ...consentText(c))), errorEl(state, 'consent'));
  } else {
    statement = h('p', { id: 'ta-statement', class: 'statement' }, ...consentText(c));
  }
  state.consentBox = consentBox;

  const honeypot = (state.honeypot = h('input', { id: 'ta-website', name: 'website', type: 'text', tabindex: '-1', autocomplete: 'off' }));
  const submitBtn = (state.submitBtn = h('button', { type: 'submit', class: 'submit', 'aria-describedby': statement ? 'ta-statement' : undefined }, cfg.submitLabel || 'Sign up for free today'));
  const dismissBtn = h('button', { type: 'button', class: 'dismiss' }, cfg.dismissLabel || 'No Thanks');
  dismissBtn.addEventListener('click', on.dismiss);

  const form = (state.form = h(
    'form',
    { novalidate: true, 'aria-labelledby': 'ta-heading' },
    topicsGroup ? null : topicsPart,
    h('div', { class: 'field' }, h('label', { for: 'ta-email' }, word(cfg, 'email')), email, errorEl(state, 'email')),
    topicsGroup,
    frequency && h('div', { class: 'field' }, h('label', { for: 'ta-frequency' }, word(cfg, 'frequency')), frequency, errorEl(state, 'frequency')),
    consentPart,
    h('div', { class: 'hp', 'aria-hidden': 'true' }, h('label', { for: 'ta-website' }, word(cfg, 'honeypot')), honeypot),
    h('div', { class: 'actions' }, submitBtn, dismissBtn),
    statement,
  ));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    on.submit();
  });

  const status = (state.status = h('p', { id: 'ta-status', class: 'status', role: 'status', 'aria-live': 'polite', tabindex: '-1' }));
  const intro = cfg.strings?.intro ? h('p', { class: 'intro' }, cfg.strings.intro) : cfg.publisherName ? h('p', { class: 'intro' }, `Free email alerts from ${cfg.publisherName}. Unsubscribe at any time.`) : null;
  // The box speaks the reader's language whatever the page around it does, right to left too.
  const dir = cfg.dir === 'rtl' ? 'rtl' : 'ltr';
  state.root.replaceChildren(
    h('section', { class: 'box', 'aria-labelledby': 'ta-heading', lang: cfg.language, dir }, h('h2', { id: 'ta-heading' }, cfg.heading || 'Get the latest news on this topic.'), intro, form, status),
  );
}

export function say(state: BoxState, text: string, ok = false): void {
  state.status.textContent = text;
  state.status.classList.toggle('ok', ok);
}

function fieldFor(state: BoxState, path: string): { key: string; el: HTMLElement; describe: HTMLElement[] } | undefined {
  const key = path.split('.')[0]!;
  if (key === 'email') return { key, el: state.email, describe: [state.email] };
  if (key === 'topics' && state.topicsGroup) return { key, el: state.topicBoxes[0]!, describe: [state.topicsGroup] };
  if (key === 'frequency' && state.frequency) return { key, el: state.frequency, describe: [state.frequency] };
  if (key === 'acceptTerms' && state.consentBox) return { key: 'consent', el: state.consentBox, describe: [state.consentBox] };
  return undefined;
}

export function clearErrors(state: BoxState): void {
  const errorEls = state.errorEls;
  for (const key in errorEls) {
    errorEls[key]!.textContent = '';
    errorEls[key]!.hidden = true;
  }
  for (const el of state.root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of [state.email, state.frequency, state.consentBox, state.topicsGroup]) {
    const ids = (el?.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id && !id.endsWith('-error'));
    if (ids.length) el!.setAttribute('aria-describedby', ids.join(' '));
    else el?.removeAttribute('aria-describedby');
  }
}

/** Shows each issue next to its field; returns whether any could be placed. Focuses the first. */
export function showErrors(state: BoxState, issues: Issue[]): boolean {
  const errorEls = state.errorEls;
  let first: HTMLElement | undefined;
  const order: (HTMLElement | undefined)[] = [state.email, ...state.topicBoxes, state.frequency, state.consentBox];
  for (const issue of issues) {
    const f = fieldFor(state, issue.path);
    if (!f || !errorEls[f.key] || errorEls[f.key]!.textContent) continue;
    const err = errorEls[f.key]!;
    const m = issue.message.trim();
    err.textContent = m.charAt(0).toUpperCase() + m.slice(1) + (/[.!?]$/.test(m) ? '' : '.');
    err.hidden = false;
    const invalid = f.key === 'topics' ? state.topicBoxes : [f.el];
    for (const el of invalid) el.setAttribute('aria-invalid', 'true');
    for (const el of f.describe) el.setAttribute('aria-describedby', [el.getAttribute('aria-describedby'), err.id].filter(Boolean).join(' '));
    if (!first || order.indexOf(f.el) < order.indexOf(first)) first = f.el;
  }
  first?.focus();
  return !!first;
}
