import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { containment, decodeSignature, encodeMins, jaccard, signatureOf, storyText } from '../../../src/stories/signature.js';
import { StoryIndex } from '../../../src/stories/story-index.js';

const seed = JSON.parse(readFileSync(new URL('../../fixtures/articles.json', import.meta.url), 'utf8'))[0] as { title: string; body: string };
const sim = (a: string, b: string) => {
  const x = signatureOf(a)!;
  const y = signatureOf(b)!;
  return containment(jaccard(x.bins, 0, y.bins, 0), x.shingles, y.shingles);
};
const words = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(' ');

describe('story text', () => {
  it('leaves out wire boilerplate: datelines, bylines, share lines (glued or not) and legal notices to the end of their paragraph', () => {
    const text = storyText({
      title: 'Port expansion approved',
      body: [
        'TOKYO, Dec 2 (Reuters) - The harbour authority approved the terminal.',
        'By Jane Doe',
        'It opens in spring. Share us on your social networks:',
        'Legal Disclaimer: MENAFN provides the information “as is” without warranty of any kind. We do not accept any responsibility for the accuracy of this article.',
        '© 2026 Example Wire. All rights reserved.',
      ].join('\n'),
    });
    expect(text).toBe('Port expansion approved\nThe harbour authority approved the terminal.\nIt opens in spring.');
  });

  it('keeps a long sentence whatever it contains, and the body over a shorter summary', () => {
    const long = `Follow us on ${'the long road of a story that has real content in it '.repeat(10)}`;
    expect(storyText({ title: 't', summary: 'short', body: long })).toContain('Follow us on');
    expect(storyText({ title: 't', summary: 'a summary longer than the body', body: 'body' })).toBe('t\na summary longer than the body');
  });
});

describe('signatures', () => {
  it('are the same for the same text, near 1 for copies and near 0 for other stories', () => {
    const paras = seed.body.split(/\n+/);
    expect(sim(seed.body, seed.body)).toBe(1);
    // Trimmed: contained (1 exactly; 64 bins estimate it within about ±0.2), far over the threshold.
    expect(sim(seed.body, paras.slice(0, Math.ceil(paras.length / 2)).join('\n'))).toBeGreaterThan(0.7);
    // Reordered paragraphs: shingles stay within a paragraph, so the sets are equal.
    expect(sim(seed.body, [...paras.slice(3), ...paras.slice(0, 3)].join('\n'))).toBe(1);
    expect(sim(seed.body, words('other', 300))).toBe(0);
  });

  it('need a few shingles of text; fewer are no signature', () => {
    expect(signatureOf('just four words here')).toBeUndefined();
    expect(signatureOf(words('w', 20))).toBeDefined();
  });

  it('store and load as 256 bytes', () => {
    const sig = signatureOf(seed.body)!;
    const bytes = encodeMins(sig.mins);
    expect(bytes.byteLength).toBe(256);
    const back = decodeSignature(new Uint8Array(bytes), sig.shingles);
    expect(back).toEqual(sig);
    expect(() => decodeSignature(new Uint8Array(10), 5)).toThrow(/256/);
  });
});

describe('story index', () => {
  const t0 = new Date('2026-12-01T00:00:00Z');
  const day = 86_400_000;

  it('finds the most similar stored article within the window, past the initial capacity', () => {
    const index = new StoryIndex();
    for (let i = 1; i <= 3000; i++) index.add({ articleId: i, storyId: i, publishedAt: new Date(t0.getTime() + (i % 5) * day), signature: signatureOf(words(`s${i}x`, 80))! });
    const copy = signatureOf(words('s2345x', 60))!;
    expect(index.best(copy, 0.45, new Date(t0.getTime() + 2 * day), 7 * day)).toMatchObject({ articleId: 2345, storyId: 2345, similarity: expect.any(Number) });
    expect(index.best(copy, 0.45, new Date(t0.getTime() + 30 * day), 7 * day)).toBeUndefined(); // out of the window
    expect(index.best(signatureOf(words('fresh', 80))!, 0.45, t0, 7 * day)).toBeUndefined();
    index.add({ articleId: 2345, storyId: 1, publishedAt: t0, signature: copy }); // a second add changes nothing
    expect(index.count).toBe(3000);
  });

  it('prunes what fell out of every window and still finds the rest', () => {
    const index = new StoryIndex();
    for (let i = 1; i <= 200; i++) index.add({ articleId: i, storyId: i, publishedAt: new Date(t0.getTime() + i * 3600_000), signature: signatureOf(words(`p${i}y`, 50))! });
    expect(index.prune(new Date(t0.getTime() + 100.5 * 3600_000))).toBe(100);
    expect(index.count).toBe(100);
    expect(index.has(50)).toBe(false);
    expect(index.best(signatureOf(words('p150y', 50))!, 0.9, new Date(t0.getTime() + 150 * 3600_000), 7 * day)?.articleId).toBe(150);
    expect(index.best(signatureOf(words('p50y', 50))!, 0.5, t0, 7 * day)).toBeUndefined();
  });
});
