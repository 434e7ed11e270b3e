// A stream can fail after its 200 head: Anthropic sends `event: error` with an
// overloaded_error mid-answer, the Responses API a response.failed with server_error,
// Gemini an error object with its HTTP code. Such a failure of the moment reaches the
// client as the API sent it and is not written (a recording would replay it to every
// later run), as a 529 or 500 on the head is not; --record-retryable writes it, and an
// error that says something about the request (invalid_request_error) is written.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { FakeUpstream, sendEvents, sendJson, typedSse } from './support/fake-upstream.js';
import { capturedLog, openai, recordingsIn, workspace } from './support/harness.js';
import { anthropicEvents, geminiChunks } from './support/providers.js';
import { responsesStream } from './support/seeds.js';
import { endingErrorOf, streamErrorOf, tellingError } from '../src/recordings/stream-errors.js';
import { parseKeepingNumbers } from '../src/json/lossless.js';
import { streamNotWritten } from '../src/proxy/failure-policy.js';

const ws = workspace();
const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const overloaded = sse('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
const invalid = sse('error', { type: 'error', error: { type: 'invalid_request_error', message: 'messages: text content blocks must be non-empty' } });

/** An Anthropic upstream whose stream breaks off into `error` after its first events, `failures` times, then answers whole; it ends each response 30 ms after the last event. */
async function failingAnthropic(error: string, failures = Infinity): Promise<{ url: string; calls: () => number }> {
  let calls = 0;
  const upstream = await ws.upstream(
    new FakeUpstream().on('POST', '/v1/messages', (_request, res) => {
      calls++;
      const events = calls <= failures ? [...anthropicEvents().slice(0, 4), error] : anthropicEvents();
      return sendEvents(res, events, { lingerMs: 30 });
    }),
  );
  return { url: upstream.url, calls: () => calls };
}

function anthropic(url: string): Anthropic {
  return new Anthropic({ baseURL: `${url}/anthropic`, apiKey: 'sk-ant-test', maxRetries: 0, defaultHeaders: { 'x-test-id': 'stream-errors' } });
}

/** Streams a message to its end; the error the SDK raised, if it raised one. */
async function streamed(client: Anthropic): Promise<{ text: string; error?: Error }> {
  let text = '';
  try {
    const stream = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Rings?' }], stream: true });
    for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    return { text };
  } catch (error) {
    return { text, error: error as Error };
  }
}

describe('a stream that ends in an error', () => {
  it("Anthropic's overloaded_error mid-stream reaches the SDK as sent and is not written; the log says why (a warning once, then at info); the retry that succeeds is recorded and replays", async () => {
    const upstream = await failingAnthropic(overloaded, 2);
    const log = capturedLog();
    const recorder = await ws.start({ mode: 'record-if-missing', routes: { '/anthropic': upstream.url }, logLevel: 'info', logStream: log.stream });
    for (let attempt = 1; attempt <= 2; attempt++) {
      const { text, error } = await streamed(anthropic(recorder.url));
      expect(text).toBe('Saturn');
      expect(error?.message).toContain('overloaded_error');
      expect(await recordingsIn(ws.dir)).toEqual([]);
    }
    // Not written, so the next identical request is asked upstream again, and its whole answer is what gets recorded.
    expect((await streamed(anthropic(recorder.url))).text).toBe('Saturn is the planet with the most famous rings.');
    expect(upstream.calls()).toBe(3);
    await recorder.close();
    await log.settled();
    // Warned of the first time; the second, at info, is still seen at the CLI's level.
    const said = log.text().split('\n').filter((line) => line.includes('not recorded') && line.includes('overloaded_error'));
    expect(said.map((line) => (JSON.parse(line) as { level: number }).level)).toEqual([40, 30]);
    expect(said[0]).toContain("not recorded: the upstream's stream ended in an error (overloaded_error, which stands for a 529, an answer the SDKs retry): passed on to the client (--record-retryable writes it)");
    // The whole answer is a plain recording: no word of an error when written or replayed.
    expect(log.text()).toContain('"msg":"llm-replay: recorded"');
    const [recording] = await recordingsIn(ws.dir);
    expect(recording?.data.response.body.at(-1)).toEqual({ type: 'message_stop' });
    const replayer = await ws.start({ mode: 'replay', logLevel: 'info', logStream: log.stream });
    const replayed = await streamed(anthropic(replayer.url));
    expect(replayed).toEqual({ text: 'Saturn is the planet with the most famous rings.' });
    await replayer.close();
    await log.settled();
    expect(log.text()).not.toContain('replayed the recorded');
  });

  it('is warned of though a 429 on a head was warned of first (each is said once, apart)', async () => {
    const anthropicUpstream = await failingAnthropic(overloaded);
    const openaiUpstream = await ws.upstream(new FakeUpstream().on('POST', '/v1/chat/completions', (_request, res) => sendJson(res, 429, { error: { message: 'slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } })));
    const log = capturedLog();
    const recorder = await ws.start({ mode: 'record', upstream: openaiUpstream.url, routes: { '/anthropic': anthropicUpstream.url }, logLevel: 'warn', logStream: log.stream });
    await expect(new OpenAI({ baseURL: `${recorder.url}/v1`, apiKey: 'sk-test', maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Rings?' }] })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    expect((await streamed(anthropic(recorder.url))).error?.message).toContain('overloaded_error');
    await recorder.close();
    await log.settled();
    const warned = log.text().split('\n').filter((line) => line.includes('"level":40'));
    expect(warned.filter((line) => line.includes('the upstream answered 429'))).toHaveLength(1);
    expect(warned.filter((line) => line.includes('overloaded_error'))).toHaveLength(1);
  });

  it('with --record-retryable the overloaded stream is written (and said to end in an error), and its replay raises the same error in the SDK, naming the file', async () => {
    const upstream = await failingAnthropic(overloaded);
    const log = capturedLog();
    const recorder = await ws.start({ mode: 'record', routes: { '/anthropic': upstream.url }, recordRetryable: true, logLevel: 'info', logStream: log.stream });
    expect((await streamed(anthropic(recorder.url))).error?.message).toContain('overloaded_error');
    await recorder.close();
    const [recording] = await recordingsIn(ws.dir);
    expect(recording?.data.response.body.at(-1)).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    const replayer = await ws.start({ mode: 'replay', logLevel: 'info', logStream: log.stream });
    const replayed = await streamed(anthropic(replayer.url));
    expect(replayed.text).toBe('Saturn');
    expect(replayed.error?.message).toContain('overloaded_error');
    await replayer.close();
    await log.settled();
    expect(log.text()).toContain('"msg":"llm-replay: recorded a stream that ends in an error (overloaded_error)"');
    expect(log.text()).toContain(`replayed the recorded stream that ends in an error (overloaded_error) from ${recording!.file}`);
  });

  it('of two errors at its end, the one whose status is known counts (a Responses error event without a code, then response.failed with server_error): not written; kept, it is the one named when recorded and replayed', async () => {
    const [created] = responsesStream('Saturn');
    const failed = { type: 'response.failed', sequence_number: 2, response: { ...(created!['response'] as object), status: 'failed', error: { code: 'server_error', message: 'The server had an error' } } };
    const upstream = await ws.upstream(new FakeUpstream().on('POST', '/v1/responses', (_request, res) => sendEvents(res, typedSse([created!, { type: 'error', sequence_number: 1, code: null, message: 'something went wrong', param: null }, failed]), { lingerMs: 30 })));
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    const types: string[] = [];
    await (async () => {
      for await (const event of await openai(recorder).responses.create({ model: 'gpt-4o', input: 'Rings?', stream: true })) types.push(event.type);
    })().catch((error: Error) => types.push(`raised: ${error.message}`));
    expect(types[0]).toBe('response.created');
    await recorder.close();
    expect(await recordingsIn(ws.dir)).toEqual([]);
    // Kept with --record-retryable: recording and replay name the same error.
    const log = capturedLog();
    const keeper = await ws.start({ mode: 'record', upstream: upstream.url, recordRetryable: true, logLevel: 'info', logStream: log.stream });
    for await (const event of await openai(keeper).responses.create({ model: 'gpt-4o', input: 'Rings?', stream: true })) void event;
    await keeper.close();
    const replayer = await ws.start({ mode: 'replay', logLevel: 'info', logStream: log.stream });
    for await (const event of await openai(replayer).responses.create({ model: 'gpt-4o', input: 'Rings?', stream: true })) void event;
    await replayer.close();
    await log.settled();
    expect(log.text()).toContain('recorded a stream that ends in an error (server_error)');
    expect(log.text()).toContain('replayed the recorded stream that ends in an error (server_error)');
  });

  it('an error that says something about the request (invalid_request_error) is written, as a 400 on the head is, and the log says so when it is written and each time it is replayed, naming the file', async () => {
    const upstream = await failingAnthropic(invalid);
    const log = capturedLog();
    const recorder = await ws.start({ mode: 'record', routes: { '/anthropic': upstream.url }, logLevel: 'info', logStream: log.stream });
    expect((await streamed(anthropic(recorder.url))).error?.message).toContain('invalid_request_error');
    await recorder.close();
    const [recording] = await recordingsIn(ws.dir);
    expect(recording?.data.response.body.at(-1)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const replayer = await ws.start({ mode: 'replay', logLevel: 'info', logStream: log.stream });
    expect((await streamed(anthropic(replayer.url))).error?.message).toContain('invalid_request_error');
    await replayer.close();
    await log.settled();
    expect(log.text()).toContain('"msg":"llm-replay: recorded a stream that ends in an error (invalid_request_error)"');
    expect(log.text()).toContain(`"msg":"llm-replay: replayed the recorded stream that ends in an error (invalid_request_error) from ${recording!.file} (delete the file to record it again)"`);
  });

  it('a Responses stream that fails with server_error is not written; one that fails for its prompt is', async () => {
    const failedWith = (code: string) => {
      const [created, inProgress] = responsesStream('Saturn');
      const response = { ...(created!['response'] as object), status: 'failed', error: { code, message: `failed: ${code}` } };
      return typedSse([created!, inProgress!, { type: 'response.failed', sequence_number: 2, response }]);
    };
    const upstream = await ws.upstream(
      new FakeUpstream().on('POST', '/v1/responses', (request, res) => {
        const { input } = JSON.parse(request.body) as { input: string };
        return sendEvents(res, failedWith(input), { lingerMs: 30 });
      }),
    );
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    const failures: string[] = [];
    for (const code of ['server_error', 'invalid_prompt']) {
      const stream = await openai(recorder).responses.create({ model: 'gpt-4o', input: code, stream: true });
      for await (const event of stream) if (event.type === 'response.failed') failures.push(event.response.error?.code ?? '');
    }
    expect(failures).toEqual(['server_error', 'invalid_prompt']);
    await recorder.close();
    expect((await recordingsIn(ws.dir)).map((f) => f.data.request.body.input)).toEqual(['invalid_prompt']);
  });

  it('a Responses error event as OpenAI nests it ({type: "error", error: {code: "rate_limit_exceeded"}}) is not written', async () => {
    const [created] = responsesStream('Saturn');
    const limited = { type: 'error', sequence_number: 1, error: { type: 'tokens', code: 'rate_limit_exceeded', message: 'Rate limit reached for gpt-4o', param: null } };
    const upstream = await ws.upstream(new FakeUpstream().on('POST', '/v1/responses', (_request, res) => sendEvents(res, typedSse([created!, limited]), { lingerMs: 30 })));
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    const stream = await openai(recorder).responses.create({ model: 'gpt-4o', input: 'Rings?', stream: true });
    await expect((async () => { for await (const event of stream) void event; })()).rejects.toThrow(/Rate limit reached/);
    await recorder.close();
    expect(await recordingsIn(ws.dir)).toEqual([]);
  });

  it('a chat stream that ends in an error object without [DONE] (as OpenAI ends it) is judged by its error: server_error not written, unless --record-retryable; invalid_request_error written', async () => {
    const chunk = { id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG', object: 'chat.completion.chunk', created: 1741570283, model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta: { role: 'assistant', content: 'Saturn' }, finish_reason: null }] };
    const upstream = await ws.upstream(
      new FakeUpstream().on('POST', '/v1/chat/completions', (request, res) => {
        const { messages } = JSON.parse(request.body) as { messages: Array<{ content: string }> };
        const type = messages[0]!.content;
        return sendEvents(res, [chunk, { error: { message: `failed: ${type}`, type, param: null, code: null } }].map((data) => `data: ${JSON.stringify(data)}\n\n`), { lingerMs: 30 });
      }),
    );
    const ask = async (url: string, type: string) => {
      const stream = await new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-test', maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: type }], stream: true });
      await expect((async () => { for await (const event of stream) void event; })()).rejects.toThrow(`failed: ${type}`);
    };
    const log = capturedLog();
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url, logLevel: 'warn', logStream: log.stream });
    await ask(recorder.url, 'server_error');
    await ask(recorder.url, 'invalid_request_error');
    await recorder.close();
    await log.settled();
    expect(log.text()).toContain("not recorded: the upstream's stream ended in an error (server_error, which stands for a 500, an answer the SDKs retry): passed on to the client (--record-retryable writes it)");
    expect((await recordingsIn(ws.dir)).map((f) => f.data.response.body.at(-1).error.type)).toEqual(['invalid_request_error']);
    const retryable = await ws.start({ mode: 'record', upstream: upstream.url, recordRetryable: true });
    await ask(retryable.url, 'server_error');
    await retryable.close();
    expect((await recordingsIn(ws.dir)).map((f) => f.data.response.body.at(-1).error.type).sort()).toEqual(['invalid_request_error', 'server_error']);
  });

  it('an error event followed by more events (pings) is still the stream’s error: not written; kept, its replay names it', async () => {
    const ping = 'event: ping\ndata: {"type": "ping"}\n\n';
    const upstream = await failingAnthropic(`${overloaded}${ping}${ping}`);
    const recorder = await ws.start({ mode: 'record', routes: { '/anthropic': upstream.url } });
    expect((await streamed(anthropic(recorder.url))).error?.message).toContain('overloaded_error');
    await recorder.close();
    expect(await recordingsIn(ws.dir)).toEqual([]);
    const log = capturedLog();
    const keeper = await ws.start({ mode: 'record', routes: { '/anthropic': upstream.url }, recordRetryable: true });
    await streamed(anthropic(keeper.url));
    await keeper.close();
    const replayer = await ws.start({ mode: 'replay', logLevel: 'warn', logStream: log.stream });
    expect((await streamed(anthropic(replayer.url))).error?.message).toContain('overloaded_error');
    await replayer.close();
    await log.settled();
    expect(log.text()).toContain('replayed the recorded stream that ends in an error (overloaded_error)');
  });

  it("a Gemini stream whose last chunk is an error with its HTTP code (503 UNAVAILABLE) is not written; the client gets every byte", async () => {
    const unavailable = { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } };
    const events = [geminiChunks()[0], unavailable].map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`);
    const upstream = await ws.upstream(new FakeUpstream().on('POST', /^\/v1beta\/models\/[^/]+:streamGenerateContent$/, (_request, res) => sendEvents(res, events)));
    const recorder = await ws.start({ mode: 'record', routes: { '/gemini': upstream.url } });
    const response = await fetch(`${recorder.url}/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test' }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Rings?' }] }] }) });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(events.join(''));
    await recorder.close();
    expect(await recordingsIn(ws.dir)).toEqual([]);
  });
});

