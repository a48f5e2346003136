// What the box does when the reader acts: checks and sends the signup (waiting out the server's
// time trap, renewing a stale form token), shows the answer, and handles No Thanks.
import { clearErrors, render, say, showErrors } from './render.js';
import { loadConfig, postEvent, remember, type BoxState, type Issue } from './state.js';

// The server silently drops a submission made less than 2 s after its form token was issued
// (time trap against bots). A fast human, or one resubmitting right after the config was
// reloaded, must not lose their signup to it: the widget waits out the rest itself.
const MIN_TOKEN_AGE_MS = 2200;
// Tokens also go stale (the server drops them after a day, silently too): one older than this
// is replaced before submitting.
const TOKEN_REFRESH_MS = 3_600_000;

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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function localIssues(state: BoxState): Issue[] {
  const issues: Issue[] = [];
  if (!state.email.value.trim() || !state.email.checkValidity()) issues.push({ path: 'email', message: MSG.email });
  if (state.topicBoxes.length > 0 && !state.topicBoxes.some((b) => b.checked)) issues.push({ path: 'topics', message: MSG.topics });
  if (state.consentBox && !state.consentBox.checked) issues.push({ path: 'acceptTerms', message: MSG.consent });
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
  say(state, MSG.sending);
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
      say(state, MSG.network);
      return;
    }
    const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
    if (res.ok) {
      state.form.hidden = true;
      say(state, MSG.success, true);
      state.status.focus();
    } else if (res.status === 400) {
      say(state, '');
      if (!showErrors(state, serverIssues(body))) {
        // Nothing to put next to a field (e.g. an expired form token): the server's own words.
        const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
        say(state, typeof message === 'string' && message ? message : MSG.generic);
      }
    } else if (res.status === 409 && code === 'terms_outdated') {
      await reloadForNewTerms(state);
    } else if (res.status === 429) {
      say(state, MSG.tooMany);
    } else if (res.status === 503) {
      say(state, MSG.unavailable);
    } else {
      say(state, MSG.generic);
    }
  } finally {
    state.busy = false;
    state.submitBtn.removeAttribute('aria-disabled');
  }
}

async function reloadForNewTerms(state: BoxState): Promise<void> {
  const fresh = await loadConfig(state);
  if (!fresh) {
    say(state, MSG.unavailable);
    return;
  }
  state.cfg = fresh;
  show(state); // keeps email, topics and frequency; the consent box comes back unticked
  say(state, MSG.termsChanged);
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
