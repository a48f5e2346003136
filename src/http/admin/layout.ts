import type { Response } from 'express';
import { html, type SafeHtml } from '../html.js';
import type { AdminLocals } from './session.js';

// The console's page frame: a skip link, the navigation, who is logged in with a logout button,
// one <main>. Styles and scripts are files under /assets (the CSP forbids inline ones).

export const NAV = [
  ['dashboard', '/admin', 'Dashboard'],
  ['topics', '/admin/topics', 'Topics'],
  ['articles', '/admin/articles', 'Articles'],
  ['stories', '/admin/stories', 'Stories'],
  ['feeds', '/admin/feeds', 'Feeds'],
  ['webhooks', '/admin/webhooks', 'Webhooks'],
  ['subscribers', '/admin/subscribers', 'Subscribers'],
  ['terms', '/admin/terms', 'Terms'],
  ['wording', '/admin/wording', 'Wording'],
  ['deliveries', '/admin/deliveries', 'Deliveries'],
  ['suppressions', '/admin/suppressions', 'Suppressions'],
  ['deliverability', '/admin/deliverability', 'Deliverability'],
  ['tokens', '/admin/tokens', 'API tokens'],
  ['audit', '/admin/audit', 'Audit log'],
] as const;

export type Section = (typeof NAV)[number][0] | 'login';

export interface AdminPageOptions {
  title: string;
  section: Section;
  publisherName: string;
  admin?: AdminLocals;
  body: SafeHtml;
  /** A message after a redirect, announced to screen readers. */
  notice?: string | undefined;
  error?: string | undefined;
}

export function csrfField(admin: AdminLocals): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${admin.session.csrfToken}">`;
}

export function adminPage(o: AdminPageOptions): string {
  const nav = o.admin
    ? html`<nav class="admin-nav" aria-label="Console"><ul>${NAV.map(
        ([key, href, label]) => html`<li><a href="${href}"${key === o.section ? html` aria-current="page"` : ''}>${label}</a></li>`,
      )}</ul></nav>`
    : '';
  const user = o.admin
    ? html`<form method="post" action="/admin/logout" class="logout">${csrfField(o.admin)}<span class="muted">${o.admin.session.email}</span> <button type="submit" class="secondary">Log out</button></form>`
    : '';
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<title>${o.title} · Admin · ${o.publisherName}</title>
<link rel="stylesheet" href="/assets/site.css">
<link rel="stylesheet" href="/assets/admin.css">
<script src="/assets/admin.js" defer></script>
</head>
<body class="admin">
<a class="skip" href="#main">Skip to content</a>
<header class="admin-header"><a href="/admin" class="brand">${o.publisherName} · Admin</a>${user}</header>
${nav}
<main id="main" tabindex="-1">
${o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ''}
${o.error ? html`<p class="notice error-box" role="alert">${o.error}</p>` : ''}
${o.body}
</main>
</body>
</html>`}`;
}

export function sendPage(res: Response, status: number, o: AdminPageOptions): void {
  res.status(status).setHeader('Cache-Control', 'no-store').type('html').send(adminPage(o));
}

// ---- formatting

export const fmtDate = (d: Date | null | undefined) =>
  d ? new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(d) + ' UTC' : '—';

export const isoTime = (d: Date | null | undefined): SafeHtml =>
  d ? html`<time datetime="${d.toISOString()}">${fmtDate(d)}</time>` : html`<span class="muted">—</span>`;

export const fmtPct = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);

export const fmtNum = (n: number) => new Intl.NumberFormat('en-GB').format(n);

export function fmtDuration(seconds: number | null): string {
  if (seconds === null) return 'unknown';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/** Fixed messages for ?done= after a redirect: a query string never puts its own text on the page. */
export const NOTICES: Record<string, string> = {
  'topic-created': 'Topic created.',
  'topic-saved': 'Topic saved.',
  'topic-archived': 'Topic archived: it no longer matches articles or takes signups.',
  'topic-restored': 'Topic restored.',
  'threshold-saved': 'Threshold saved: new articles are compared at it from now on.',
  'feed-added': 'Feed added; it is polled within a minute.',
  'feed-removed': 'Feed removed.',
  'webhook-saved': 'Webhook saved.',
  'webhook-deleted': 'Webhook deleted with its queue.',
  'webhook-replayed': 'Queued again: the worker sends it within seconds, with the same webhook-id.',
  'terms-published': 'Terms published: the widget and the hosted pages use the new version now.',
  'terms-translated': 'Translation published: readers in that language see and accept it from now on.',
  'wording-saved': 'Saved: readers see your text from now on, and consents record it.',
  'wording-reset': 'Your text is removed: readers see the shipped text again.',
  erased: 'Subscriber erased: personal data deleted, address kept only as a keyed hash in the suppression list.',
  'confirmation-queued': 'A new confirmation mail is queued.',
  'nothing-pending': 'Nothing to confirm: this subscriber has no pending topics.',
  suppressed: 'Not sent: the address is suppressed.',
  'suppression-added': 'Address suppressed.',
  'suppression-exists': 'That address was already suppressed.',
  'suppression-removed': 'Suppression removed.',
  retried: 'Failed deliveries are queued again.',
  'nothing-to-retry': 'There was nothing to retry.',
  'token-revoked': 'Token revoked.',
  'sending-resumed': 'Sending resumed: queued mail goes out with the next send run.',
  'not-held': 'Sending was not paused.',
  'logged-out': 'You are logged out.',
  expired: 'Your session has ended; please log in again.',
};

export const noticeOf = (q: unknown) => (typeof q === 'string' ? NOTICES[q] : undefined);
