import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

export interface WidgetBundle {
  code: Buffer;
  /** Strong ETag: a hash of the bytes served. */
  etag: string;
  bytes: number;
}

export const WIDGET_ENTRY = fileURLToPath(new URL('./widget.ts', import.meta.url));
const WIDGET_CSS = fileURLToPath(new URL('./styles.css', import.meta.url));

// Browsers from about 2020 on: shadow DOM, fetch keepalive; newer syntax is lowered.
const BROWSERS = ['chrome80', 'firefox78', 'safari13.1', 'edge80'];

/**
 * Bundles and minifies the widget in memory, its stylesheet inlined. Done once per process (a
 * few tens of ms): the source ships with the service, so there is no build step to forget and
 * no stale copy on disk.
 */
export async function buildWidget(): Promise<WidgetBundle> {
  const css = await transform(await readFile(WIDGET_CSS, 'utf8'), { loader: 'css', minify: true, target: BROWSERS, logLevel: 'silent' });
  const result = await build({
    entryPoints: [WIDGET_ENTRY],
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: BROWSERS,
    define: { __WIDGET_CSS__: JSON.stringify(css.code.trim()) },
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild produced no output for the widget');
  const code = Buffer.from(file.contents);
  const etag = `"${createHash('sha256').update(code).digest('base64url').slice(0, 22)}"`;
  return { code, etag, bytes: code.length };
}
