import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../src/services/group-commit.js';

/** A writer whose writes finish when the test says so. */
function controlledWriter(fail?: (items: string[]) => boolean) {
  const calls: string[][] = [];
  const pending: (() => void)[] = [];
  const write = (items: string[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push(items);
      pending.push(() => (fail?.(items) ? reject(new Error(`bad batch ${items.join(',')}`)) : resolve()));
    });
  const finishAll = async () => {
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { calls, write, finishAll };
}

describe('GroupCommit', () => {
  it('writes the first item at once and gathers the ones that arrive meanwhile into the next batch', async () => {
    const w = controlledWriter();
    const gc = new GroupCommit(w.write, { maxBatch: 3, concurrency: 1 });
    const done = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => gc.submit(x));
    expect(w.calls).toEqual([['a']]);
    await w.finishAll();
    await Promise.all(done);
    expect(w.calls).toEqual([['a'], ['b', 'c', 'd'], ['e', 'f']]);
  });

  it('never puts two items with one key in a batch, and keeps the order otherwise', async () => {
    const w = controlledWriter();
    const gc = new GroupCommit(w.write, { maxBatch: 10, concurrency: 1, key: (s: string) => s.toLowerCase() });
    const done = ['x', 'A', 'b', 'a', 'c', 'A'].map((s) => gc.submit(s));
    await w.finishAll();
    await Promise.all(done);
    expect(w.calls).toEqual([['x'], ['A', 'b', 'c'], ['a'], ['A']]);
  });

  it('runs up to `concurrency` batches at a time', async () => {
    const w = controlledWriter();
    const gc = new GroupCommit(w.write, { maxBatch: 10, concurrency: 2 });
    const done = [1, 2, 3, 4].map((n) => gc.submit(String(n)));
    expect(w.calls).toEqual([['1'], ['2']]);
    await w.finishAll();
    await Promise.all(done);
    expect(w.calls.slice(2)).toEqual([['3', '4']]);
  });

  it('when a batch fails, writes its items one by one: only the bad item is rejected', async () => {
    const w = controlledWriter((items) => items.includes('bad'));
    const gc = new GroupCommit(w.write, { maxBatch: 10, concurrency: 1 });
    const results = ['first', 'ok1', 'bad', 'ok2'].map((s) => gc.submit(s).then(() => 'written', (e: Error) => e.message));
    await w.finishAll();
    expect(await Promise.all(results)).toEqual(['written', 'written', 'bad batch bad', 'written']);
    expect(w.calls).toEqual([['first'], ['ok1', 'bad', 'ok2'], ['ok1'], ['bad'], ['ok2']]);
  });
});
