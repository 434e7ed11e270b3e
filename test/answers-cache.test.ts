// The prepared answers' memory budget: answers are bounded by their bytes, each key
// keeps getting its own answer however often the budget evicts, a suite asked for in
// the same order twice still finds a share of it in memory (where an LRU keeps none),
// and a recording written anew is prepared afresh.
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { ReplayAnswers } from '../src/replay/answers.js';
import type { Recording } from '../src/recordings/recording.js';
import type { RecordingStore } from '../src/recordings/store.js';

const PAD = 'x'.repeat(100_000);

function fakeStore(count: number) {
  const saved: Array<(key: string) => void> = [];
  let reads = 0;
  const version = new Map<string, number>();
  const recording = (key: string): Recording => ({
    test_id: null,
    request: { method: 'POST', url: 'http://127.0.0.1/x', headers: {}, body: null, endpoint: '/x', model: '' },
    response: { body: { key, version: version.get(key) ?? 0, pad: PAD }, is_streaming: false, status: 200, headers: { 'content-type': 'application/json' } },
    id_normalization_mapping: {},
  });
  const store = {
    onSave: (listener: (key: string) => void) => saved.push(listener),
    recordingsOf: (key: string) => {
      if (Number(key.slice(1)) >= count) return undefined;
      reads++;
      return [recording(key)];
    },
    entry: () => ({ key: '', files: [], modelList: false }),
  };
  return {
    store: store as unknown as RecordingStore,
    reads: () => reads,
    rewrite: (key: string) => {
      version.set(key, (version.get(key) ?? 0) + 1);
      for (const listener of saved) listener(key);
    },
  };
}

async function answer(answers: ReplayAnswers, key: string): Promise<{ key: string; version: number }> {
  const prepared = await answers.lookup(key);
  return JSON.parse(prepared!.body!.toString()) as { key: string; version: number };
}

describe('prepared answers', () => {
  it('stay within their memory budget, each key answered with its own recording', async () => {
    // Eviction picks at random: seeded, so that the share found again is the same every run
    // (with Math.random it fell once to 50 of 1,000, on the bound below).
    let state = 7;
    const random = vi.spyOn(Math, 'random').mockImplementation(() => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    onTestFinished(() => random.mockRestore());
    // Three times the budget (32 MiB) in answers of 100 KB.
    const count = 1000;
    const fake = fakeStore(count);
    const answers = new ReplayAnswers(fake.store);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < count; i++) expect((await answer(answers, `k${i}`)).key).toBe(`k${i}`);
    }
    let inMemory = 0;
    for (let i = 0; i < count; i++) if (answers.ready(`k${i}`)) inMemory++;
    // 1,000 answers of 100 KB do not fit in the budget; some do.
    expect(inMemory).toBeGreaterThan(100);
    expect(inMemory * PAD.length).toBeLessThan(40 * 2 ** 20);
    // The second pass in the same order found part of the first in memory.
    expect(fake.reads()).toBeLessThan(2 * count - 50);
    expect(answers.lookup('k999999')).toBeUndefined();
  });

  it('prepare a recording afresh once it is written again', async () => {
    const fake = fakeStore(10);
    const answers = new ReplayAnswers(fake.store);
    expect((await answer(answers, 'k3')).version).toBe(0);
    expect(answers.ready('k3')).toBeDefined();
    fake.rewrite('k3');
    expect(answers.ready('k3')).toBeUndefined();
    expect((await answer(answers, 'k3')).version).toBe(1);
  });
});
