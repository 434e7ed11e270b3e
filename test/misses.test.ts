// Replay misses against a corpus: the catalogue holds a few facts per recording (never
// a body), the nearest recording is found from it, and only that one file is read.
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { computeKey, keyOfRecording } from '../src/keys/index.js';
import type { Recording } from '../src/recordings/recording.js';
import { RecordingCatalogue, type CatalogueEntry } from '../src/recordings/catalogue.js';
import { RecordingStore } from '../src/recordings/store.js';
import { signBody } from '../src/recordings/body-signature.js';
import { NearestIndex } from '../src/recordings/nearest-index.js';
import { bodyDifferences } from '../src/json/diff.js';
import { describeMiss } from '../src/replay/miss-report.js';
import { classifyBody } from '../src/request/client-request.js';
import { fakeOpenAi, chatParams, seed } from './support/seeds.js';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { json, openai, removeDir, tempDir, workspace } from './support/harness.js';

const ws = workspace();

const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu'.split(' ');

/** Deterministic text of about `words` words, different for every seed. */
function prose(seedValue: number, words: number): string {
  let state = seedValue * 2654435761 + 1;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out.push(WORDS[state % WORDS.length] as string);
  }
  return out.join(' ');
}

const SYSTEM = 'You are a careful assistant. Answer in one short paragraph and cite nothing.';

function chatBody(i: number, words = 300): { model: string; messages: Array<{ role: string; content: string }>; temperature: number } {
  return { model: 'gpt-4o', messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: prose(i, words) }], temperature: 0.7 };
}

function recordingOf(body: unknown, testId: string | null = null): Recording {
  return {
    test_id: testId,
    request: { method: 'POST', url: 'https://api.openai.com/v1/chat/completions', headers: {}, body: body as Recording['request']['body'], endpoint: '/v1/chat/completions', model: 'gpt-4o' },
    response: { body: { id: 'chatcmpl-1', object: 'chat.completion', choices: [] }, is_streaming: false },
    id_normalization_mapping: {},
  };
}

/** Writes recordings named by their keys; returns their file names. */
async function writeCorpus(dir: string, bodies: unknown[], testId: string | null = null): Promise<string[]> {
  return Promise.all(
    bodies.map(async (body) => {
      const recording = recordingOf(body, testId);
      const file = `${await keyOfRecording('default', recording)}.json`;
      await writeFile(path.join(dir, file), JSON.stringify(recording, null, 2));
      return file;
    }),
  );
}

function post(url: string, body: unknown, testId?: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...(testId ? { 'x-test-id': testId } : {}) }, body: JSON.stringify(body) });
}

