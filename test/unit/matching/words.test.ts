import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WordTable } from '../../../src/matching/word-scanner.js';

/** A table over a toy analyser: the stem is the word minus a trailing "s"; ids from a Map. */
function toyTable(maxWords = 500_000) {
  const ids = new Map<string, number>();
  let version = 0;
  const analysed: string[] = [];
  const table = new WordTable(
    {
      analyse: (w) => {
        analysed.push(w);
        return w === 'the' ? null : w.endsWith('s') && w.length > 1 ? w.slice(0, -1) : w;
      },
      lookup: (stem) => ids.get(stem) ?? -1,
      version: () => version,
    },
    maxWords,
  );
  const intern = (stem: string): void => {
    if (!ids.has(stem)) {
      ids.set(stem, ids.size);
      version++;
    }
  };
  /** What a scan must return: the words of `s`, analysed the plain way. */
  const expected = (s: string) => {
    const words = s.match(/[a-z0-9]+/gi) ?? [];
    const stems = words.map((w) => {
      const l = w.toLowerCase();
      return l === 'the' ? null : l.endsWith('s') && l.length > 1 ? l.slice(0, -1) : l;
    });
    return { stems, ids: stems.map((t) => (t === null ? -1 : (ids.get(t) ?? -1))) };
  };
  const scan = (s: string) => {
    const out = new Int32Array(s.length + 1);
    const stems: (string | null)[] = [];
    const n = table.scan(s, out, 0, null);
    const m = table.scan(s, out.subarray(0), 0, stems);
    return { n, m, ids: [...out.subarray(0, n)], stems };
  };
  return { table, intern, expected, scan, analysed };
}

const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const word = fc
  .tuple(fc.integer({ min: 1, max: 40 }), fc.array(fc.integer({ min: 0, max: letters.length - 1 }), { minLength: 40, maxLength: 40 }))
  .map(([len, cs]) => cs.slice(0, len).map((c) => letters[c]).join(''));
const sep = fc.constantFrom(' ', '  ', ', ', '.', '\n', '-', "'", '\t', '!? ', '_', '\u0000');

describe('WordTable (WebAssembly)', () => {
  it('splits ASCII text into the same words as /[a-z0-9]+/i and analyses each (property)', () => {
    const t = toyTable();
    fc.assert(
      fc.property(fc.array(fc.tuple(word, sep), { maxLength: 60 }), fc.boolean(), fc.boolean(), (parts, lead, intern) => {
        const s = (lead ? ' ' : '') + parts.map(([w, s]) => w + s).join('');
        const got = t.scan(s);
        const want = t.expected(s);
        expect(got.n).toBe(want.ids.length);
        expect(got.m).toBe(want.ids.length);
        expect(got.stems).toEqual(want.stems);
        expect(got.ids).toEqual(want.ids);
        // a stem interned now is seen by the next scan (its -1 answer is stale)
        if (intern && want.stems[0]) t.intern(want.stems[0]);
      }),
      { numRuns: 2000 },
    );
  });

  it('texts of every length up to 70, words running to the very end', () => {
    const t = toyTable();
    for (let n = 0; n <= 70; n++) {
      for (const s of ['x'.repeat(n), `${'y'.repeat(Math.max(0, n - 1))} `.slice(0, n), `a ${'b'.repeat(Math.max(0, n - 2))}`.slice(0, n)]) {
        expect(t.scan(s).stems).toEqual(t.expected(s).stems);
      }
    }
  });

  it('stems each distinct word once, whatever its case', () => {
    const t = toyTable();
    t.scan('Banks banks BANKS bAnKs');
    t.scan('banks');
    expect(t.analysed.filter((w) => w === 'banks')).toHaveLength(1);
    expect(t.table.size).toBe(1);
  });

  it('long words: equal first 16 chars, different tails, are different words', () => {
    const t = toyTable();
    const base = 'internationaliza'; // 16 chars
    const words = Array.from({ length: 300 }, (_, i) => `${base}tion${i.toString(36)}`);
    const s = words.join(' ');
    expect(t.scan(s).stems).toEqual(t.expected(s).stems);
    expect(t.scan(s.toUpperCase()).stems).toEqual(t.expected(s).stems);
    expect(t.table.size).toBe(300);
  });

  it('grows past its first size and, past maxWords, starts again without losing answers', () => {
    const t = toyTable(5_000);
    const words = Array.from({ length: 12_000 }, (_, i) => `w${i}x${(i * 7919) % 1000}`);
    t.intern(words[11_999]);
    for (let i = 0; i < words.length; i += 1000) {
      const s = words.slice(i, i + 1000).join(' ');
      expect(t.scan(s).stems).toEqual(t.expected(s).stems);
      expect(t.scan(s).ids).toEqual(t.expected(s).ids);
      expect(t.table.size).toBeLessThanOrEqual(5_000);
    }
    expect(t.scan(words[11_999]).ids).toEqual([0]);
  });

  it('says -1 for a text with a non-ASCII char and writes nothing', () => {
    const t = toyTable();
    const out = new Int32Array(4).fill(7);
    expect(t.table.scan('café au lait', out, 0, null)).toBe(-1);
    expect([...out]).toEqual([7, 7, 7, 7]);
  });

  it('the committed words.wasm is what assembly/words.ts compiles to (npm run build:wasm)', async () => {
    const { main } = await import('assemblyscript/asc');
    const dir = mkdtempSync(join(tmpdir(), 'words-wasm-'));
    try {
      const out = join(dir, 'words.wasm');
      const { error, stderr } = await main(['--config', 'assembly/asconfig.json', '--target', 'release', '--outFile', out]);
      expect(error ?? stderr.toString()).toBeFalsy();
      expect(Buffer.compare(readFileSync(out), readFileSync('src/matching/words.wasm'))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
