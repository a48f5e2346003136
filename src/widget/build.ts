import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface WidgetBundle {
  code: Buffer;
  /** Strong ETag: a hash of the bytes served. */
  etag: string;
  bytes: number;
}

export const WIDGET_ENTRY = fileURLToPath(new URL('./widget.ts', import.meta.url));

/**
 * Bundles and minifies the widget in memory. Done once per process (a few tens of ms): the
 * source ships with the service, so there is no build step to forget and no stale copy on disk.
 * Targets browsers from about 2020 on (shadow DOM, fetch keepalive, optional chaining lowered).
 */
export async function buildWidget(): Promise<WidgetBundle> {
  const result = await build({
    entryPoints: [WIDGET_ENTRY],
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome80', 'firefox78', 'safari13.1', 'edge80'],
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
