// Faults in every mode and from every place: a faulted exchange never writes or
// changes a recording; errors and resets never reach the upstream; the seeded
// schedule fails the same requests in two processes; the admin API shows it all.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfigFile } from '../src/config/config-file.js';
import { startServer, type RunningServer } from '../src/index.js';
import { FAULT_HEADER } from '../src/request/control-headers.js';
import { FakeUpstream } from './support/fake-upstream.js';
import { answerText, counterUpstream } from './support/counter-upstream.js';
import { json, listFiles, recordingsIn, workspace } from './support/harness.js';
import { fakeOpenAi, seed } from './support/seeds.js';

const ws = workspace();
const usage = seed('gpt-5.1-chat', 'Usage');
const streaming = seed('gpt-5.1-chat', 'Streaming Response');

const upstream = (): Promise<FakeUpstream> => ws.upstream(fakeOpenAi());

function chat(server: RunningServer | string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const base = typeof server === 'string' ? server : server.url;
  return fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** The body as far as it came, and the error that broke it off, if one did. */
async function outcome(response: Response): Promise<{ status: number; text: string; broken?: string }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (let part = await reader.read(); !part.done; part = await reader.read()) text += decoder.decode(part.value, { stream: true });
    return { status: response.status, text };
  } catch (error) {
    return { status: response.status, text, broken: String((error as Error).cause ?? error) };
  }
}

async function admin(server: RunningServer, method: string, query = '', body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.url}/_llm-replay/faults${query}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: await json(response) };
}

async function resetOccurrences(server: RunningServer, body: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${server.url}/_llm-replay/occurrences/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
}

