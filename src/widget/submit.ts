// What the box does when the reader acts: checks and sends the signup (waiting out the server's
// time trap, renewing a stale form token), shows the answer, and handles No Thanks.
import { clearErrors, render, say, showErrors, word } from './render.js';
import { loadConfig, postEvent, remember, type BoxState, type Issue } from './state.js';

// The server silently drops a submission made less than 2 s after its form token was issued
// (time trap against bots). A fast human, or one resubmitting right after the config was
// reloaded, must not lose their signup to it: the widget waits out the rest itself.
const MIN_TOKEN_AGE_MS = 2200;
// Tokens also go stale (the server drops them after a day, silently too): one older than this
// is replaced before submitting.
const TOKEN_REFRESH_MS = 3_600_000;

// The English words, for a server too old to send `strings`; the server's are in the reader's language.
const ENGLISH = {
  success: 'Check your inbox to confirm your subscription.',
  sending: 'Signing you up…',
  tooMany: 'Too many attempts. Please try again later.',
  termsChanged: 'Our Terms & Conditions have changed. Please review them and submit again.',
  unavailable: 'Sign-up is not available right now. Please try again later.',
  network: 'We could not reach the server. Check your connection and try again.',
  generic: 'Something went wrong. Please try again.',
  formExpired: 'This form has expired. Please reload the page and try again.',
  'error.email': 'Enter your email address, like name@example.com.',
  'error.topics': 'Choose at least one topic.',
  'error.consent': 'Tick the box to accept the Terms & Conditions.',
};
type Word = keyof typeof ENGLISH;
const msg = (state: BoxState, name: Word) => word(state.cfg, name, ENGLISH[name]);

/** The server's field problems in the box's words where it has them (the server speaks English). */
const FIELD_WORDS: Record<string, Word> = { email: 'error.email', acceptTerms: 'error.consent' };
const inBoxWords = (state: BoxState, issues: Issue[]): Issue[] =>
  issues.map((i) => {
    const w = FIELD_WORDS[i.path.split('.')[0]!];
    return w ? { path: i.path, message: msg(state, w) } : i;
  });

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function localIssues(state: BoxState): Issue[] {
  const issues: Issue[] = [];
  if (!state.email.value.trim() || !state.email.checkValidity()) issues.push({ path: 'email', message: msg(state, 'error.email') });
  if (state.topicBoxes.length > 0 && !state.topicBoxes.some((b) => b.checked)) issues.push({ path: 'topics', message: msg(state, 'error.topics') });
  if (state.consentBox && !state.consentBox.checked) issues.push({ path: 'acceptTerms', message: msg(state, 'error.consent') });
  return issues;
}

function serverIssues(body: unknown): Issue[] {
  const issues = (body as { error?: { issues?: unknown } } | null)?.error?.issues;
  return Array.isArray(issues) ? issues.filter((i): i is Issue => !!i && typeof i.path === 'string' && typeof i.message === 'string') : [];
}

/** A new form token (and whatever else changed), keeping what the reader entered. */
async function refreshToken(state: BoxState): Promise<boolean> {
  const fresh = await loadConfig(state);
  if (fresh) state.cfg.formToken = fresh.formToken;
  return !!fresh;
}

async function post(state: BoxState): Promise<Response> {
  if (Date.now() - state.tokenAt > TOKEN_REFRESH_MS) await refreshToken(state);
  const cfg = state.cfg;
  const minAge = typeof cfg.minSubmitMs === 'number' ? cfg.minSubmitMs + 200 : MIN_TOKEN_AGE_MS;
  const wait = minAge - (Date.now() - state.tokenAt);
  if (wait > 0) await sleep(wait);
  const payload = {
    email: state.email.value.trim(),
    topics: state.topicBoxes.length > 0 ? state.topicBoxes.filter((b) => b.checked).map((b) => b.value) : [cfg.topics[0]!.slug],
    frequency: state.frequency?.value ?? cfg.defaultFrequency ?? 'daily',
    acceptTerms: true,
    termsVersion: cfg.consent.termsVersion,
    // the language the reader was shown: their subscription's, and their consent's
    language: cfg.language,
    sourceUrl: location.href.split('#')[0],
    formToken: cfg.formToken,
    website: state.honeypot.value,
  };
  return fetch(state.api('subscriptions'), {
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

async function submit(state: BoxState): Promise<void> {
  if (state.busy) return;
  clearErrors(state);
  say(state, '');
  const problems = localIssues(state);
  if (problems.length > 0) {
    showErrors(state, problems);
    return;
  }
  state.busy = true;
  state.submitBtn.setAttribute('aria-disabled', 'true');
  say(state, msg(state, 'sending'));
  try {
    let res: Response;
    let body: unknown;
    try {
      res = await post(state);
      body = await readJson(res);
      // A form token the server no longer takes (the page was open for long): once more
      // with a fresh one, without bothering the reader.
      if (res.status === 400 && serverIssues(body).some((i) => i.path === 'formToken') && (await refreshToken(state))) {
        res = await post(state);
        body = await readJson(res);
      }
    } catch {
      say(state, msg(state, 'network'));
      return;
    }
    const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
    if (res.ok) {
      state.form.hidden = true;
      say(state, msg(state, 'success'), true);
      state.status.focus();
    } else if (res.status === 400) {
      say(state, '');
      const issues = serverIssues(body);
      if (!showErrors(state, inBoxWords(state, issues))) {
        // Nothing to put next to a field: an expired form token, or the server's own words.
        const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
        say(state, issues.some((i) => i.path === 'formToken') ? msg(state, 'formExpired') : typeof message === 'string' && message && !state.cfg.strings ? message : msg(state, 'generic'));
      }
    } else if (res.status === 409 && code === 'terms_outdated') {
      await reloadForNewTerms(state);
    } else if (res.status === 429) {
      say(state, msg(state, 'tooMany'));
    } else if (res.status === 503) {
      say(state, msg(state, 'unavailable'));
    } else {
      say(state, msg(state, 'generic'));
    }
  } finally {
    state.busy = false;
    state.submitBtn.removeAttribute('aria-disabled');
  }
}

async function reloadForNewTerms(state: BoxState): Promise<void> {
  const fresh = await loadConfig(state);
  if (!fresh) {
    say(state, msg(state, 'unavailable'));
    return;
  }
  state.cfg = fresh;
  show(state); // keeps email, topics and frequency; the consent box comes back unticked
  say(state, msg(state, 'termsChanged'));
  (state.consentBox ?? state.submitBtn).focus();
}

function dismiss(state: BoxState): void {
  // Remember under both the embed's own topics and the ones shown, so the next page view can
  // skip the box before it even asks the server.
  remember([state.requested, state.slugs], state.cfg.snoozeDays ?? 30);
  postEvent(state, 'dismissed');
  state.root.replaceChildren();
}

/** Renders the form with its buttons wired to the handlers here. */
export function show(state: BoxState): void {
  render(state, { submit: () => void submit(state), dismiss: () => dismiss(state) });
}
