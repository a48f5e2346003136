import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import { compileFill } from './fill.js';
import { mjmlOutputs, DIRECTIONS, type Direction } from './mjml.js';
import { dirOf } from '../i18n/languages.js';
import { MAIL_HELPERS, registerHelpers } from './template-helpers.js';
import { TemplateCompileError, type CompileTemplatesOptions, type MailTemplates } from './template-data.js';

// Rendering is two-stage (DESIGN §7): MJML → HTML once per template at start-up, then a
// Handlebars fill per recipient. mjml2html costs milliseconds; a fill costs microseconds, which
// is what makes per-recipient digests cheap. The templates are Handlebars, but the fill is done by
// ./fill.ts, which compiles them to plain JS functions with Handlebars' exact output at about
// twice the speed of Handlebars' runtime (Handlebars remains the fallback and the reference).

// This file compiles the templates and renders them per recipient. The data types
// (./template-data.ts), the helpers (./template-helpers.ts) and the MJML step with its cache
// (./mjml.ts) have files of their own only to keep each one short: callers import all of it from
// here or from ./index.ts.
export * from './template-data.js';
export { createMailHandlebars, MAIL_HELPERS } from './template-helpers.js';

// ---------------------------------------------------------------------------------------------
// Compile
// ---------------------------------------------------------------------------------------------

/** Removes everything that could end or fold a header line; collapses runs of space. */
export function cleanSubject(subject: string): string {
  // the replaces change nothing in a subject without control characters or double spaces
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f\u2028\u2029]| {2}/.test(subject)) return subject.trim();
  // eslint-disable-next-line no-control-regex
  return subject.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/ {2,}/g, ' ').trim();
}

/**
 * Runs of three or more newlines become two (what `text.replace(/\n{3,}/g, '\n\n')` does, with
 * indexOf instead of the regex: a text part has one or two such runs in ~4 KB), then trimmed.
 */
function cleanText(text: string): string {
  let i = text.indexOf('\n\n\n');
  if (i !== -1) {
    let out = '';
    let last = 0;
    do {
      let end = i + 3;
      while (text.charCodeAt(end) === 10) end++;
      out += `${text.slice(last, i)}\n\n`;
      last = end;
      i = text.indexOf('\n\n\n', end);
    } while (i !== -1);
    text = out + text.slice(last);
  }
  return `${text.trim()}\n`;
}

