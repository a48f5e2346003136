// A box's state and what it fetches: the config the server sends for an embed, the form token's
// age, the shown/dismissed counts, and the dismissals remembered in the reader's browser.
//
// No Thanks is remembered in localStorage under `topic-alerts:dismissed:<slugs>`, the box's
// topic slugs sorted and joined with commas, with the expiry time (ms since the epoch) as value:
// a reader who dismisses the Japan box is not asked about Japan again for `snoozeDays`, but is
// still offered other topics.

export interface TopicOption {
  slug: string;
  name: string;
  checked?: boolean;
}
export interface Consent {
  mode: 'checkbox' | 'statement';
  text: string;
  /** The words of `text` that link to the terms. */
  linkText?: string;
  termsUrl: string;
  termsVersion: number;
}
export interface WidgetConfig {
  /** The language the server chose for this reader, its direction, and the box's words in it. */
  language?: string;
  dir?: 'ltr' | 'rtl';
  strings?: Record<string, string>;
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
export interface Issue {
  path: string;
  message: string;
}

/**
 * One mounted box, shared by the fetch, render and submit code. Not every field is there from the
 * start: mount() sets `cfg` and `root` before anything reads them, and render() the form's
 * elements, so the type does not make every reader check for them.
 */
export interface BoxState {
  /** The embed's own topics (data-topics), which may differ from the ones shown. */
  requested: string[];
  article: string | undefined;
  /** The embed's data-lang (the publisher's explicit choice), and the page's lang. */
  lang: string | undefined;
  pageLang: string | undefined;
  api: (path: string) => string;
  cfg: WidgetConfig;
  tokenAt: number;
  root: ShadowRoot;
  slugs: string[];
  busy: boolean;
  // The form's elements, rebuilt by render().
  form: HTMLFormElement;
  email: HTMLInputElement;
  topicBoxes: HTMLInputElement[];
  topicsGroup: HTMLFieldSetElement | undefined;
  frequency: HTMLSelectElement | undefined;
  consentBox: HTMLInputElement | undefined;
  honeypot: HTMLInputElement;
  submitBtn: HTMLButtonElement;
  status: HTMLElement;
  errorEls: Record<string, HTMLElement>;
}

const DISMISS_PREFIX = 'topic-alerts:dismissed:';

export const uniqueSorted = (slugs: string[]) => [...new Set(slugs)].sort();
const dismissKey = (slugs: string[]) => DISMISS_PREFIX + uniqueSorted(slugs).join(',');

export function isDismissed(slugs: string[]): boolean {
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

export function remember(slugsList: string[][], days: number): void {
  const until = String(Date.now() + days * 86_400_000);
  for (const slugs of slugsList) {
    try {
      if (slugs.length > 0) localStorage.setItem(dismissKey(slugs), until);
    } catch {
      // as above
    }
  }
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

export async function loadConfig(state: BoxState): Promise<WidgetConfig | undefined> {
  const url = new URL(state.api('widget-config'));
  if (state.requested.length > 0) url.searchParams.set('topics', state.requested.join(','));
  if (state.article) url.searchParams.set('article', state.article);
  if (state.lang) url.searchParams.set('lang', state.lang);
  if (state.pageLang) url.searchParams.set('pageLang', state.pageLang);
  try {
    // no-store: the answer carries a fresh form token, and after a terms_outdated the new
    // terms version; a cached copy could hold neither.
    const res = await fetch(url.toString(), { credentials: 'omit', cache: 'no-store', headers: { accept: 'application/json' } });
    if (!res.ok) return undefined;
    const body: unknown = await res.json();
    if (!validConfig(body)) return undefined;
    state.tokenAt = Date.now();
    return body;
  } catch {
    return undefined;
  }
}

export function postEvent(state: BoxState, event: 'shown' | 'dismissed'): void {
  try {
    fetch(state.api('prompt-events'), {
      method: 'POST',
      keepalive: true,
      credentials: 'omit',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topics: state.slugs, event }),
    }).catch(() => undefined);
  } catch {
    // counting is best effort
  }
}
