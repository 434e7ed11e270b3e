// The failure policy of the record modes: answers the official SDKs retry (408, 409,
// 429, 5xx) reach the client and are not written, so a transient failure is never
// frozen into a recording; deterministic errors are written; what is written keeps
// retry-after and x-ratelimit-*. Through the openai SDK's own retries, against an
// upstream whose answer changes on every call.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import OpenAI from 'openai';
import { answerText, counterUpstream, type CounterUpstream } from './support/counter-upstream.js';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { capturedLog, json, listFiles, recordingsIn, workspace } from './support/harness.js';
import type { RunningServer } from '../src/index.js';
import { notWritten } from '../src/proxy/failure-policy.js';

const ws = workspace();
/** How long a request may take to reach its place among those waiting: bounded, so a request that never does fails the test. */
const WAITING = { timeout: 10_000, interval: 5 };
const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Summarise the report.' }] };
const limited = { status: 429, headers: { 'retry-after-ms': '1', 'x-ratelimit-remaining-requests': '0' } };

function client(server: RunningServer, options: { maxRetries?: number; run?: string } = {}): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: options.maxRetries ?? 0, defaultHeaders: { 'x-test-id': 'report', ...(options.run ? { 'x-llm-replay-run': options.run } : {}) } });
}

async function ask(openai: OpenAI): Promise<string> {
  return (await openai.chat.completions.create(question)).choices[0]?.message.content ?? '';
}