describe('never recorded', () => {
  it('record mode: an HTTP error or a reset is answered without calling the upstream, and nothing is written', async () => {
    const fake = await upstream();
    const server = await ws.start({ mode: 'record', upstream: fake.url });
    const refused = await chat(server, usage.request, { [FAULT_HEADER]: 'status=503' });
    expect(refused.status).toBe(503);
    expect((await json(refused)).error.type).toBe('server_error');
    await expect(chat(server, usage.request, { [FAULT_HEADER]: 'reset' })).rejects.toThrow();
    expect(fake.calls()).toBe(0);
    expect(await listFiles(ws.dir)).toEqual([]);
  });

  it('record mode: a stream fault forwards (without the fault header) and cuts the client, writing nothing; the next exchange records cleanly', async () => {
    const fake = await upstream();
    const server = await ws.start({ mode: 'record', upstream: fake.url });
    const cut = await outcome(await chat(server, streaming.request, { [FAULT_HEADER]: 'cut-after=3' }));
    expect(cut.broken).toMatch(/terminated|closed|socket/i);
    expect(fake.calls()).toBe(1);
    expect(fake.received[0]!.headers[FAULT_HEADER]).toBeUndefined();
    expect(await listFiles(ws.dir)).toEqual([]);
    const whole = await outcome(await chat(server, streaming.request));
    expect(whole.text?.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(await listFiles(ws.dir)).toHaveLength(1);
    expect(server.usage.totals()).toMatchObject({ recorded: 1, faults: 1, forwarded: 2 });
  });

  it('record mode never overwrites a recording with a faulted exchange; record-if-missing faults the recording without the upstream', async () => {
    const fake = await upstream();
    const recorder = await ws.start({ mode: 'record', upstream: fake.url });
    await outcome(await chat(recorder, usage.request));
    const [before] = await recordingsIn(ws.dir);
    const file = path.join(ws.dir, before!.file);
    const bytes = await readFile(file, 'utf8');
    const malformed = await outcome(await chat(recorder, usage.request, { [FAULT_HEADER]: 'malformed-at=1;latency=5ms' }));
    expect(() => JSON.parse(malformed.text)).toThrow();
    expect(await readFile(file, 'utf8')).toBe(bytes);
    expect(fake.calls()).toBe(2);

    await recorder.close();
    const server = await ws.start({ mode: 'record-if-missing', upstream: fake.url });
    const hit = await outcome(await chat(server, usage.request, { [FAULT_HEADER]: 'cut-after=0' }));
    expect(hit.broken).toBeDefined();
    expect(fake.calls()).toBe(2);
    // A new request with a stream fault is forwarded and passed through, unrecorded.
    const stalled = await chat(server, streaming.request, { [FAULT_HEADER]: 'stall-after=1' });
    const reader = stalled.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^data: \{"choices"/);
    await reader.cancel();
    expect(fake.calls()).toBe(3);
    expect(await readFile(file, 'utf8')).toBe(bytes);
    expect(await listFiles(ws.dir)).toHaveLength(1);
  });

  it('live mode: faults apply to the passed-through answer', async () => {
    const fake = await upstream();
    const server = await ws.start({ mode: 'live', upstream: fake.url });
    expect((await chat(server, usage.request, { [FAULT_HEADER]: 'status=500' })).status).toBe(500);
    expect(fake.calls()).toBe(0);
    const malformed = await outcome(await chat(server, streaming.request, { [FAULT_HEADER]: 'malformed-at=2;cut-after=2' }));
    expect(malformed.broken).toBeDefined();
    const data = malformed.text.split('\n\n').filter(Boolean).map((event) => event.replace(/^data: /, ''));
    expect(data).toHaveLength(2);
    expect(JSON.parse(data[0]!)).toMatchObject({ object: 'chat.completion.chunk' });
    expect(() => JSON.parse(data[1]!)).toThrow();
    expect(fake.calls()).toBe(1);
    expect((await chat(server, usage.request)).status).toBe(200);
    expect(await listFiles(ws.dir)).toEqual([]);
  });
});

describe('where faults come from', () => {
  it('per test id through the admin API: the n-th occurrence fails, other tests are untouched, the listing shows it', async () => {
    const server = await ws.start({ mode: 'replay' });
    const id = 'suite.test.ts::poll';
    const set = await admin(server, 'PUT', '', { test_id: id, faults: ['status=429;on=2', 'status=500;on=4'] });
    expect(set).toEqual({ status: 200, body: { test_id: id, faults: ['status=429;on=2', 'status=500;on=4'] } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await chat(server, usage.request, { 'x-test-id': id })).status);
    // 404: no recording in this empty directory; the faults are answered all the same.
    expect(statuses).toEqual([404, 429, 404, 500, 404]);
    expect((await chat(server, usage.request, { 'x-test-id': 'suite.test.ts::other' })).status).toBe(404);
    const listing = await admin(server, 'GET');
    expect(listing.body.in_force).toEqual({ server: [], runs: {}, tests: { [id]: ['status=429;on=2', 'status=500;on=4'] } });
    expect(listing.body.injected.total).toBe(2);
    expect(listing.body.injected.tests[id].recent.map((r: { occurrence: number; fault: string }) => [r.occurrence, r.fault])).toEqual([
      [2, 'status=429;on=2'],
      [4, 'status=500;on=4'],
    ]);
    // The count is the test's, not the rules': setting rules again goes on counting; a reset (a test's start) starts it again.
    await admin(server, 'PUT', '', { test_id: id, faults: 'status=429;on=1' });
    expect((await chat(server, usage.request, { 'x-test-id': id })).status).toBe(404);
    await resetOccurrences(server, { test_id: id });
    expect((await chat(server, usage.request, { 'x-test-id': id })).status).toBe(429);
    expect(await admin(server, 'DELETE', `?test_id=${encodeURIComponent(id)}`)).toEqual({ status: 200, body: { cleared: { test_id: id } } });
    expect((await chat(server, usage.request, { 'x-test-id': id })).status).toBe(404);
    expect((await admin(server, 'GET', `?test_id=${encodeURIComponent(id)}`)).body).toMatchObject({ test_id: id, in_force: [], injected: { count: 3 } });
  });

  it("on=n counts the test's requests as the recordings' occurrences do: faulted or not, and from the test's reset", async () => {
    const fake = await upstream();
    const server = await ws.start({ mode: 'record-if-missing', upstream: fake.url });
    const id = 'suite.test.ts::pairs';
    // The first send, unfaulted, records occurrence 1; the second send is the one on=2 names.
    expect((await chat(server, usage.request, { 'x-test-id': id })).status).toBe(200);
    expect((await chat(server, usage.request, { 'x-test-id': id, [FAULT_HEADER]: 'status=500;on=2' })).status).toBe(500);
    // The retry (the third send) is not faulted and takes occurrence 2: the faulted one used none up.
    expect((await chat(server, usage.request, { 'x-test-id': id, [FAULT_HEADER]: 'status=500;on=2' })).status).toBe(200);
    expect(await recordingsIn(ws.dir)).toHaveLength(2);
    // Server-wide rules count the same way and start again with the test (a retried or re-run test fails again).
    await admin(server, 'PUT', '', { faults: 'status=503;on=1' });
    await resetOccurrences(server, { test_id: id });
    expect((await chat(server, usage.request, { 'x-test-id': id })).status).toBe(503);
    expect((await chat(server, usage.request, { 'x-test-id': id })).status).toBe(200);
    await resetOccurrences(server, { test_id: id });
    expect((await chat(server, usage.request, { 'x-test-id': id })).status).toBe(503);
    expect(fake.calls()).toBe(2);
  });

  it('a poll recorded as answers 1, 2, 3 and replayed with on=2 answers 1, a fault, 2, 3', async () => {
    const fake = await ws.upstream(counterUpstream());
    const id = 'suite.test.ts::poll';
    const recorder = await ws.start({ mode: 'record', upstream: fake.url });
    for (let i = 0; i < 3; i++) expect((await chat(recorder, usage.request, { 'x-test-id': id })).status).toBe(200);
    await recorder.close();
    const server = await ws.start({ mode: 'replay' });
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await chat(server, usage.request, { 'x-test-id': id, [FAULT_HEADER]: 'status=503;on=2' });
      answers.push(response.status === 200 ? (await json(response)).choices[0].message.content : String(response.status));
    }
    expect(answers).toEqual([answerText(1), '503', answerText(2), answerText(3)]);
  });

  it("a test's rules in one run leave the same test in another run alone; the listing for a test shows what applies to it", async () => {
    const server = await ws.start({ mode: 'replay', faults: 'status=500;on=9' });
    const id = 'suite.test.ts::shared';
    await admin(server, 'PUT', '', { test_id: id, run: 'ci-a', faults: 'status=429' });
    expect((await chat(server, usage.request, { 'x-test-id': id, 'x-llm-replay-run': 'ci-a' })).status).toBe(429);
    expect((await chat(server, usage.request, { 'x-test-id': id, 'x-llm-replay-run': 'ci-b' })).status).toBe(404);
    expect((await admin(server, 'GET', `?test_id=${encodeURIComponent(id)}&run=ci-a`)).body).toMatchObject({ test_id: id, run: 'ci-a', in_force: ['status=429'], from: 'test' });
    expect((await admin(server, 'GET', `?test_id=${encodeURIComponent(id)}&run=ci-b`)).body).toMatchObject({ in_force: ['status=500;on=9'], from: 'server' });
    expect((await admin(server, 'GET')).body.in_force.tests).toEqual({ [`${id} in run ci-a`]: ['status=429'] });
    // Clearing the other run's rules leaves these in force.
    await admin(server, 'DELETE', `?test_id=${encodeURIComponent(id)}&run=ci-b`);
    expect((await chat(server, usage.request, { 'x-test-id': id, 'x-llm-replay-run': 'ci-a' })).status).toBe(429);
    await admin(server, 'DELETE', `?test_id=${encodeURIComponent(id)}&run=ci-a`);
    expect((await chat(server, usage.request, { 'x-test-id': id, 'x-llm-replay-run': 'ci-a' })).status).toBe(404);
  });

  it('the header wins over test rules, test rules over run rules, run rules over the server-wide ones', async () => {
    const server = await ws.start({ mode: 'replay', faults: 'status=500' });
    await admin(server, 'PUT', '', { run: 'ci-1', faults: 'status=502' });
    await admin(server, 'PUT', '', { test_id: 't::a', faults: 'status=503' });
    expect((await chat(server, usage.request)).status).toBe(500);
    expect((await chat(server, usage.request, { 'x-llm-replay-run': 'ci-1' })).status).toBe(502);
    expect((await chat(server, usage.request, { 'x-llm-replay-run': 'ci-1', 'x-test-id': 't::a' })).status).toBe(503);
    expect((await chat(server, usage.request, { 'x-test-id': 't::a', [FAULT_HEADER]: 'status=504' })).status).toBe(504);
    // A test whose own rules skip this occurrence gets no server-wide fault either.
    await admin(server, 'PUT', '', { test_id: 't::b', faults: 'status=429;on=2' });
    expect((await chat(server, usage.request, { 'x-test-id': 't::b' })).status).toBe(404);
    expect(await admin(server, 'DELETE')).toEqual({ status: 200, body: { cleared: { server: 'all requests' } } });
    expect((await chat(server, usage.request, { 'x-llm-replay-run': 'ci-1', 'x-test-id': 't::a' })).status).toBe(404);
  });

  it('a stream fault in replay needs the recording; its miss says how to get one', async () => {
    const server = await ws.start({ mode: 'replay' });
    const miss = await chat(server, streaming.request, { [FAULT_HEADER]: 'cut-after=3' });
    expect(miss.status).toBe(404);
    expect((await json(miss)).error.message).toContain('The fault cut-after=3 is applied to a recorded answer, and a faulted exchange is never recorded: record this request once without the fault.');
    expect(server.usage.totals()).toMatchObject({ misses: 1, faults: 0 });
  });

  it('a config file holds a list of rules', async () => {
    const file = path.join(ws.dir, 'llm-replay.config.json');
    await writeFile(file, JSON.stringify({ faults: ['status=500;on=1', 'status=503;on=2'] }));
    const server = await ws.start({ mode: 'replay', ...readConfigFile(file, true) });
    expect([(await chat(server, usage.request)).status, (await chat(server, usage.request)).status]).toEqual([500, 503]);
    await writeFile(file, JSON.stringify({ faults: { status: 500 } }));
    expect(() => readConfigFile(file, true)).toThrow(/faults: expected a fault rule such as "status=503;rate=0.1;seed=7", or a list of them/);
  });

  it('model and path limit a rule to some requests', async () => {
    const server = await ws.start({ mode: 'replay', faults: ['status=503;model=openai/gpt-5.1-chat', 'status=529;path=/anthropic'] });
    expect((await chat(server, usage.request)).status).toBe(503);
    expect((await chat(server, { ...usage.request, model: 'openai/gpt-5.5' })).status).toBe(404);
    const messages = await fetch(`${server.url}/anthropic/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "claude"}' });
    expect(messages.status).toBe(529);
    expect((await json(messages)).error.type).toBe('overloaded_error');
  });

  it('bad rules get a clear 400 naming the part, from the header and the admin API; a bad option stops the start', async () => {
    const server = await ws.start({ mode: 'replay' });
    const header = await chat(server, usage.request, { [FAULT_HEADER]: 'status=429;cut-after=often' });
    expect(header.status).toBe(400);
    expect((await json(header)).error).toMatchObject({ code: 'llm_replay_bad_fault', param: FAULT_HEADER, message: expect.stringContaining('"cut-after=often": expected a number of events') });
    const put = await admin(server, 'PUT', '', { test_id: 't', faults: 'stauts=429' });
    expect(put.status).toBe(400);
    expect(put.body.error.message).toContain('"stauts=429": unknown fault part');
    expect((await admin(server, 'PUT', '', { test_id: 't', run: 7, faults: 'reset' })).body.error.message).toContain('run: must be a non-empty string');
    expect((await admin(server, 'PUT', '', { test_id: 't' })).body.error.message).toContain('send {"faults"');
    expect((await admin(server, 'GET')).body.in_force.tests).toEqual({});
    await expect(startServer({ mode: 'replay', recordings: ws.dir, faults: 'rate=2;status=500' })).rejects.toThrow(/^faults: expected a fault rule such as .*, got "rate=2;status=500" \("rate=2": expected a fraction from 0 to 1/);
  });
});

describe('counted apart', () => {
  it('the stats and the usage file count injected faults apart from hits and misses', async () => {
    const server = await ws.start({ mode: 'replay', usageDir: path.join(ws.dir, 'usage') });
    await chat(server, usage.request, { [FAULT_HEADER]: 'status=429' });
    await chat(server, usage.request);
    const stats = await json(await fetch(`${server.url}/_llm-replay/stats`));
    expect(stats.totals).toEqual({ hits: 0, misses: 1, recorded: 0, forwarded: 0, faults: 1, repeated: 0 });
    await server.close();
    const [file] = await listFiles(path.join(ws.dir, 'usage'));
    expect(JSON.parse(await readFile(path.join(ws.dir, 'usage', file!), 'utf8'))).toMatchObject({ injected_faults: 1, hits: [] });
  });
});
