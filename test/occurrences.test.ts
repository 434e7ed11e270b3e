// Occurrences: the n-th time a test sends the same request it gets the n-th recorded
// answer. Recorded from an upstream whose answer changes on every call, replayed with
// it stopped, through the official openai SDK.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { answerText, counterUpstream, type CounterUpstream } from './support/counter-upstream.js';
import { json, listFiles, readJson, workspace } from './support/harness.js';
import type { RunningServer } from '../src/index.js';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { verifyRecordings } from '../src/cli/commands/verify.js';

const ws = workspace();

const poll = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Is the job done yet?' }] };

function client(server: RunningServer, testId: string, run?: string): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-test-id': testId, ...(run ? { 'x-llm-replay-run': run } : {}) } });
}

async function ask(openai: OpenAI): Promise<string> {
  return (await openai.chat.completions.create(poll)).choices[0]?.message.content ?? '';
}

async function counter(): Promise<CounterUpstream> {
  const upstream = await counterUpstream().start();
  ws.cleanup.push(() => upstream.stop());
  return upstream;
}

function reset(server: RunningServer, body: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${server.url}/_llm-replay/occurrences/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Records a three-step poll in test `t` and stops the recorder and the upstream. */
async function recordPoll(): Promise<void> {
  const upstream = await counter();
  const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
  const openai = client(recorder, 't');
  expect([await ask(openai), await ask(openai), await ask(openai)]).toEqual([answerText(1), answerText(2), answerText(3)]);
  await recorder.close();
  await upstream.stop();
}

describe('occurrences', () => {
  it('a three-step poll is recorded as three files and replayed in order, twice in a row', async () => {
    await recordPoll();
    const files = await listFiles(ws.dir);
    expect(files).toHaveLength(3);
    const key = files.find((f) => /^[0-9a-f]{64}\.json$/.test(f))!.slice(0, 64);
    expect(files.sort()).toEqual([`${key}.2.json`, `${key}.3.json`, `${key}.json`]);
    expect((await readJson(path.join(ws.dir, `${key}.json`))).occurrence).toBeUndefined();
    expect((await readJson(path.join(ws.dir, `${key}.2.json`))).occurrence).toBe(2);
    const third = await readJson(path.join(ws.dir, `${key}.3.json`));
    expect(Object.keys(third).slice(0, 2)).toEqual(['test_id', 'occurrence']);
    expect(third.occurrence).toBe(3);

    const replayer = await ws.start({ mode: 'replay' });
    const openai = client(replayer, 't');
    for (let run = 0; run < 2; run++) {
      expect((await reset(replayer, { test_id: 't' })).status).toBe(200);
      expect([await ask(openai), await ask(openai), await ask(openai)]).toEqual([answerText(1), answerText(2), answerText(3)]);
    }
  });

  it('past the last recorded occurrence, replay answers the last again and says so in the log and usage data', async () => {
    await recordPoll();
    const logs = new PassThrough();
    let logText = '';
    logs.on('data', (part: Buffer) => (logText += part.toString()));
    const replayer = await ws.start({ mode: 'replay', logLevel: 'warn', logStream: logs });
    const openai = client(replayer, 't', 'ci-1');
    for (let i = 1; i <= 3; i++) await ask(openai);
    expect(await ask(openai)).toBe(answerText(3));
    expect(logText).toContain('was sent 4 times in this test but recorded up to occurrence 3');
    const usage = await json(await fetch(`${replayer.url}/_llm-replay/usage`));
    expect(usage.repeated).toEqual([expect.objectContaining({ testId: 't', run: 'ci-1', occurrence: 4, answered: 3 })]);
    expect((await json(await fetch(`${replayer.url}/_llm-replay/stats`))).totals.repeated).toBe(1);
  });

  it('with strictOccurrences, a request sent more often than recorded is a miss that says so', async () => {
    await recordPoll();
    const replayer = await ws.start({ mode: 'replay', strictOccurrences: true });
    const openai = client(replayer, 't');
    for (let i = 1; i <= 3; i++) await ask(openai);
    const error = await ask(openai).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as Error).message).toMatch(/no recording for occurrence 4 of POST \/v1\/chat\/completions in this test .*it is recorded 3 times/);
  });

  it('recording a sequence again from its start removes the old later occurrences, so old and new never mix', async () => {
    await recordPoll();
    expect(await listFiles(ws.dir)).toHaveLength(3);
    // The poll now ends after two steps: a new session records it again.
    const upstream = await counter();
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    const openai = client(recorder, 't');
    expect([await ask(openai), await ask(openai)]).toEqual([answerText(1), answerText(2)]);
    await recorder.close();
    const files = await listFiles(ws.dir);
    expect(files.map((file) => file.replace(/^[0-9a-f]{64}/, '<key>')).sort()).toEqual(['<key>.2.json', '<key>.json']);
    // Concurrent identical requests recorded again in one go all stay.
    const again = await ws.start({ mode: 'record', upstream: upstream.url });
    await Promise.all(Array.from({ length: 3 }, () => ask(client(again, 't'))));
    await again.close();
    await upstream.stop();
    expect(await listFiles(ws.dir)).toHaveLength(3);
  });

  it('a first occurrence recorded late (its first send got a 429) keeps the later ones recorded meanwhile', async () => {
    const upstream = await counter();
    upstream.failNext({ status: 429, headers: { 'retry-after': '0' } });
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    // Two sends at once: one gets the 429 (its occurrence is given back), the other is recorded; then the retry.
    const first = await Promise.allSettled([ask(client(recorder, 'late')), ask(client(recorder, 'late'))]);
    expect(first.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    await ask(client(recorder, 'late'));
    await recorder.close();
    expect(await listFiles(ws.dir)).toHaveLength(2);
  });

  it('two runs recording one test on one server never remove each other\'s occurrences: no hole, and the mix is said', async () => {
    const upstream = await counter();
    const logs = new PassThrough();
    let logText = '';
    logs.on('data', (part: Buffer) => (logText += part.toString()));
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url, logLevel: 'warn', logStream: logs });
    const [a, b] = [client(recorder, 't', 'job-a'), client(recorder, 't', 'job-b')];
    expect([await ask(b), await ask(b)]).toEqual([answerText(1), answerText(2)]);
    // Run a starts the same test after b recorded two occurrences; then b goes on.
    expect(await ask(a)).toBe(answerText(3));
    expect(await ask(b)).toBe(answerText(4));
    await recorder.close();
    await upstream.stop();
    const files = await listFiles(ws.dir);
    expect(files.map((file) => file.replace(/^[0-9a-f]{64}/, '<key>')).sort()).toEqual(['<key>.2.json', '<key>.3.json', '<key>.json']);
    expect(logText).toMatch(/recorded by run 'job-a', test 't' while run 'job-b', test 't' recorded others of it on this server: its recorded sequence now mixes two recordings/);
  });

  it('identical requests sent in parallel in one test are occurrences: each recorded, and replayed', async () => {
    const upstream = await counter();
    const recorder = await ws.start({ mode: 'record-if-missing', upstream: upstream.url });
    const sampled = await Promise.all(Array.from({ length: 4 }, () => ask(client(recorder, 'sample'))));
    expect(upstream.count).toBe(4);
    expect(new Set(sampled)).toEqual(new Set([1, 2, 3, 4].map(answerText)));
    expect(await listFiles(ws.dir)).toHaveLength(4);
    await recorder.close();
    await upstream.stop();
    const replayer = await ws.start({ mode: 'replay' });
    const replayed = await Promise.all(Array.from({ length: 4 }, () => ask(client(replayer, 'sample'))));
    expect(new Set(replayed)).toEqual(new Set(sampled));
  });

  it('two runs of one test at once, with different run scopes, each get the answers in order', async () => {
    await recordPoll();
    const replayer = await ws.start({ mode: 'replay' });
    const a = client(replayer, 't', 'matrix-a');
    const b = client(replayer, 't', 'matrix-b');
    const seen: Record<string, string[]> = { a: [], b: [] };
    for (let i = 0; i < 3; i++) {
      const [fromA, fromB] = await Promise.all([ask(a), ask(b)]);
      seen['a']!.push(fromA);
      seen['b']!.push(fromB);
    }
    expect(seen).toEqual({ a: [1, 2, 3].map(answerText), b: [1, 2, 3].map(answerText) });
  });

  it('the reset endpoint starts counts again for a test, a run, or all; a bad body is a 400', async () => {
    await recordPoll();
    const replayer = await ws.start({ mode: 'replay' });
    const inRun = (run: string) => client(replayer, 't', run);
    await ask(inRun('x'));
    await ask(inRun('y'));
    expect(await json(await reset(replayer, { test_id: 't', run: 'x' }))).toEqual({ reset: 1 });
    expect(await ask(inRun('x'))).toBe(answerText(1));
    expect(await ask(inRun('y'))).toBe(answerText(2));
    expect(await json(await reset(replayer, { run: 'y' }))).toEqual({ reset: 1 });
    expect(await ask(inRun('y'))).toBe(answerText(1));
    expect(await json(await reset(replayer, { test_id: 'other' }))).toEqual({ reset: 0 });
    expect(await json(await reset(replayer))).toEqual({ reset: 2 });
    expect(await ask(inRun('x'))).toBe(answerText(1));
    const guarded = await ws.start({ mode: 'replay', adminToken: 'sesame' });
    expect((await reset(guarded)).status).toBe(401);
    const allowed = await fetch(`${guarded.url}/_llm-replay/occurrences/reset`, { method: 'POST', headers: { 'x-llm-replay-token': 'sesame' } });
    expect(await json(allowed)).toEqual({ reset: 0 });
    const bad = await reset(replayer, { test_id: 5 });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.message).toContain('test_id: must be a string (or null');
  });

  it('record-if-missing replays the recorded occurrences and records the ones after', async () => {
    await recordPoll();
    const upstream = await counter();
    const server = await ws.start({ mode: 'record-if-missing', upstream: upstream.url });
    const openai = client(server, 't');
    expect([await ask(openai), await ask(openai), await ask(openai), await ask(openai)]).toEqual([answerText(1), answerText(2), answerText(3), answerText(1)]);
    expect(upstream.count).toBe(1);
    expect((await listFiles(ws.dir)).filter((f) => f.endsWith('.4.json'))).toHaveLength(1);
  });

  it('each occurrence mints its own stateful ids, and a follow-up reaches the upstream state it names', async () => {
    const upstream = await counter();
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    const openai = client(recorder, 'flow');
    const first = await openai.responses.create({ model: 'gpt-4o-mini', input: 'Start a job' });
    const second = await openai.responses.create({ model: 'gpt-4o-mini', input: 'Start a job' });
    expect(first.id).toMatch(/^resp_[0-9a-f]{40}$/);
    expect(second.id).toMatch(/^resp_[0-9a-f]{40}$/);
    expect(second.id).not.toBe(first.id);
    await openai.responses.create({ model: 'gpt-4o-mini', input: 'And then?', previous_response_id: second.id });
    // The follow-up names the second job's real id upstream, not the first's.
    expect(JSON.parse(upstream.received[2]!.body).previous_response_id).toBe(upstream.issued[1]);
  });

  it('verify checks that a file is the occurrence its name says; unused recordings are named per occurrence', async () => {
    await recordPoll();
    expect((await verifyRecordings(ws.dir, 'default')).ok).toBe(3);
    const replayer = await ws.start({ mode: 'replay' });
    const openai = client(replayer, 't');
    await ask(openai);
    await ask(openai);
    const key = (await listFiles(ws.dir)).find((f) => f.endsWith('.3.json'))!.slice(0, 64);
    expect(await json(await fetch(`${replayer.url}/_llm-replay/unused`))).toEqual({ unused: [`${key}.3.json`] });
    const second = path.join(ws.dir, `${key}.2.json`);
    await writeFile(second, JSON.stringify({ ...(await readJson(second)), occurrence: 5 }));
    await writeFile(path.join(ws.dir, `${key}.1.json`), '{}');
    const report = await verifyRecordings(ws.dir, 'default');
    expect(report.problems).toEqual([
      { file: path.join(ws.dir, `${key}.1.json`), kind: 'unusable', detail: expect.stringContaining('<key>.<n>.json (n from 2)') },
      { file: second, kind: 'occurrence-mismatch', detail: 'its name says occurrence 2, the file says 5' },
    ]);
  });
});