const INLINE_DEF = /\{\{#\*inline\s+"([\w-]+)"\s*\}\}([\s\S]*?)\{\{\/inline\}\}/g;
const PARTIAL_CALL = /\{\{#>\s*([\w-]+)\s*\}\}\{\{\/\1\}\}|\{\{>\s*([\w-]+)\s*\}\}/g;

/**
 * Expands, at compile time, partials called without arguments: the template's own
 * `{{#*inline "x"}}` blocks and the file partials. Handlebars would otherwise run the inline
 * decorators and invoke the partials on every render, which costs a third of a digest fill.
 * A `{{#> x}}{{/x}}` with no definition becomes empty, as Handlebars renders it.
 */
export function expandPartials(source: string, filePartials: ReadonlyMap<string, string> = new Map()): string {
  const inline = new Map<string, string>();
  let out = source.replace(INLINE_DEF, (_m, name: string, body: string) => {
    inline.set(name, body);
    return '';
  });
  for (let depth = 0; depth < 8; depth++) {
    let changed = false;
    out = out.replace(PARTIAL_CALL, (m, blockName: string | undefined, name: string | undefined) => {
      const key = blockName ?? name ?? '';
      const body = inline.get(key) ?? filePartials.get(key);
      if (body === undefined) {
        if (blockName) {
          changed = true;
          return '';
        }
        return m; // left to Handlebars, which reports a missing partial
      }
      changed = true;
      return body.replace(INLINE_DEF, (_d, n: string, b: string) => {
        if (!inline.has(n)) inline.set(n, b);
        return '';
      });
    });
    if (!changed) break;
  }
  return out;
}

type Fill = (context: unknown) => string;

interface CompiledTemplate {
  subject: Fill;
  /** One fill per direction: a right-to-left language's mail is mirrored (see ./mjml.ts). */
  html: Record<Direction, Fill>;
  text: Fill;
}

async function readRequired(file: string, template: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new TemplateCompileError(`missing ${path.basename(file)} for mail template "${template}"`, template, [
      (err as Error).message,
    ]);
  }
}

function compileHandlebars(
  hb: typeof Handlebars,
  source: string,
  template: string,
  part: 'subject' | 'html' | 'text',
  options: CompileOptions,
  opts: CompileTemplatesOptions,
): Fill {
  try {
    // hb.compile is lazy: precompile now so a broken placeholder or an unknown helper fails
    // start-up, not the first send
    hb.precompile(source, options);
    if ((opts.fill ?? 'compiled') === 'compiled') {
      // the same output without Handlebars' per-call overhead, unless the template uses more
      // than the subset ./fill.ts implements
      const fill = compileFill(source, options, MAIL_HELPERS);
      if (fill) return fill;
      opts.onFallback?.(template, part);
    }
    return hb.compile(source, options) as Fill;
  } catch (err) {
    throw new TemplateCompileError(`mail template "${template}" (${part}) does not compile`, template, [
      (err as Error).message,
    ]);
  }
}

type CompileOptions = NonNullable<Parameters<typeof Handlebars.compile>[1]>;

/**
 * Compiles every `<name>.mjml` in `dir` (with `<name>.txt` and `<name>.subject.txt`) once.
 * Text partials come from `dir/partials/*.txt`; MJML partials are pulled in with `mj-include`.
 */
export async function compileTemplates(dir: string, opts: CompileTemplatesOptions = {}): Promise<MailTemplates> {
  const validationLevel = opts.validationLevel ?? 'strict';
  const root = path.resolve(dir);
  const hb = Handlebars.create();
  const knownHelpers = registerHelpers(hb);
  // knownHelpersOnly: a mustache is a property lookup unless it names one of our helpers (no
  // per-field helper probe at render time), and a typo'd helper fails start-up, not a send
  const htmlOptions: CompileOptions = { knownHelpers, knownHelpersOnly: true, preventIndent: true };
  const textOptions: CompileOptions = { knownHelpers, knownHelpersOnly: true, noEscape: true };

  const partialDir = path.join(root, 'partials');
  const partialFiles = await readdir(partialDir).catch(() => [] as string[]);
  const textPartials = new Map<string, string>();
  for (const file of partialFiles.filter((f) => f.endsWith('.txt')).sort()) {
    const source = await readFile(path.join(partialDir, file), 'utf8');
    const partialName = file.slice(0, -'.txt'.length);
    textPartials.set(partialName, source.replace(/\n$/, ''));
    // for calls with arguments, which are not expanded at compile time; compiled with the text
    // options, since a partial invoked from a text template must not escape
    hb.registerPartial(partialName, hb.compile(source, textOptions));
  }

  const files = (await readdir(root)).filter((f) => f.endsWith('.mjml')).sort();
  const htmlByName = await mjmlOutputs(root, files, partialFiles, validationLevel, opts);
  const compiled = new Map<string, CompiledTemplate>();
  for (const file of files) {
    const name = file.slice(0, -'.mjml'.length);
    const html = htmlByName.get(name)!;
    const text = await readRequired(path.join(root, `${name}.txt`), name);
    const subject = await readRequired(path.join(root, `${name}.subject.txt`), name);
    const fills = {} as Record<Direction, Fill>;
    for (const dir of DIRECTIONS) fills[dir] = compileHandlebars(hb, expandPartials(html[dir]), name, 'html', htmlOptions, opts);
    compiled.set(name, {
      html: fills,
      text: compileHandlebars(hb, expandPartials(text, textPartials), name, 'text', textOptions, opts),
      subject: compileHandlebars(hb, subject, name, 'subject', textOptions, opts),
    });
  }
  if (compiled.size === 0) {
    throw new TemplateCompileError(`no *.mjml mail templates in ${root}`, '');
  }

  return {
    names: [...compiled.keys()],
    render(name, data) {
      const t = compiled.get(name);
      if (!t) throw new Error(`unknown mail template "${name}"`);
      const subject = cleanSubject(t.subject(data));
      // the HTML <title> and aria-label show the subject
      const dir = dirOf(data.lang);
      const context = { ...data, subject, dir };
      return { subject, html: t.html[dir](context), text: cleanText(t.text(context)) };
    },
  };
}