describe('the error a stream ended with', () => {
  it('is read from each API’s shape, with the status its name stands for (none for an unknown name); an answer is none', () => {
    expect(streamErrorOf({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })).toEqual({ name: 'overloaded_error', status: 529 });
    expect(streamErrorOf({ type: 'error', code: 'rate_limit_exceeded', message: 'slow down', param: null })).toEqual({ name: 'rate_limit_exceeded', status: 429 });
    expect(streamErrorOf({ type: 'response.failed', response: { error: { code: 'server_error' } } })).toEqual({ name: 'server_error', status: 500 });
    expect(streamErrorOf({ error: { message: 'The server had an error', type: 'server_error', param: null, code: null } })).toEqual({ name: 'server_error', status: 500 });
    expect(streamErrorOf({ error: { code: 429, message: 'Resource exhausted', status: 'RESOURCE_EXHAUSTED' } })).toEqual({ name: 'RESOURCE_EXHAUSTED', status: 429 });
    expect(streamErrorOf({ type: 'error', error: { type: 'tokens', code: 'rate_limit_exceeded' } })).toEqual({ name: 'rate_limit_exceeded', status: 429 });
    expect(streamErrorOf({ error: { code: 500, type: 'InternalServerError', message: 'vLLM crashed' } })).toEqual({ name: 'InternalServerError', status: 500 });
    expect(streamErrorOf({ error: { code: 503 } })).toEqual({ name: 'an error with code 503', status: 503 });
    expect(streamErrorOf(parseKeepingNumbers('{"error": {"code": 503, "message": "busy", "retry_in": 1.0}}'))).toEqual({ name: 'an error with code 503', status: 503 });
    // Known to be an error, not what it stands for: written, and still said to be an error.
    expect(streamErrorOf({ error: { message: 'who knows', type: 'brand_new_error' } })).toEqual({ name: 'brand_new_error' });
    expect(streamErrorOf({ type: 'error', error: { type: 'toString' } })).toEqual({ name: 'toString' });
    expect(streamErrorOf({ error: 'model "llama9" not found' })).toEqual({ name: 'error' });
    expect(streamErrorOf({ type: 'message_stop' })).toBeUndefined();
    expect(streamErrorOf({ choices: [], error: null })).toBeUndefined();
    expect(streamErrorOf(undefined)).toBeUndefined();
  });

  it('of a recording, is read as record mode read it while capturing: its final events’ telling error, else its last chunk’s', () => {
    const delta = { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Saturn' } };
    const start = { type: 'message_start', message: { id: 'msg_1' } };
    const over = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    const ping = { type: 'ping' };
    expect(endingErrorOf([start, delta, over, ping, ping], 'sse')).toEqual({ name: 'overloaded_error', status: 529 });
    // An error event is a final event wherever it stands: the SDK raises there, in replay too.
    expect(endingErrorOf([start, over, delta, { type: 'message_stop' }], 'sse')).toEqual({ name: 'overloaded_error', status: 529 });
    expect(endingErrorOf([start, delta, { type: 'message_stop' }], 'sse')).toBeUndefined();
    const created = { type: 'response.created', response: { id: 'resp_1' } };
    expect(endingErrorOf([created, { type: 'error', code: null, message: 'x' }, { type: 'response.failed', response: { error: { code: 'server_error' } } }], 'sse')).toEqual({ name: 'server_error', status: 500 });
    const chunk = { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'Saturn' } }] };
    expect(endingErrorOf([chunk, { error: { type: 'server_error', message: 'x' } }, chunk], 'sse')).toEqual({ name: 'server_error', status: 500 });
    const gemini = { candidates: [{ content: { parts: [{ text: 'Saturn' }] }, index: 0 }] };
    expect(endingErrorOf([gemini, { error: { code: 503, status: 'UNAVAILABLE' } }], 'sse')).toEqual({ name: 'UNAVAILABLE', status: 503 });
    expect(endingErrorOf([gemini, { ...gemini, candidates: [{ ...gemini.candidates[0], finishReason: 'STOP' }] }], 'sse')).toBeUndefined();
    expect(endingErrorOf([], 'sse')).toBeUndefined();
    expect(endingErrorOf([{ model: 'llama3.2', done: false }, { error: 'runner stopped' }], 'ndjson')).toEqual({ name: 'error' });
  });

  it('of several, is the first whose status is known, else the first', () => {
    expect(tellingError({ name: 'error' }, { name: 'server_error', status: 500 })).toEqual({ name: 'server_error', status: 500 });
    expect(tellingError({ name: 'rate_limit_exceeded', status: 429 }, { name: 'server_error', status: 500 })).toEqual({ name: 'rate_limit_exceeded', status: 429 });
    expect(tellingError({ name: 'error' }, { name: 'other' })).toEqual({ name: 'error' });
    expect(tellingError(undefined, { name: 'other' })).toEqual({ name: 'other' });
    expect(tellingError(undefined, undefined)).toBeUndefined();
  });

  it('is judged as its status on a head would be: a refused key, a failure said apart from the retried answers, or written', () => {
    expect(streamNotWritten({ name: 'authentication_error', status: 401 }, {}, '/anthropic/v1/messages')?.cause).toBe('refused-key');
    expect(streamNotWritten({ name: 'authentication_error', status: 401 }, { recordAuthErrors: true }, '/anthropic/v1/messages')).toBeUndefined();
    expect(streamNotWritten({ name: 'api_error', status: 500 }, {}, '/anthropic/v1/messages')?.cause).toBe('failed-stream');
    expect(streamNotWritten({ name: 'api_error', status: 500 }, { recordRetryable: true }, '/anthropic/v1/messages')).toBeUndefined();
    expect(streamNotWritten({ name: 'not_found_error', status: 404 }, {}, '/anthropic/v1/messages')).toBeUndefined();
    expect(streamNotWritten({ name: 'brand_new_error' }, {}, '/anthropic/v1/messages')).toBeUndefined();
  });
});
