// Injected faults as the official SDKs meet them: each fault is applied on top of a
// replayed recording (the fake upstream is stopped before replay), and the tests
// check what the client raised and what the proxy saw.
import Anthropic from '@anthropic-ai/sdk';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/index.js';
import { FAULT_HEADER } from '../src/request/control-headers.js';
import { fakeAnthropic, fakeOllama } from './support/providers.js';
import { chatParams, fakeOpenAi, seed, seedText, streamParams } from './support/seeds.js';
import { json, serve, workspace } from './support/harness.js';
import type { FakeUpstream } from './support/fake-upstream.js';

const ws = workspace();
const usage = seed('gpt-5.1-chat', 'Usage');
const streaming = seed('gpt-5.1-chat', 'Streaming Response');
const TEST_ID = 'fault-injection.test.ts::sdk';

/** Records what `calls` send through a record-mode server on the fake, stops both, and replays. */
async function replaying(fake: FakeUpstream, calls: (server: RunningServer) => Promise<unknown>, routes?: Record<string, string>): Promise<RunningServer> {
  await fake.start();
  const recorder = await serve({ mode: 'record', recordings: ws.dir, upstream: fake.url, ...(routes ? { routes: Object.fromEntries(Object.keys(routes).map((prefix) => [prefix, fake.url])) } : {}) });
  await calls(recorder);
  await recorder.close();
  await fake.stop();
  return ws.start({ mode: 'replay', ...(routes ? { routes } : {}) });
}

function openaiClient(server: RunningServer, options: { fault?: string; maxRetries?: number; timeout?: number; agent?: Agent } = {}): OpenAI {
  return new OpenAI({
    baseURL: `${server.url}/v1`,
    apiKey: 'sk-test-not-a-real-key',
    maxRetries: options.maxRetries ?? 0,
    ...(options.timeout ? { timeout: options.timeout } : {}),
    defaultHeaders: { 'X-Test-Id': TEST_ID, ...(options.fault ? { [FAULT_HEADER]: options.fault } : {}) },
    // undici's own Agent, typed apart from the undici-types of Node's fetch: one dispatcher all the same.
    ...(options.agent ? { fetchOptions: { dispatcher: options.agent } as unknown as NonNullable<ConstructorParameters<typeof OpenAI>[0]>['fetchOptions'] } : {}),
  });
}

interface InjectedView {
  count: number;
  recent: Array<{ at: string; occurrence: number; fault: string; source: string }>;
}

async function injected(server: RunningServer, testId = TEST_ID): Promise<InjectedView> {
  return (await json(await fetch(`${server.url}/_llm-replay/faults?test_id=${encodeURIComponent(testId)}`))).injected;
}

async function recordChat(server: RunningServer): Promise<void> {
  await openaiClient(server).chat.completions.create(chatParams(usage));
}

async function recordStream(server: RunningServer): Promise<void> {
  for await (const _chunk of await openaiClient(server).chat.completions.create(streamParams(streaming))) void _chunk;
}

