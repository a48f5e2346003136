// The mail templates' words: helpers that format a catalogue message (src/i18n) in the mail's
// language, with the publisher's overrides, from the template's data. Compiled fills and
// Handlebars call the same code (see ./template-helpers.ts).
//
//   {{t "mail.digest.heading"}}             plain text; arguments are the root data's fields
//   {{tc "mail.digest.more" this}}          the same, the current object's fields first
//   {{{th "mail.confirm.signedUpFor"}}}     HTML: <b> becomes <strong>, a tag named after a
//   {{{thc "key" this}}}                    URL field (<termsUrl>…</termsUrl>) a link to it
//
// A list argument reads "a, b and c" in the mail's language; dates are shown in its time zone.
import { shippedMessages, type Messages, type Tags, type Value } from '../i18n/translator.js';
import { escapeHtml } from '../escape-html.js';
import type { FillHelper } from './fill.js';

interface MessageRoot {
  messages?: Messages;
  lang?: unknown;
  timeZone?: unknown;
}

const SAFE_URL = /^(?:https?:\/\/|mailto:)/i;

function messagesOf(root: MessageRoot | null | undefined): Messages {
  return root?.messages ?? shippedMessages(typeof root?.lang === 'string' ? root.lang : 'en');
}

const zoneOf = (root: MessageRoot | null | undefined) => (typeof root?.timeZone === 'string' && root.timeZone ? root.timeZone : 'UTC');

/** A field of the current object, else of the root data: own properties only. */
function lookup(root: unknown, context: unknown) {
  return (name: string): Value => {
    for (const obj of [context, root]) {
      if (obj !== null && typeof obj === 'object' && Object.hasOwn(obj, name)) return (obj as Record<string, Value>)[name];
    }
    return undefined;
  };
}

/** The markup of a mail's rich message: bold, and links to the data's URL fields. */
function mailTags(m: Messages, key: string, get: (name: string) => Value): Tags {
  const tags: Record<string, { open: string; close: string }> = { b: { open: '<strong>', close: '</strong>' } };
  for (const name of m.tagsOf(key)) {
    if (!name.endsWith('Url')) continue;
    const url = get(name);
    const href = typeof url === 'string' && SAFE_URL.test(url) ? url : '#';
    tags[name] = { open: `<a href="${escapeHtml(href)}" class="ta-link">`, close: '</a>' };
  }
  return tags;
}

function text(root: MessageRoot | null | undefined, key: unknown, context?: unknown): string {
  return messagesOf(root).t(String(key), lookup(root, context), zoneOf(root));
}

function rich(root: MessageRoot | null | undefined, key: unknown, context?: unknown): string {
  const m = messagesOf(root);
  const get = lookup(root, context);
  return m.html(String(key), get, mailTags(m, String(key), get), zoneOf(root));
}

export const MESSAGE_HELPERS: Readonly<Record<string, FillHelper>> = {
  t: { arity: 1, fn: (root, _hash, key) => text(root as MessageRoot, key) },
  tc: { arity: 2, fn: (root, _hash, key, context) => text(root as MessageRoot, key, context) },
  // Escaped by Messages.html itself: used with {{{ }}}, so neither engine escapes it again.
  th: { arity: 1, fn: (root, _hash, key) => rich(root as MessageRoot, key) },
  thc: { arity: 2, fn: (root, _hash, key, context) => rich(root as MessageRoot, key, context) },
};