/** Answers with the status its model names ("status-401"), as an API refusing a key does. */
function refusingUpstream(): FakeUpstream {
  return new FakeUpstream().on('POST', '/v1/chat/completions', (request, res) => {
    const status = Number((JSON.parse(request.body) as { model: string }).model.slice('status-'.length));
    sendJson(res, status, { error: { message: 'Incorrect API key provided: llm-replay.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
  });
}

async function counter(): Promise<CounterUpstream> {
  const upstream = await counterUpstream().start();
  ws.cleanup.push(() => upstream.stop());
  return upstream;
}

describe('failures in record modes', () => {
  it('a 429 then a 200 through the SDK retries in record-if-missing: only the 200 is written, and the next replay run succeeds at once', async () => {
    const upstream = await counter();
    upstream.failNext(limited);
    const recorder = await ws.start({ mode: 'record-if-missing', upstream: upstream.url });
    expect(await ask(client(recorder, { maxRetries: 2 }))).toBe(answerText(2));
    expect(upstream.count).toBe(2);
    const files = await recordingsIn(ws.dir);
    expect(files.map((f) => [f.file.slice(64), f.data.response.status])).toEqual([['.json', 200]]);
    await recorder.close();
    await upstream.stop();
    // No retries allowed: the first answer must be the recorded success.
    expect(await ask(client(await ws.start({ mode: 'replay' })))).toBe(answerText(2));
  });

  it('408, 409, 429, 5xx, 401 and 403 reach the client and are not written; 400, 404 and 422 are written', async () => {
    const upstream = new FakeUpstream().on('POST', '/v1/chat/completions', (request, res) => {
      const { status, shouldRetry } = JSON.parse(request.body) as { status: number; shouldRetry?: string };
      const headers = { 'retry-after': '7', 'x-ratelimit-limit-requests': '500', ...(shouldRetry ? { 'x-should-retry': shouldRetry } : {}) };
      sendJson(res, status, { error: { message: `status ${status}`, type: 'test', param: null, code: null } }, headers);
    });
    await upstream.start();
    ws.cleanup.push(() => upstream.stop());
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    const statuses = [408, 409, 429, 500, 502, 503, 529, 400, 401, 403, 404, 422];
    for (const status of statuses) {
      const response = await fetch(`${recorder.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status }) });
      expect(response.status).toBe(status);
      expect(response.headers.get('retry-after')).toBe('7');
      expect((await json(response)).error.message).toBe(`status ${status}`);
    }
    // The SDKs obey x-should-retry over the status, and so does what is written.
    for (const [status, shouldRetry] of [[503, 'false'], [400, 'true']] as const) {
      const response = await fetch(`${recorder.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status, shouldRetry }) });
      expect(response.status).toBe(status);
    }
    const written = (await recordingsIn(ws.dir)).map((f) => f.data.response);
    expect(written.map((r) => r.status).sort()).toEqual([400, 404, 422, 503]);
    // What is written keeps what a client acts on, x-should-retry included (the 503 written because it said false).
    for (const response of written) expect(response.headers).toEqual({ 'content-type': 'application/json', 'retry-after': '7', 'x-ratelimit-limit-requests': '500', ...(response.status === 503 ? { 'x-should-retry': 'false' } : {}) });
  });

  it('with recordRetryable the 429 is written too, with its retry-after, and replay gives it back before the 200', async () => {
    const upstream = await counter();
    upstream.failNext(limited);
    const recorder = await ws.start({ mode: 'record-if-missing', upstream: upstream.url, recordRetryable: true });
    expect(await ask(client(recorder, { maxRetries: 2 }))).toBe(answerText(2));
    const files = await recordingsIn(ws.dir);
    expect(files.map((f) => [f.file.slice(64), f.data.response.status])).toEqual([['.2.json', 200], ['.json', 429]]);
    expect(files[1]!.data.response.headers).toEqual({ 'content-type': 'application/json', 'retry-after-ms': '1', 'x-ratelimit-remaining-requests': '0' });
    await recorder.close();
    await upstream.stop();
    const replayer = await ws.start({ mode: 'replay' });
    const raw = await fetch(`${replayer.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'report', 'x-llm-replay-run': 'raw' }, body: JSON.stringify(question) });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after-ms')).toBe('1');
    expect(await ask(client(replayer, { maxRetries: 2 }))).toBe(answerText(2));
  });

  it('a 429 marked x-should-retry: false is written with that header, so that replay is not retried either', async () => {
    const upstream = new FakeUpstream().on('POST', '/v1/chat/completions', (_request, res) =>
      sendJson(res, 429, { error: { message: 'Quota exceeded for the month.', type: 'insufficient_quota', code: 'insufficient_quota' } }, { 'x-should-retry': 'false', 'retry-after': '0' }),
    );
    await upstream.start();
    ws.cleanup.push(() => upstream.stop());
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    await expect(ask(client(recorder, { maxRetries: 2 }))).rejects.toMatchObject({ status: 429 });
    expect(upstream.calls()).toBe(1);
    const [file] = await recordingsIn(ws.dir);
    expect(file?.data.response.headers).toMatchObject({ 'x-should-retry': 'false', 'retry-after': '0' });
    await recorder.close();
    const replayer = await ws.start({ mode: 'replay' });
    await expect(ask(client(replayer, { maxRetries: 2 }))).rejects.toMatchObject({ status: 429 });
    // One request: the SDK did not retry the replayed 429, as it did not retry the recorded one.
    expect(replayer.app.journal.entries().map((entry) => entry.kind)).toEqual(['hit']);
  });

  it('a refused key is said once per API, each naming its own key: OpenAI\'s, then Anthropic\'s through a route', async () => {
    const upstream = await ws.upstream(new FakeUpstream().on('POST', /.*/, (_request, res) => sendJson(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } })));
    const logs = capturedLog();
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url, routes: { '/anthropic': upstream.url }, logLevel: 'warn', logStream: logs.stream });
    const post = (path: string) => fetch(`${recorder.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m","messages":[]}' });
    for (const path of ['/v1/chat/completions', '/anthropic/v1/messages', '/v1/chat/completions', '/anthropic/v1/messages']) expect((await post(path)).status).toBe(401);
    await logs.settled();
    const said = logs.text().split('\n').filter((line) => line.includes('refused the key'));
    expect(said.map((line) => /set (\w+)/.exec(line)?.[1])).toEqual(['OPENAI_API_KEY', 'ANTHROPIC_API_KEY']);
  });

  it('a state folder that cannot be written is said at start, once, with what it costs; recording goes on', async () => {
    const upstream = await ws.upstream(counterUpstream());
    const blocker = path.join(ws.dir, '..', `${path.basename(ws.dir)}-state-file`);
    await writeFile(blocker, 'a file where the state folder would go');
    ws.cleanup.push(() => rm(blocker, { force: true }));
    const logs = capturedLog();
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url, stateDir: path.join(blocker, 'state'), logLevel: 'warn', logStream: logs.stream });
    await client(recorder).chat.completions.create(question);
    await logs.settled();
    const said = logs.text().split('\n').filter((line) => line.includes('state folder'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(`the state folder ${path.join(blocker, 'state')} cannot be written (ENOTDIR): the ids this run mints will not outlive a restart`);
    // The id journal's own failure, the same cause, is not said again at warn.
    expect(logs.text().split('\n').filter((line) => line.includes('id journal'))).toEqual([]);
    expect(await listFiles(ws.dir)).toHaveLength(1);
  });

  it("a refused key names the key of the API the client called: Anthropic's through a route to any host, none for Ollama", () => {
    const refused = (path: string) => notWritten({ status: 401, headers: {} }, {}, path)?.reason;
    expect(refused('/anthropic/v1/messages')).toContain('set ANTHROPIC_API_KEY (or your provider');
    expect(refused('/v1/chat/completions')).toContain('set OPENAI_API_KEY (or your provider');
    expect(refused('/v1beta/models/gemini-2.5-flash:generateContent')).toContain('set GEMINI_API_KEY (or your provider');
    expect(refused('/ollama/api/chat')).toContain("set your provider's key or --upstream");
  });

  it('a refused key (401, 403) reaches the SDK and is not written; the log says why once, in plain words', async () => {
    const upstream = refusingUpstream();
    await upstream.start();
    ws.cleanup.push(() => upstream.stop());
    const logs = capturedLog();
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url, logLevel: 'warn', logStream: logs.stream });
    for (const status of [401, 401, 403]) {
      const error = await client(recorder).chat.completions.create({ ...question, model: `status-${status}` }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(status === 401 ? OpenAI.AuthenticationError : OpenAI.PermissionDeniedError);
    }
    expect(await listFiles(ws.dir)).toEqual([]);
    await logs.settled();
    expect(logs.text().match(/the upstream refused the key/g)).toHaveLength(1);
    // One line, saying "not recorded" once: the log's prefix and the policy's reason do not repeat each other.
    const said = logs.text().split('\n').find((line) => line.includes('refused the key'))!;
    expect(said).toContain('not recorded: the upstream refused the key (401); set OPENAI_API_KEY');
    expect(said.match(/not recorded|nothing recorded|not written/g)).toEqual(['not recorded']);
    // The journal names each one's model and reason, for a test runner to report (the pytest plugin's summary).
    const journal = (await json(await fetch(`${recorder.url}/_llm-replay/api/journal`))) as { items: Array<{ kind: string; method: string; path: string; model?: string; message?: string }> };
    expect(journal.items.map(({ kind, method, path, model, message }) => [kind, method, path, model, message?.split(';')[0]])).toEqual(
      [401, 401, 403].map((status) => ['failed', 'POST', '/v1/chat/completions', `status-${status}`, `not recorded: the upstream refused the key (${status})`]),
    );
  });

  it('with recordAuthErrors a 401 is written; replayed, it names its file in the log and in the inspector journal', async () => {
    const upstream = refusingUpstream();
    await upstream.start();
    ws.cleanup.push(() => upstream.stop());
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url, recordAuthErrors: true });
    const asked = { ...question, model: 'status-401' };
    await expect(client(recorder).chat.completions.create(asked)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const [file] = await listFiles(ws.dir);
    expect(file).toMatch(/^[0-9a-f]{64}\.json$/);
    await recorder.close();
    await upstream.stop();
    const logs = capturedLog();
    const replayer = await ws.start({ mode: 'replay', logLevel: 'warn', logStream: logs.stream });
    await expect(client(replayer).chat.completions.create(asked)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await logs.settled();
    expect(logs.text()).toContain(`replayed the recorded 401 from ${file}`);
    const journal = (await json(await fetch(`${replayer.url}/_llm-replay/api/journal`))) as { items: Array<{ kind: string; status: number; message?: string }> };
    expect(journal.items.map((item) => [item.kind, item.status, item.message])).toEqual([['hit', 401, `replayed the recorded 401 from ${file} (delete the file to record it again)`]]);
  });

  it("the info line of a recording gives the answer's status, and names a written error in its message", async () => {
    const upstream = await ws.upstream(refusingUpstream());
    const logs = capturedLog();
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url, logLevel: 'info', logStream: logs.stream });
    // A 404 is written as it came; a 200 too.
    await expect(client(recorder).chat.completions.create({ ...question, model: 'status-404' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await client(recorder).chat.completions.create({ ...question, model: 'status-200' });
    await logs.settled();
    const recorded = logs.text().split('\n').filter((line) => line.includes('llm-replay: recorded')).map((line) => JSON.parse(line) as { msg: string; status: number; file: string });
    expect(recorded.map(({ msg, status }) => [msg, status])).toEqual([['llm-replay: recorded a 404 answer', 404], ['llm-replay: recorded', 200]]);
    expect(recorded.map(({ file }) => file).sort()).toEqual(await listFiles(ws.dir));
  });

  it('a first call that fails never turns the requests waiting on it into one paid call each', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const upstream = new FakeUpstream().on('POST', '/v1/chat/completions', async (_request, res) => {
      calls++;
      await gate;
      sendJson(res, 429, { error: { message: 'slow down', type: 'rate_limit_exceeded', param: null, code: null } }, { 'retry-after': '3' });
    });
    await upstream.start();
    ws.cleanup.push(() => upstream.stop());
    const server = await ws.start({ mode: 'record-if-missing', upstream: upstream.url });
    // Eight runs sharing the server need the same occurrence at once: one is sent, seven wait on it.
    const answers = Array.from({ length: 8 }, (_, i) =>
      fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'report', 'x-llm-replay-run': `run-${i}` }, body: JSON.stringify(question) }),
    );
    // Each request counts its occurrence the moment it starts waiting.
    await vi.waitFor(() => expect(server.app.occurrences.size).toBeGreaterThanOrEqual(8), WAITING);
    release();
    const responses = await Promise.all(answers);
    expect(calls).toBe(1);
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(429));
    expect(responses.map((r) => r.headers.get('retry-after'))).toEqual(Array(8).fill('3'));
    expect(await listFiles(ws.dir)).toEqual([]);
  });
  it("the requests waiting on an answer that is not written get it without the first request's credentials", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const upstream = new FakeUpstream().on('POST', '/v1/chat/completions', async (request, res) => {
      await gate;
      sendJson(res, 429, { error: { message: `rate limit for key ${String(request.headers['authorization']).slice(7)}`, type: 'rate_limit_exceeded', param: null, code: null } });
    });
    await upstream.start();
    ws.cleanup.push(() => upstream.stop());
    const server = await ws.start({ mode: 'record-if-missing', upstream: upstream.url });
    const ask = (run: string, key: string) => fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-test-id': 'report', 'x-llm-replay-run': run }, body: JSON.stringify(question) });
    const first = ask('first', 'sk-proj-FirstClientKey0123456789abc');
    await vi.waitFor(() => expect(server.app.occurrences.size).toBeGreaterThanOrEqual(1), WAITING);
    const second = ask('second', 'sk-proj-SecondClientKey0123456789ab');
    await vi.waitFor(() => expect(server.app.occurrences.size).toBeGreaterThanOrEqual(2), WAITING);
    release();
    const [own, waited] = await Promise.all([first, second]);
    // The first client gets its answer as the upstream sent it; the one that waited, without the other's key.
    expect(await own.text()).toContain('sk-proj-FirstClientKey0123456789abc');
    expect(waited.status).toBe(429);
    const text = await waited.text();
    expect(text).not.toContain('FirstClientKey');
    expect(text).toContain('rate limit for key [redacted]');
  });
});
