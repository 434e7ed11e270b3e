// Recorded stream timing, and replay at the recorded pace. No wall-clock assertions:
// the checks are about order (what has arrived before what), not durations.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { fakeOpenAi, seed } from './support/seeds.js';
import { recordingsIn, removeDir, serve, tempDir } from './support/harness.js';
import type { FakeUpstream } from './support/fake-upstream.js';
import { startServer } from '../src/index.js';

let dir: string;
let upstream: FakeUpstream;
beforeEach(async () => {
  dir = await tempDir();
  upstream = await fakeOpenAi(() => ({ pauseMs: 3 })).start();
});
afterEach(async () => {
  await upstream.stop();
  await removeDir(dir);
});

const request = seed('gpt-5.1-chat', 'Streaming Response').request;
const post = (url: string) => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });

it('records when the head and each event arrived, in order', async () => {
  const recorder = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
  await (await post(recorder.url)).text();
  await recorder.close();
  const [file] = await recordingsIn(dir);
  const { head_ms, offsets_ms } = file!.data.response.stream.timing;
  // one offset per wire event: every chunk and the closing [DONE]
  expect(offsets_ms).toHaveLength(file!.data.response.body.length + 1);
  expect(offsets_ms[0]).toBeGreaterThanOrEqual(head_ms);
  for (let i = 1; i < offsets_ms.length; i++) expect(offsets_ms[i]).toBeGreaterThanOrEqual(offsets_ms[i - 1]);
  expect(offsets_ms.at(-1)).toBeGreaterThan(offsets_ms[0]);
});

it('--pace recorded sends events one by one, --pace fast all at once; both the same bytes', async () => {
  const recorder = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
  const original = await (await post(recorder.url)).text();
  await recorder.close();
  await upstream.stop();

  const paced = await serve({ mode: 'replay', recordings: dir, pace: '2x' });
  const reader = (await post(paced.url)).body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  // The first read cannot hold the whole stream: the rest was still to come.
  expect(first.split('\n\n').filter(Boolean).length).toBeLessThan(original.split('\n\n').filter(Boolean).length / 2);
  let rest = '';
  for (let part = await reader.read(); !part.done; part = await reader.read()) rest += new TextDecoder().decode(part.value);
  await paced.close();

  const fast = await serve({ mode: 'replay', recordings: dir, pace: 'fast' });
  const fastText = await (await post(fast.url)).text();
  await fast.close();
  expect(first + rest).toBe(fastText);
  expect(fastText.split('\n\n').length).toBe(original.split('\n\n').length);
});

it.each(['slow', '0x', '-2x', 'x'])('rejects --pace %s', async (pace) => {
  await expect(startServer({ recordings: dir, pace, port: 0 })).rejects.toThrow(/pace: expected fast, recorded or a speed factor/);
});
