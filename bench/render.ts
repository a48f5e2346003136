// Personalised digest renders per second on one core: the compiled path (MJML compiled once at
// start, Handlebars fill per recipient) against calling mjml2html per recipient for the same
// content, measured in the same run.
//
//   npx tsx bench/render.ts [--quick]
//
// Progress goes to stderr; the last line of stdout is one JSON object.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mjml2html from 'mjml';
import { compileTemplates, createMailHandlebars, type DigestMailData } from '../src/mail/templates.js';
import { digestData } from '../test/unit/mail/fixtures.js';

const quick = process.argv.includes('--quick');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const templatesDir = path.join(root, 'templates');

const ROUNDS = quick ? 4 : 10;
const RENDERS = quick ? 20_000 : 200_000; // divisible by ROUNDS
const BASELINE_RENDERS = quick ? 40 : 300; // divisible by ROUNDS
// mjml2html runs ~2.5x faster after ~100 calls (JIT): a cold baseline would flatter the ratio
const BASELINE_WARMUP = 150;
const BASELINE_VALIDATION = (process.env.BENCH_MJML_VALIDATION ?? 'strict') as 'strict' | 'soft' | 'skip';
const DISTINCT = 5_000; // distinct recipients' data, cycled; consecutive renders always differ

const log = (msg: string) => process.stderr.write(`[bench:render] ${msg}\n`);

/** Inlines `<mj-include>` so the MJML itself can be filled per recipient (the naive pipeline). */
async function expandIncludes(file: string): Promise<string> {
  const source = await readFile(file, 'utf8');
  const parts: string[] = [];
  const re = /<mj-include path="([^"]+)"\s*\/>/g;
  let last = 0;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    parts.push(source.slice(last, m.index));
    const partial = await readFile(path.resolve(path.dirname(file), m[1] ?? ''), 'utf8');
    parts.push(partial.replace(/^\s*<mjml>\s*<mj-(head|body)>|<\/mj-(head|body)>\s*<\/mjml>\s*$/g, ''));
    last = re.lastIndex;
  }
  parts.push(source.slice(last));
  return parts.join('');
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const templates = await compileTemplates(templatesDir, { validationLevel: 'strict' });
  const compileMs = performance.now() - t0;
  log(`compiled ${templates.names.length} templates in ${compileMs.toFixed(0)} ms`);

  const pool: DigestMailData[] = [];
  for (let i = 0; i < DISTINCT; i++) pool.push(digestData(i, { topics: 3, articles: 5 }));
  const sample = templates.render('digest', pool[0] as DigestMailData);
  log(`digest: 3 topics x 5 articles, html ${sample.html.length} B, text ${sample.text.length} B`);

  // --- baseline: fill the MJML, then mjml2html per recipient ------------------------------------
  const hb = createMailHandlebars();
  const digestFile = path.join(templatesDir, 'digest.mjml');
  const mjmlTemplate = hb.compile(await expandIncludes(digestFile));
  const subjectTemplate = hb.compile(await readFile(path.join(templatesDir, 'digest.subject.txt'), 'utf8'), { noEscape: true });
  const textTemplate = hb.compile(await readFile(path.join(templatesDir, 'digest.txt'), 'utf8'), { noEscape: true });
  hb.registerPartial('footer', hb.compile(await readFile(path.join(templatesDir, 'partials/footer.txt'), 'utf8'), { noEscape: true }));
  const baselineOne = async (data: DigestMailData) => {
    const subject = subjectTemplate(data).replace(/[\r\n]+/g, ' ').trim();
    const ctx = { ...data, subject };
    // the same mjml2html call compileTemplates makes once, moved per recipient (includes are
    // already inlined above, so no file reads are counted against it)
    const { html } = await mjml2html(mjmlTemplate(ctx), { validationLevel: BASELINE_VALIDATION, fonts: {}, minify: false, beautify: false });
    return { subject, html, text: textTemplate(ctx) };
  };
  const check = await baselineOne(pool[0] as DigestMailData);
  const firstTitle = (pool[0] as DigestMailData).sections[0]?.articles[0]?.title ?? '?';
  if (check.subject !== sample.subject || !check.html.includes(firstTitle) || !check.html.includes('lang="en-GB"')) {
    throw new Error('baseline renders different content');
  }
  log(`baseline html ${check.html.length} B (compiled path ${sample.html.length} B)`);

  // --- warm-up ----------------------------------------------------------------------------------
  let sink = 0;
  for (let i = 0; i < 2_000; i++) sink += templates.render('digest', pool[i % DISTINCT] as DigestMailData).html.length;
  for (let i = 0; i < BASELINE_WARMUP; i++) sink += (await baselineOne(pool[i] as DigestMailData)).html.length;

  // --- measure: both paths in alternating rounds, so a neighbour's load hits both alike ----------
  let compiledMs = 0;
  let baselineMs = 0;
  let baselineDone = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const c0 = performance.now();
    for (let i = round * (RENDERS / ROUNDS); i < (round + 1) * (RENDERS / ROUNDS); i++) {
      const r = templates.render('digest', pool[i % DISTINCT] as DigestMailData);
      sink += r.subject.length + r.html.length + r.text.length;
    }
    compiledMs += performance.now() - c0;
    const b0 = performance.now();
    for (let i = 0; i < BASELINE_RENDERS / ROUNDS; i++, baselineDone++) {
      const r = await baselineOne(pool[(baselineDone * 7) % DISTINCT] as DigestMailData);
      sink += r.subject.length + r.html.length + r.text.length;
    }
    baselineMs += performance.now() - b0;
    const doneRenders = ((round + 1) * RENDERS) / ROUNDS;
    log(
      `round ${round + 1}/${ROUNDS}: compiled ${(doneRenders / (compiledMs / 1000)).toFixed(0)} renders/s, ` +
        `mjml per recipient ${(baselineDone / (baselineMs / 1000)).toFixed(1)} renders/s`,
    );
  }
  const rendersPerS = RENDERS / (compiledMs / 1000);
  const baselinePerS = BASELINE_RENDERS / (baselineMs / 1000);
  if (sink === 0) log('(sink)');

  const round1 = (n: number) => Math.round(n * 10) / 10;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'render',
      renders: RENDERS,
      renders_per_s: Math.round(rendersPerS),
      mjml_per_recipient_renders_per_s: round1(baselinePerS),
      ratio: round1(rendersPerS / baselinePerS),
      mjml_per_recipient_renders: BASELINE_RENDERS,
      mjml_validation: BASELINE_VALIDATION,
      compile_ms: Math.round(compileMs),
      html_bytes: sample.html.length,
      quick,
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
