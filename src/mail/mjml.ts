// Stage one of rendering: MJML → HTML for every template, once per start-up, and the on-disk
// cache that lets a process skip loading mjml altogether.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { TemplateCompileError, type CompileTemplatesOptions } from './template-data.js';

const require = createRequire(import.meta.url);

export type Direction = 'ltr' | 'rtl';
export const DIRECTIONS: readonly Direction[] = ['ltr', 'rtl'];
/** A template's HTML for left-to-right and for right-to-left languages. */
export type DirectedHtml = Record<Direction, string>;

const SWAP: Record<string, string> = { left: 'right', right: 'left' };

/**
 * The templates are written left to right; a right-to-left mail is the same source mirrored
 * before MJML reads it (mjml applies preprocessors to every mj-include too): `dir` on the root
 * (mjml puts it on <html> and on the body's wrapper, which webmail keeps), left and right
 * swapped, text aligned right and columns ordered right to left by default.
 */
export function directionPreprocessor(dir: Direction): (xml: string) => string {
  return (xml) => {
    let out = xml.replace(/<mjml\b(?![^>]*\bdir=)([^>]*)>/, `<mjml$1 dir="${dir}">`);
    if (dir === 'rtl') {
      out = out
        .replace(/\balign="(left|right)"/g, (_m, side: string) => `align="${SWAP[side]}"`)
        .replace(/<mj-attributes>/, '<mj-attributes>\n      <mj-text align="right" />\n      <mj-section direction="rtl" />\n      <mj-column direction="rtl" />');
    }
    return out;
  };
}

/** MJML → HTML (both directions) for every template, from the cache when its key matches, else compiled (and cached). */
export async function mjmlOutputs(
  root: string,
  files: string[],
  partialFiles: string[],
  validationLevel: 'strict' | 'soft',
  opts: CompileTemplatesOptions,
): Promise<Map<string, DirectedHtml>> {
  const sources = new Map<string, string>();
  for (const file of files) sources.set(file, await readFile(path.join(root, file), 'utf8'));
  let cachePath: string | undefined;
  if (opts.cacheDir) {
    const key = createHash('sha256');
    // the mirroring is part of what the cache holds: a change to it is a new key
    key.update(JSON.stringify({ mjml: (require('mjml/package.json') as { version: string }).version, validationLevel, format: 2, mirror: directionPreprocessor.toString() }));
    for (const [file, source] of sources) key.update(`\0${file}\0${source}`);
    for (const file of partialFiles.filter((f) => f.endsWith('.mjml')).sort()) key.update(`\0partials/${file}\0${await readFile(path.join(root, 'partials', file), 'utf8')}`);
    cachePath = path.join(opts.cacheDir, `mjml-${key.digest('hex').slice(0, 32)}.json`);
    try {
      return new Map(Object.entries(JSON.parse(await readFile(cachePath, 'utf8')) as Record<string, DirectedHtml>));
    } catch {
      // no cache yet (or unreadable): compile
    }
  }
  const { default: mjml2html } = await import('mjml');
  const out = new Map<string, DirectedHtml>();
  for (const file of files) {
    const name = file.slice(0, -'.mjml'.length);
    const directed = {} as DirectedHtml;
    for (const dir of DIRECTIONS) directed[dir] = await compileOne(mjml2html, sources.get(file)!, { root, filePath: path.join(root, file), name, dir, validationLevel, opts });
    out.set(name, directed);
  }
  if (cachePath && opts.cacheDir) {
    // Written aside and renamed: a concurrent reader sees the whole file or none. Best effort:
    // a read-only disk only means the next start compiles again.
    try {
      await mkdir(opts.cacheDir, { recursive: true });
      const tmp = `${cachePath}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(Object.fromEntries(out)));
      await rename(tmp, cachePath);
    } catch {
      // ignored: see above
    }
  }
  return out;
}

type Mjml2Html = typeof import('mjml');

/** One template in one direction: mjml's HTML, its errors a TemplateCompileError (or warnings when soft). */
async function compileOne(
  mjml2html: Mjml2Html,
  source: string,
  o: { root: string; filePath: string; name: string; dir: Direction; validationLevel: 'strict' | 'soft'; opts: CompileTemplatesOptions },
): Promise<string> {
  const { name } = o;
  let html: string;
  try {
    const result = await mjml2html(source, {
      validationLevel: o.validationLevel,
      filePath: o.filePath,
      // mjml 5 ignores mj-include unless told otherwise; includes stay confined to `root`
      ignoreIncludes: false,
      includePath: o.root,
      minify: false,
      beautify: false,
      // system fonts only: no request to a font CDN from every opened mail
      fonts: {},
      preprocessors: [directionPreprocessor(o.dir)],
    });
    if (result.errors.length > 0) {
      const details = result.errors.map((e) => e.formattedMessage);
      if (o.validationLevel === 'strict') {
        throw new TemplateCompileError(`MJML errors in mail template "${name}"`, name, details);
      }
      for (const d of details) o.opts.onWarning?.(`${name}: ${d}`);
    }
    // indentation is a third of mjml's output: every later fill copies it, and Gmail clips
    // mails over 102 KB. A run of whitespace with a newline means the same to HTML as one newline.
    html = result.html.replace(/[ \t]*\n\s*/g, '\n');
  } catch (err) {
    if (err instanceof TemplateCompileError) throw err;
    const e = err as Error & { details?: Array<{ formattedMessage?: string }> };
    throw new TemplateCompileError(`MJML failed for mail template "${name}"`, name, e.details?.map((d) => d.formattedMessage ?? String(d)) ?? [e.message]);
  }
  // mjml leaves a comment instead of failing when an mj-include cannot be read or is refused
  if (/mj-include (fails|denied)/i.test(html)) {
    throw new TemplateCompileError(`an mj-include of mail template "${name}" could not be read`, name);
  }
  return html;
}
