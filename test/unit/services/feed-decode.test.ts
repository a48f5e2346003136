import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeFeed } from '../../../src/services/feeds.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/feeds/${name}`, import.meta.url));
const latin1 = (s: string) => Buffer.from(s, 'latin1');

describe('decodeFeed: the order browsers and feed readers follow', () => {
  it('decodes ISO-8859-1 bytes with no charset and no declaration as windows-1252, not as UTF-8 with U+FFFD', () => {
    const text = decodeFeed(fixture('uolNoticias.rss'), 'application/rss+xml');
    expect(text).toContain('Últimas Notícias');
    expect(text).toContain('simulações de 2º turno');
    expect(text).not.toContain('\uFFFD');
  });

  it('takes windows-1252 for the bytes ISO-8859-1 leaves to control codes (curly quotes, euro)', () => {
    expect(decodeFeed(Uint8Array.from([0x93, 0x61, 0x94, 0x20, 0x80]), null)).toBe('\u201ca\u201d \u20ac');
  });

  it('keeps valid UTF-8 as UTF-8 when nothing is declared', () => {
    const text = decodeFeed(Buffer.from('<rss><title>São Paulo — 東京</title></rss>', 'utf8'), 'application/xml');
    expect(text).toBe('<rss><title>São Paulo — 東京</title></rss>');
  });

  it('lets the HTTP charset win over the XML declaration, and the declaration over sniffing', () => {
    const bytes = latin1('<?xml version="1.0" encoding="utf-8"?><t>Açaí</t>');
    expect(decodeFeed(bytes, 'text/xml; charset=ISO-8859-1')).toContain('Açaí');
    expect(decodeFeed(latin1('<?xml version="1.0" encoding="ISO-8859-1"?><t>Açaí</t>'), 'text/xml')).toContain('Açaí');
    expect(decodeFeed(Buffer.from('<t>Açaí</t>', 'utf8'), 'text/xml; charset="utf-8"')).toBe('<t>Açaí</t>');
  });

  it('skips a label no decoder knows and goes on to the next source', () => {
    expect(decodeFeed(latin1('<?xml version="1.0" encoding="latin-9000"?><t>Açaí</t>'), 'text/xml; charset=bogus')).toContain('Açaí');
  });

  it('follows a byte order mark before anything declared', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<t>Ñandú</t>', 'utf16le')]);
    expect(decodeFeed(utf16, 'text/xml; charset=iso-8859-1')).toBe('<t>Ñandú</t>');
    const utf8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<t>Ñandú</t>', 'utf8')]);
    expect(decodeFeed(utf8, null)).toBe('<t>Ñandú</t>');
  });
});