/** Reads a stream until it fails; returns the chunks seen and the error. */
async function readUntilError<T>(stream: AsyncIterable<T>): Promise<{ chunks: T[]; error: unknown }> {
  const chunks: T[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch (error) {
    return { chunks, error };
  }
  return { chunks, error: undefined };
}

describe('HTTP errors in the provider dialect', () => {
  it('openai retries a 429, honours its retry-after, then gets the recorded answer', async () => {
    const server = await replaying(fakeOpenAi(), recordChat);
    const client = openaiClient(server, { fault: 'status=429;retry-after=1;on=1-2', maxRetries: 2 });
    const answer = await client.chat.completions.create(chatParams(usage));
    expect(answer.choices[0]?.message.content).toBe(seedText(usage));
    // Occurrences 1 and 2 were refused; the SDK's third attempt was answered from the recording.
    const { recent } = await injected(server);
    expect(recent.map((r) => [r.occurrence, r.fault])).toEqual([
      [1, 'status=429;retry-after=1;on=1-2'],
      [2, 'status=429;retry-after=1;on=1-2'],
    ]);
    expect(server.usage.totals()).toMatchObject({ hits: 1, faults: 2, misses: 0 });
    // The retry came no sooner than retry-after asked (the SDK's own first backoff is at most 0.5 s).
    expect(Date.parse(recent[1]!.at) - Date.parse(recent[0]!.at)).toBeGreaterThanOrEqual(990);
  });

  it('openai raises RateLimitError with the rate-limit headers once its retries are spent', async () => {
    const server = await replaying(fakeOpenAi(), recordChat);
    const error = await openaiClient(server, { fault: 'status=429;retry-after=0', maxRetries: 1 })
      .chat.completions.create(chatParams(usage))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const limited = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(limited.code).toBe('rate_limit_exceeded');
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(limited.requestID).toMatch(/^req_/);
    expect((await injected(server)).count).toBe(2);
  });

  it('openai sees 500 and 503 as InternalServerError', async () => {
    const server = await replaying(fakeOpenAi(), recordChat);
    for (const status of [500, 503]) {
      const error = await openaiClient(server, { fault: `status=${status}` }).chat.completions.create(chatParams(usage)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
      expect((error as InstanceType<typeof OpenAI.APIError>).type).toBe('server_error');
    }
  });

  it('@anthropic-ai/sdk retries a 529 and then raises its OverloadedError', async () => {
    const fake = fakeAnthropic();
    const params = { model: 'claude-opus-4-7', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Which planet has rings?' }] };
    const client = (server: RunningServer, maxRetries = 0) =>
      new Anthropic({ baseURL: `${server.url}/anthropic`, apiKey: 'sk-ant-api03-test-key-0000000000', maxRetries, defaultHeaders: { 'X-Test-Id': TEST_ID } });
    const server = await replaying(fake, (recorder) => client(recorder).messages.create(params), { '/anthropic': 'http://127.0.0.1:9' });
    const put = await fetch(`${server.url}/_llm-replay/faults`, { method: 'PUT', body: JSON.stringify({ test_id: TEST_ID, faults: 'status=529' }) });
    expect(await json(put)).toEqual({ test_id: TEST_ID, faults: ['status=529'] });
    const error = await client(server, 1).messages.create(params).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.OverloadedError);
    const overloaded = error as InstanceType<typeof Anthropic.OverloadedError>;
    expect(overloaded.status).toBe(529);
    expect(overloaded.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(overloaded.requestID).toMatch(/^req_011/);
    expect((await injected(server)).recent.map((r) => r.source)).toEqual(['test', 'test']);
    // Cleared, the recording answers again.
    await fetch(`${server.url}/_llm-replay/faults?test_id=${encodeURIComponent(TEST_ID)}`, { method: 'DELETE' });
    expect((await client(server).messages.create(params)).content[0]).toMatchObject({ type: 'text' });
  });

  it('ollama raises ResponseError with the message of its error JSON', async () => {
    const fake = fakeOllama();
    const params = { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'Which planet has rings?' }], stream: false as const };
    const client = (server: RunningServer, fault?: string) => new Ollama({ host: `${server.url}/ollama`, headers: { 'X-Test-Id': TEST_ID, ...(fault ? { [FAULT_HEADER]: fault } : {}) } });
    const server = await replaying(fake, (recorder) => client(recorder).chat(params), { '/ollama': 'http://127.0.0.1:9' });
    const error = await client(server, 'status=503').chat(params).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'ResponseError', status_code: 503 });
    expect((error as Error).message).toMatch(/^server busy, please try again\. {2}maximum pending requests exceeded/);
    // The ollama client does not retry.
    expect((await injected(server)).count).toBe(1);
  });

  it("Gemini's endpoints answer a google.rpc RESOURCE_EXHAUSTED", async () => {
    const server = await ws.start({ mode: 'replay' });
    const response = await fetch(`${server.url}/v1beta/models/gemini-2.0-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [FAULT_HEADER]: 'status=429' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    });
    expect(response.status).toBe(429);
    const body = await json(response);
    expect(body.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    expect(body.error.details.at(-1)).toEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' });
  });
});

describe('broken connections and streams', () => {
  it('a reset before any answer: openai retries it as a connection error, then raises APIConnectionError', async () => {
    const server = await replaying(fakeOpenAi(), recordChat);
    const error = await openaiClient(server, { fault: 'reset', maxRetries: 1 }).chat.completions.create(chatParams(usage)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect((await injected(server)).count).toBe(2);
  });

  it('a stream cut after 3 events: the SDK yields 3 chunks, then raises a connection error', async () => {
    const server = await replaying(fakeOpenAi(), recordStream);
    const stream = await openaiClient(server, { fault: 'cut-after=3' }).chat.completions.create(streamParams(streaming));
    const { chunks, error } = await readUntilError(stream);
    expect(chunks).toHaveLength(3);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content).join('')).toBe(((streaming.response as Array<{ choices: Array<{ delta: { content?: string } }> }>).slice(0, 3).map((c) => c.choices[0]?.delta.content ?? '')).join(''));
    // openai passes the stream's connection error on as fetch raised it: undici's "terminated", caused by the closed socket.
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('terminated');
    expect(String((error as Error).cause)).toContain('other side closed');
  });

  it('@anthropic-ai/sdk: a stream cut after 3 events sends 3 wire events (the SDK yields 2: it drops the ping), then the connection error', async () => {
    const params = { model: 'claude-opus-4-7', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Which planet has rings?' }] };
    const client = (server: RunningServer, fault?: string) =>
      new Anthropic({ baseURL: `${server.url}/anthropic`, apiKey: 'sk-ant-api03-test-key-0000000000', maxRetries: 0, defaultHeaders: { 'X-Test-Id': TEST_ID, ...(fault ? { [FAULT_HEADER]: fault } : {}) } });
    const server = await replaying(fakeAnthropic(), (recorder) => client(recorder).messages.create({ ...params, stream: true }).then(async (stream) => {
      for await (const _event of stream) void _event;
    }), { '/anthropic': 'http://127.0.0.1:9' });
    const { chunks, error } = await readUntilError(await client(server, 'cut-after=3').messages.create({ ...params, stream: true }));
    // Three wire events: message_start, content_block_start and a ping, which the SDK does not yield.
    expect(chunks.map((event) => event.type)).toEqual(['message_start', 'content_block_start']);
    expect((error as Error).message).toBe('terminated');
    expect(String((error as Error).cause)).toContain('other side closed');
    const malformed = await readUntilError(await client(server, 'malformed-at=4').messages.create({ ...params, stream: true }));
    expect(malformed.chunks).toHaveLength(2);
    expect(malformed.error).toBeInstanceOf(Error);
    expect((malformed.error as Error).message).toMatch(/JSON/);
  });

  it('a malformed event: the SDK raises its JSON parse error at that event', async () => {
    const server = await replaying(fakeOpenAi(), recordStream);
    const stream = await openaiClient(server, { fault: 'malformed-at=2' }).chat.completions.create(streamParams(streaming));
    const { chunks, error } = await readUntilError(stream);
    expect(chunks).toHaveLength(1);
    expect(error).toBeInstanceOf(SyntaxError);
  });

  it('a stall: two chunks, then silence until the client gives up; the server closes at once all the same', async () => {
    const server = await replaying(fakeOpenAi(), recordStream);
    // openai's timeout covers the wait for the head only; a body timeout on its dispatcher covers a stalled stream.
    const stream = await openaiClient(server, { fault: 'stall-after=2', agent: new Agent({ bodyTimeout: 300 }) }).chat.completions.create(streamParams(streaming));
    const { chunks, error } = await readUntilError(stream);
    expect(chunks).toHaveLength(2);
    expect((error as Error).message).toBe('terminated');
    expect((error as Error).cause).toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
    // An AbortSignal timeout stops it too, but openai then ends the stream quietly, as if it were complete.
    const agent = new Agent();
    const aborted = await openaiClient(server, { fault: 'stall-after=2', agent }).chat.completions.create(streamParams(streaming), { signal: AbortSignal.timeout(500) });
    const quiet = await readUntilError(aborted);
    expect(quiet).toMatchObject({ error: undefined });
    expect(quiet.chunks).toHaveLength(2);
    await agent.destroy();
    // A stalled answer does not hold a shutdown.
    const held = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': TEST_ID, [FAULT_HEADER]: 'stall-after=1' }, body: JSON.stringify(streaming.request) });
    expect(held.status).toBe(200);
    await server.close();
  });

  it('latency before the first byte trips the SDK timeout (APIConnectionTimeoutError); event latency keeps the stream whole', async () => {
    const server = await replaying(fakeOpenAi(), async (recorder) => {
      await recordChat(recorder);
      await recordStream(recorder);
    });
    const error = await openaiClient(server, { fault: 'latency=5s', timeout: 200 }).chat.completions.create(chatParams(usage)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    const stream = await openaiClient(server, { fault: 'event-latency=1ms' }).chat.completions.create(streamParams(streaming));
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(seedText(streaming));
  });
});
