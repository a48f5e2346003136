// The runtime of the compiled fills (./fill.ts): what the generated code calls. Each function
// mirrors a piece of Handlebars' runtime, so that a compiled fill gives Handlebars' exact bytes.
import Handlebars from 'handlebars';

const hasOwn = Object.prototype.hasOwnProperty;
/** Handlebars' `container.nullContext`: `this` (and the block context) when the context is null. */
const NULL_CONTEXT = Object.seal({});
const deniedLogged = new Set<string>();

// What Handlebars' default prototype-access control denies without logging (its whitelists).
const SILENT_PROPERTIES = new Set(['__proto__']);
const SILENT_METHODS = new Set(['constructor', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);

/** An inherited property: denied, and logged once per name like Handlebars does. */
function deny(name: string, result: unknown): undefined {
  const silent = typeof result === 'function' ? SILENT_METHODS : SILENT_PROPERTIES;
  if (!silent.has(name) && !deniedLogged.has(name)) {
    deniedLogged.add(name);
    Handlebars.log(
      3, // error
      `Handlebars: Access has been denied to resolve the property "${name}" because it is not an "own property" of its parent.\n` +
        'You can add a runtime option to disable the check or this warning:\n' +
        'See https://handlebarsjs.com/api-reference/runtime-options.html#options-to-control-prototype-access for details',
    );
  }
  return undefined;
}

/** `container.lookupProperty` with the default prototype-access control: own properties only. */
function lk(parent: any, name: string): unknown {
  const result = parent[name];
  if (result == null) return result;
  if (hasOwn.call(parent, name) && !(name === 'constructor' && typeof result === 'function' && parent === result.prototype)) {
    return result;
  }
  return deny(name, result);
}

// data paths (`@index`, `@root.x`) use falsy chaining in Handlebars
function gd(d: unknown, parts: readonly string[]): unknown {
  let x = d;
  for (let i = 0; i < parts.length; i++) x = x && lk(x, parts[i]!);
  return x;
}

/** `container.lambda`: a function found by a `{{path}}` is called with the context as `this`. */
function lam(v: unknown, c: unknown): unknown {
  return typeof v === 'function' ? v.call(c) : v;
}

const POSSIBLE = /[&<>"'`=]/;

/** Every `ch` in `s` (the first at `i`) replaced by `entity`. */
function replaceChar(s: string, ch: string, entity: string, i: number): string {
  let out = '';
  let last = 0;
  do {
    out += s.slice(last, i) + entity;
    last = i + 1;
    i = s.indexOf(ch, last);
  } while (i !== -1);
  return out + s.slice(last);
}

/**
 * `Handlebars.escapeExpression`: the same characters and entities. Most values have nothing to
 * escape (one regex test); the rest are mostly URLs with a few `&` and `=`, for which a pass per
 * character that occurs (indexOf) is about twice as fast as a regex replace with a callback.
 * `&` goes first: the other entities start with one.
 */
export function esc(value: unknown): unknown {
  let s: string;
  if (typeof value === 'string') s = value;
  else {
    if (value && typeof (value as { toHTML?: unknown }).toHTML === 'function') return (value as { toHTML(): unknown }).toHTML();
    if (value == null) return '';
    if (!value) return `${value as string}`;
    s = `${value as string}`;
  }
  if (!POSSIBLE.test(s)) return s;
  let i = s.indexOf('&');
  if (i !== -1) s = replaceChar(s, '&', '&amp;', i);
  if ((i = s.indexOf('<')) !== -1) s = replaceChar(s, '<', '&lt;', i);
  if ((i = s.indexOf('>')) !== -1) s = replaceChar(s, '>', '&gt;', i);
  if ((i = s.indexOf('"')) !== -1) s = replaceChar(s, '"', '&quot;', i);
  if ((i = s.indexOf("'")) !== -1) s = replaceChar(s, "'", '&#x27;', i);
  if ((i = s.indexOf('`')) !== -1) s = replaceChar(s, '`', '&#x60;', i);
  if ((i = s.indexOf('=')) !== -1) s = replaceChar(s, '=', '&#x3D;', i);
  return s;
}

/** An unescaped append (`noEscape`, `{{{x}}}`): null and undefined are empty. */
function raw(v: unknown): unknown {
  return v == null ? '' : v;
}

/** `Handlebars.Utils.isEmpty`. */
function isEmpty(v: unknown): boolean {
  return (!v && v !== 0) || (Array.isArray(v) && v.length === 0);
}

/** The `#if` test (without includeZero); `s` is the helper's `this`. */
function truthy(v: unknown, s: unknown): boolean {
  if (typeof v === 'function') v = v.call(s);
  return !(!v || isEmpty(v));
}

type Program = (context: unknown, data: Record<string, unknown>) => string;

/** `Handlebars.createFrame`: a copy of the data frame (always one of ours: no symbols, no getters). */
function frame(d: Record<string, unknown>): Record<string, unknown> {
  const f = { ...d };
  f._parent = d;
  return f;
}

/** `#each` over an iterable or a plain object (arrays are walked inline by the generated code). */
function eachOther(s: unknown, v: unknown, d: Record<string, unknown>, fn: Program, inverse: Program | null): string {
  let ret = '';
  let i = 0;
  const f = frame(d);
  const run = (key: unknown, index: number, last: boolean, value: unknown) => {
    f.key = key;
    f.index = index;
    f.first = index === 0;
    f.last = last;
    ret += fn(value, f);
  };
  if (v && typeof v === 'object') {
    const obj = v as Record<string | symbol, unknown>;
    if (obj[Symbol.iterator]) {
      const iterator = (obj[Symbol.iterator] as () => Iterator<unknown>).call(obj);
      let current = iterator.next();
      while (!current.done) {
        const next = iterator.next();
        try {
          run(i, i, !!next.done, current.value);
        } catch (e) {
          if (!next.done) {
            try {
              const close = iterator.return;
              if (typeof close === 'function') close.call(iterator);
            } catch {
              // the block's error is the one to report
            }
          }
          throw e;
        }
        current = next;
        i++;
      }
    } else {
      let prior: string | undefined;
      for (const key of Object.keys(obj)) {
        if (prior !== undefined) run(prior, i - 1, false, obj[prior]);
        prior = key;
        i++;
      }
      if (prior !== undefined) run(prior, i - 1, true, obj[prior]);
    }
  }
  if (i === 0) ret = inverse ? inverse(s, d) : '';
  return ret;
}

export const RUNTIME = { hasOwn, deny, lk, gd, lam, esc, raw, isEmpty, truthy, frame, eachOther, NC: NULL_CONTEXT };