/** Every string an entry holds, however deep. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return [];
  return Object.values(value as Record<string, unknown>).flatMap(stringsOf);
}

function footprint(entry: CatalogueEntry): number {
  return JSON.stringify(entry, (_key, value: unknown) => (ArrayBuffer.isView(value) ? Array.from(value as Uint32Array) : value)).length;
}

describe('the nearest recording to a miss', () => {
  it('is found among hundreds from the catalogue, and only its own file is read', async () => {
    const bodies = Array.from({ length: 300 }, (_, i) => chatBody(i));
    const files = await writeCorpus(ws.dir, bodies);
    const server = await ws.start({ mode: 'replay' });
    await server.catalogue.build();
    expect(server.catalogue.size).toBe(300);
    // Every other file is now garbage: a report that read any of them would show it.
    const target = 137;
    await Promise.all(files.map((file, i) => (i === target ? undefined : writeFile(path.join(ws.dir, file), 'not json'))));
    const base = bodies[target]!;

    const temperature = (await json(await post(server.url, { ...base, temperature: 0.2 }))).error.message as string;
    expect(temperature).toContain(files[target]);
    expect(temperature).toContain('body.temperature: recorded 0.7, requested 0.2');
    expect(temperature).not.toContain('cannot be read');

    const words = base.messages[1]!.content.split(' ');
    words[150] = 'changed';
    const edited = (await json(await post(server.url, { ...base, messages: [base.messages[0], { role: 'user', content: words.join(' ') }] }))).error.message as string;
    expect(edited).toContain(files[target]);
    expect(edited).toContain('body.messages[1].content: recorded');

    const appended = (await json(await post(server.url, { ...base, messages: [...base.messages, { role: 'assistant', content: 'Sure.' }] }))).error.message as string;
    expect(appended).toContain(files[target]);
    expect(appended).toContain('body.messages[2].content: recorded (absent), requested "Sure."');
    expect(appended).not.toMatch(/still being catalogued/);
  });

  it('prefers the same body under another test id to another body under the same test id', async () => {
    const [mine] = await writeCorpus(ws.dir, [chatBody(1)], 'tests/test_a.py::test_one');
    await writeCorpus(ws.dir, [chatBody(2), chatBody(3)], 'tests/test_a.py::test_two');
    const server = await ws.start({ mode: 'replay' });
    await server.catalogue.build();
    const message = (await json(await post(server.url, chatBody(1), 'tests/test_a.py::test_two'))).error.message as string;
    expect(message).toContain(mine);
    expect(message).toContain('test id: recorded "tests/test_a.py::test_one", requested "tests/test_a.py::test_two"');
  });

  it('is found on the first miss, which starts the catalogue: a replay that only hits never reads it', async () => {
    const files = await writeCorpus(ws.dir, [chatBody(1), chatBody(2), chatBody(3)]);
    const server = await ws.start({ mode: 'replay' });
    const hit = await post(server.url, chatBody(2));
    expect(hit.status).toBe(200);
    await hit.text();
    expect(server.catalogue.complete).toBe(false);
    expect(server.catalogue.size).toBe(0);
    const missed = await post(server.url, { ...chatBody(2), temperature: 0 });
    expect(missed.status).toBe(404);
    const message = (await json(missed)).error.message as string;
    expect(message).toContain(files[1]);
    expect(message).not.toMatch(/still being catalogued/);
    expect(server.catalogue.complete).toBe(true);
  });

  it('is reported as possibly missing while the catalogue is still being read, and found once it is', async () => {
    const [file] = await writeCorpus(ws.dir, [chatBody(5), chatBody(6), chatBody(7)]);
    const store = await RecordingStore.open(ws.dir);
    const catalogue = new RecordingCatalogue(store);
    const body = Buffer.from(JSON.stringify({ ...chatBody(5), temperature: 0 }));
    const client = { method: 'POST', path: '/v1/chat/completions', query: '', headers: {}, body: classifyBody(body, 'application/json'), testId: null, run: '' };
    const key = computeKey('default', client, { upstreamHost: 'api.openai.com' });
    const first = { occurrence: 1, recorded: undefined };
    const early = await describeMiss(catalogue, client, key, first, 0);
    expect(early.message).toContain('No recording has POST /v1/chat/completions at all so far.');
    expect(early.message).toContain('The recordings are still being catalogued, 0 of 3 files read: a nearer one may exist.');
    await catalogue.build();
    const later = await describeMiss(catalogue, client, key, first);
    expect(later.message).toContain(file);
    expect(later.nearest?.differences).toEqual(['body.temperature: recorded 0.7, requested 0']);
  });
});

describe('a miss of a request recorded through a route the server does not have', () => {
  it('names where it is recorded and says to give the server that route, not to record again; and the other way round', async () => {
    const upstream = await ws.upstream(new FakeUpstream().on('POST', '/v1/messages', (_request, res) => sendJson(res, 200, { id: 'msg_01', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'hi' }], model: 'claude-sonnet-4-6', stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } })));
    const body = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    const post = (url: string, route: string) => fetch(`${url}${route}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url, routes: { '/anthropic': upstream.url } });
    expect((await post(recorder.url, '/anthropic')).status).toBe(200);
    await recorder.close();
    const replayer = await ws.start({ mode: 'replay' });
    const missed = (await json(await post(replayer.url, ''))) as { error: { message: string } };
    expect(missed.error.message).toContain('No recording has POST /v1/messages at all.');
    expect(missed.error.message).toContain('Recordings of POST /anthropic/v1/messages exist: they were made through a route this server does not have');
    expect(missed.error.message).not.toContain('To record it');
    // Recorded without the route, asked through it (in a folder of their own).
    const other = await tempDir();
    ws.cleanup.push(() => removeDir(other));
    const plain = await ws.start({ mode: 'record', recordings: other, upstream: upstream.url });
    expect((await post(plain.url, '')).status).toBe(200);
    await plain.close();
    const routed = await ws.start({ mode: 'replay', recordings: other, routes: { '/anthropic': upstream.url } });
    const through = (await json(await post(routed.url, '/anthropic'))) as { error: { message: string } };
    expect(through.error.message).toContain('Recordings of POST /v1/messages exist');
  });
});

describe("a test's misses", () => {
  it('are counted past the run\'s first thousand kept, so a miss fails its test whenever it comes', async () => {
    const server = await ws.start({ mode: 'replay' });
    await server.catalogue.build();
    const pool = new Pool(server.url, { connections: 16 });
    ws.cleanup.push(() => pool.close());
    const miss = async (i: number, testId: string) => {
      const response = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', 'x-test-id': testId }, body: JSON.stringify(chatBody(i, 5)) });
      await response.body.dump();
      return response.statusCode;
    };
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let i = next++; i < 1001; i = next++) expect(await miss(i, 'noisy.test.ts::floods')).toBe(404);
    }));
    expect(await miss(5000, 'quiet.test.ts::misses once')).toBe(404);
    const misses = async (query: Record<string, string>) => json(await fetch(`${server.url}/_llm-replay/misses?${new URLSearchParams(query)}`));
    const quiet = await misses({ test_id: 'quiet.test.ts::misses once' });
    // Past the server's first 1,000 the test's own diagnostic is still there.
    expect(quiet.count).toBe(1);
    expect(quiet.misses.map((m: { testId: string }) => m.testId)).toEqual(['quiet.test.ts::misses once']);
    const noisy = await misses({ test_id: 'noisy.test.ts::floods' });
    expect(noisy.count).toBe(1001);
    expect(noisy.misses).toHaveLength(20);
    expect((await misses({})).misses).toHaveLength(1000);
  });

  it('are counted per run and from the test\'s start, so a rerun or another run sharing the server is not failed by old misses', async () => {
    const server = await ws.start({ mode: 'replay' });
    const send = (run: string) => fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 't.test.ts::t', 'x-llm-replay-run': run }, body: JSON.stringify(chatBody(1, 5)) });
    const count = async (run: string) => (await json(await fetch(`${server.url}/_llm-replay/misses?test_id=t.test.ts::t&run=${run}`))).count;
    expect((await send('run1')).status).toBe(404);
    expect(await count('run1')).toBe(1);
    expect(await count('run2')).toBe(0);
    const reset = await fetch(`${server.url}/_llm-replay/occurrences/reset`, { method: 'POST', body: JSON.stringify({ test_id: 't.test.ts::t', run: 'run1' }) });
    expect(reset.status).toBe(200);
    expect(await count('run1')).toBe(0);
    // Without a run, the test's misses in every run.
    await send('run1');
    await send('run2');
    expect((await json(await fetch(`${server.url}/_llm-replay/misses?test_id=t.test.ts::t`))).count).toBe(2);
  });
});

describe('the nearest-recording index', () => {
  it('forgets what is removed, whether a posting held one item or several', () => {
    const index = new NearestIndex<{ method: string; endpoint: string; testId: string | null; signature: ReturnType<typeof signBody>; name: string }>();
    const item = (name: string, body: unknown) => ({ method: 'POST', endpoint: '/v1/chat/completions', testId: null, signature: signBody(body), name });
    const a = item('a', chatBody(1));
    const b = item('b', chatBody(1));
    const c = item('c', chatBody(2));
    const query = { ...item('q', { ...chatBody(1), temperature: 0 }) };
    index.add(a);
    expect(index.nearest(query)).toBe(a);
    index.add(b);
    index.add(c);
    index.remove(a);
    expect(index.nearest(query)).toBe(b);
    index.remove(b);
    expect(index.nearest(query)).toBe(c);
    index.remove(c);
    expect(index.nearest(query)).toBeUndefined();
    index.add(a);
    expect(index.nearest(query)).toBe(a);
  });
});

describe('the catalogue', () => {
  it('holds the same few facts for a 1 KB prompt as for a 400 KB one, never the body', async () => {
    const [small, large] = await writeCorpus(ws.dir, [chatBody(1, 150), chatBody(2, 60_000)]);
    const store = await RecordingStore.open(ws.dir);
    const catalogue = new RecordingCatalogue(store);
    await catalogue.build();
    const smallEntry = catalogue.get(small!)!;
    const largeEntry = catalogue.get(large!)!;
    expect((await stat(path.join(ws.dir, large!))).size).toBeGreaterThan(300_000);
    expect(largeEntry).toMatchObject({ key: large!.slice(0, 64), occurrence: 1, file: large, method: 'POST', endpoint: '/v1/chat/completions', model: 'gpt-4o', testId: null, status: 200, streaming: false });
    expect(largeEntry.bytes).toBe((await stat(path.join(ws.dir, large!))).size);
    expect(Math.max(...stringsOf(largeEntry).map((s) => s.length))).toBeLessThan(100);
    expect(Math.abs(footprint(largeEntry) - footprint(smallEntry))).toBeLessThan(64);
    expect(catalogue.complete).toBe(true);
    expect(catalogue.progress).toEqual({ read: 2, total: 2 });
  });

  it('names the files it cannot use', async () => {
    await writeCorpus(ws.dir, [chatBody(1)]);
    await writeFile(path.join(ws.dir, `${'a'.repeat(64)}.json`), '{"request": {}}');
    const catalogue = new RecordingCatalogue(await RecordingStore.open(ws.dir));
    await catalogue.build();
    expect(catalogue.size).toBe(1);
    expect([...catalogue.problems]).toEqual([[`${'a'.repeat(64)}.json`, 'not a recording: no "response" object']]);
  });

  it('takes in what the server records, as it is written', async () => {
    const upstream = await fakeOpenAi().start();
    ws.cleanup.push(() => upstream.stop());
    const server = await ws.start({ mode: 'record', upstream: upstream.url });
    await server.catalogue.build();
    const exchange = seed('gpt-5.1-chat', 'Usage');
    await openai(server, { testId: 'tests/test_c.py::test_one' }).chat.completions.create(chatParams(exchange));
    expect(server.catalogue.size).toBe(1);
    const [entry] = [...server.catalogue.entries()];
    expect(entry).toMatchObject({ method: 'POST', endpoint: '/v1/chat/completions', model: exchange.request.model, testId: 'tests/test_c.py::test_one', status: 200, streaming: false, occurrence: 1 });
    expect(entry!.bytes).toBe((await stat(path.join(ws.dir, entry!.file))).size);
    expect(entry!.file).toBe(`${entry!.key}.json`);

    // The same request again in the test: its second occurrence, a second entry.
    await openai(server, { testId: 'tests/test_c.py::test_one' }).chat.completions.create(chatParams(exchange));
    expect([...server.catalogue.entries()].map((e) => [e.file, e.occurrence])).toEqual([[entry!.file, 1], [`${entry!.key}.2.json`, 2]]);
    await server.close();
    // A later run records it again: the entry read at start is replaced, not added twice, and still found.
    const again = await ws.start({ mode: 'record', upstream: upstream.url });
    await again.catalogue.build();
    const read = again.catalogue.get(entry!.file)!;
    await openai(again, { testId: 'tests/test_c.py::test_one' }).chat.completions.create(chatParams(exchange));
    // ...and the old second occurrence, which would follow the new first one, is gone from the catalogue with its file.
    expect(again.catalogue.size).toBe(1);
    expect(again.catalogue.get(`${entry!.key}.2.json`)).toBeUndefined();
    const rewritten = again.catalogue.get(entry!.file)!;
    expect(rewritten).not.toBe(read);
    const query = { method: 'POST', endpoint: '/v1/chat/completions', testId: 'tests/test_c.py::test_one', signature: signBody({ ...chatParams(exchange), temperature: 2 }) };
    expect(again.catalogue.nearest(query)).toBe(rewritten);
  });
});

describe('body differences', () => {
  it('an empty list or object against a full one, or values of two kinds, differ as a whole; a new nested member reads leaf by leaf', () => {
    const recorded = { model: 'x', messages: [{ role: 'user', content: 'hi' }] };
    expect(bodyDifferences(recorded, { model: 'x', messages: [] })).toEqual([{ path: 'body.messages', a: '[{"role":"user","content":"hi"}]', b: '[]' }]);
    expect(bodyDifferences({ a: [1, 2] }, { a: { x: 1 } })).toEqual([{ path: 'body.a', a: '[1,2]', b: '{"x":1}' }]);
    expect(bodyDifferences(recorded, { ...recorded, extra: { a: 1, b: [true] } })).toEqual([
      { path: 'body.extra.a', a: undefined, b: '1' },
      { path: 'body.extra.b[0]', a: undefined, b: 'true' },
    ]);
    expect(bodyDifferences(recorded, structuredClone(recorded))).toEqual([]);
  });
});
