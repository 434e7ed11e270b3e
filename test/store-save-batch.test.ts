// Recordings saved in one turn of the event loop are stored together at its end: each
// on its own (one that cannot be written fails alone), in the order asked, nothing of one
// visible before it is on disk (no request may be answered from a recording that is not
// there yet, or never will be), and a drain (server close) waits for saves still queued.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { serializeRecording, type Recording } from '../src/recordings/recording.js';
import { RecordingStore } from '../src/recordings/store.js';
import { listFiles, readJson, removeDir, tempDir } from './support/harness.js';

const keyOf = (letter: string) => letter.repeat(64);

function recordingOf(answer: string): Recording {
  return {
    test_id: 't',
    request: { method: 'POST', url: 'http://127.0.0.1/v1/chat/completions', headers: {}, body: { model: 'm' }, endpoint: '/v1/chat/completions', model: 'm' },
    response: { body: { answer }, is_streaming: false },
    id_normalization_mapping: {},
  };
}

/** Lets queued microtasks run, but no other turn of the event loop: what any other request would see next at the earliest. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await null;
}

describe('saving recordings', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await removeDir(dir);
  });

  it('stores the saves of one turn together: one that cannot be written fails alone, the others land, in order, with no temp file left', async () => {
    const store = await RecordingStore.open(dir);
    // A folder (not empty) where the second recording's file goes: renaming onto it fails, for root too.
    await mkdir(path.join(dir, `${keyOf('b')}.json`));
    await writeFile(path.join(dir, `${keyOf('b')}.json`, 'keep.txt'), 'in the way');
    const order: string[] = [];
    store.onWritten(({ key }) => order.push(key[0]!));
    const saves = ['a', 'b', 'c'].map((letter) => store.save(keyOf(letter), recordingOf(letter), '', { secrets: [] }).then(() => 'stored', (error: Error) => error.message));
    expect(await Promise.all(saves)).toEqual(['stored', `${path.join(dir, `${keyOf('b')}.json`)}: cannot be written (EISDIR)`, 'stored']);
    expect(order).toEqual(['a', 'c']);
    expect(await listFiles(dir)).toEqual([`${keyOf('a')}.json`, path.join(`${keyOf('b')}.json`, 'keep.txt'), `${keyOf('c')}.json`]);
    expect((await readJson(path.join(dir, `${keyOf('c')}.json`))).response.body).toEqual({ answer: 'c' });
    expect(store.recordingsOf(keyOf('a'))?.[0]?.response.body).toEqual({ answer: 'a' });
    expect(store.recordingsOf(keyOf('b'))).toBeUndefined();
  });

  it('writes each file exactly as its recording serialises, whatever was written before it (long, short, beyond ASCII, past the reused buffer)', async () => {
    const store = await RecordingStore.open(dir);
    const answers = { a: 'x'.repeat(100_000), b: 'short', c: 'naïve • 漢字 😀 \u2028', d: '€'.repeat(300_000), e: 'last' };
    // One after another (each its own turn) and all in one turn: the bytes of each save are made and written before the next.
    for (const letter of ['a', 'b', 'c'] as const) await store.save(keyOf(letter), recordingOf(answers[letter]), '', { secrets: [] });
    await Promise.all((['d', 'e'] as const).map((letter) => store.save(keyOf(letter), recordingOf(answers[letter]), '', { secrets: [] })));
    for (const [letter, answer] of Object.entries(answers)) {
      const text = await readFile(path.join(dir, `${keyOf(letter)}.json`), 'utf8');
      expect(text).toBe(serializeRecording(recordingOf(answer)));
    }
    // A recording that holds the request's key is made twice (scrubbed the second time): the file is the second.
    const secret = 'sk-proj-0123456789abcdefghijklmnop';
    await store.save(keyOf('f'), recordingOf(`echo ${secret} ${'y'.repeat(20_000)}`), '', { secrets: [secret] });
    const scrubbed = await readFile(path.join(dir, `${keyOf('f')}.json`), 'utf8');
    expect(scrubbed).not.toContain(secret);
    expect(JSON.parse(scrubbed).response.body.answer).toMatch(/^echo \S+ y{20000}$/);
    expect(scrubbed.endsWith('}\n')).toBe(true);
  });

  it('shows nothing of a recording before it is on disk, and nothing of one whose write failed', async () => {
    const store = await RecordingStore.open(dir);
    await mkdir(path.join(dir, `${keyOf('b')}.json`));
    await writeFile(path.join(dir, `${keyOf('b')}.json`, 'keep.txt'), 'in the way');
    const good = store.save(keyOf('a'), recordingOf('a'), '', { secrets: [], keepInMemory: true });
    const failing = store.save(keyOf('b'), recordingOf('b'), '', { secrets: [], keepInMemory: true }).catch((error: Error) => error);
    await microtasks();
    // Not answerable yet, and not on disk: the two go together.
    expect(store.recordingsOf(keyOf('a'))).toBeUndefined();
    expect(existsSync(path.join(dir, `${keyOf('a')}.json`))).toBe(false);
    await good;
    expect(existsSync(path.join(dir, `${keyOf('a')}.json`))).toBe(true);
    expect(store.recordingsOf(keyOf('a'))?.[0]?.response.body).toEqual({ answer: 'a' });
    expect(await failing).toBeInstanceOf(Error);
    expect(store.recordingsOf(keyOf('b'))).toBeUndefined();
  });

  it('drains saves still queued (a server closing right after an answer ended)', async () => {
    const store = await RecordingStore.open(dir);
    void store.save(keyOf('a'), recordingOf('a'), '', { secrets: [] });
    await store.drain();
    expect(existsSync(path.join(dir, `${keyOf('a')}.json`))).toBe(true);
  });

  it('stores recordings while a test fakes the timers', async () => {
    vi.useFakeTimers();
    const store = await RecordingStore.open(dir);
    await store.save(keyOf('a'), recordingOf('a'), '', { secrets: [] });
    expect(existsSync(path.join(dir, `${keyOf('a')}.json`))).toBe(true);
  });

  it('rejects a save that fails before its write (the folder gone) without stopping the others or the drain', async () => {
    const store = await RecordingStore.open(dir);
    await removeDir(dir);
    const saves = [store.save(keyOf('a'), recordingOf('a'), 'tests/x/recordings', { secrets: [] }), store.save(keyOf('b'), recordingOf('b'), '', { secrets: [] })].map((save) => save.then(() => 'stored', () => 'refused'));
    await store.drain();
    expect(await Promise.all(saves)).toContain('refused');
  });

  it('re-records a sequence in one step: the older later occurrences removed and occurrence 1 written together, nothing changed before', async () => {
    const first = await RecordingStore.open(dir);
    for (const occurrence of [1, 2, 3]) await first.save(keyOf('a'), recordingOf(`old ${occurrence}`), '', { secrets: [], occurrence });
    const store = await RecordingStore.open(dir);
    const saved = store.save(keyOf('a'), recordingOf('new 1'), '', { secrets: [], occurrence: 1, newSequence: true });
    await microtasks();
    // Looked at synchronously: an awaited listing would itself let the turn end.
    expect(readdirSync(dir).sort()).toEqual([`${keyOf('a')}.2.json`, `${keyOf('a')}.3.json`, `${keyOf('a')}.json`]);
    expect(store.recordingsOf(keyOf('a'), 2)).toHaveLength(1);
    await saved;
    expect(await listFiles(dir)).toEqual([`${keyOf('a')}.json`]);
    expect(store.recordingsOf(keyOf('a'), 2)).toBeUndefined();
    expect((await readJson(path.join(dir, `${keyOf('a')}.json`))).response.body).toEqual({ answer: 'new 1' });
  });
});
