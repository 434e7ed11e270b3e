// llama-stack interop, self-contained: seed 004 (a real llama-stack recording) and
// recordings this suite makes in llama-stack's form, served and verified.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { classifyBody } from '../src/request/client-request.js';
import { computeKey } from '../src/keys/index.js';
import { modelListDigest } from '../src/recordings/llama-stack-form.js';
import { recordingPlace } from '../src/recordings/layout.js';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { fakeOpenAi, modelsResponse, seed, chatParams, streamParams } from './support/seeds.js';
import { capturedLog, listFiles, openai, readJson, recordingsIn, removeDir, serve, tempDir, json } from './support/harness.js';
import type { RunningServer } from '../src/index.js';
import { formatVerifyReport, verifyRecordings } from '../src/cli/commands/verify.js';

const SEED_KEY = '302b9a7e33b5e584ddffd841d097425b4026d50c61ddf894b8e9dfa73a4e533f';
const seedText = () => readFile(new URL('./fixtures/llama-stack-seed-004.json', import.meta.url), 'utf8');

let dir: string;
const servers: RunningServer[] = [];
let upstream: FakeUpstream | undefined;

beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await upstream?.stop();
  upstream = undefined;
  await removeDir(dir);
});

async function start(options: Parameters<typeof serve>[0] = {}): Promise<RunningServer> {
  const server = await serve({ mode: 'replay', recordings: dir, keyScheme: 'llama-stack', ...options });
  servers.push(server);
  return server;
}

async function place(relative: string, content: string): Promise<void> {
  await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
  await writeFile(path.join(dir, relative), content);
}

describe('serving llama-stack recordings', () => {
  beforeEach(async () => {
    await place(`tests/integration/responses/recordings/${SEED_KEY}.json`, await seedText());
  });

  it('replays seed 004 to the openai SDK exactly as recorded, test id from X-Test-Id or provider data', async () => {
    const file = JSON.parse(await seedText());
    const expected = file.response.body.map((chunk: { __data__: unknown }) => chunk.__data__);
    const server = await start();
    const headerSets = [{ 'X-Test-Id': file.test_id }, { 'X-LlamaStack-Provider-Data': JSON.stringify({ __test_id: file.test_id, openai_api_key: 'x' }) }];
    for (const headers of headerSets) {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0, defaultHeaders: headers });
      const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'What are the 5 Ds of dodgeball?' }], stream: true });
      const chunks: unknown[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks).toEqual(expected);
    }
  });

  it('without the test id it is a miss that shows the test id as the difference', async () => {
    const server = await start();
    await server.catalogue.build();
    const error = await openai(server)
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'What are the 5 Ds of dodgeball?' }], stream: true })
      .catch((e: Error) => e);
    expect((error as Error).message).toMatch(/test id: recorded "tests\/integration\/responses\/test_conversation_responses.py::.*", requested null/);
  });

  it('a provider-data header that is not JSON leaves the request without a test id, and the log says so once', async () => {
    const log = capturedLog();
    const server = await start({ logLevel: 'warn', logStream: log.stream });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0, defaultHeaders: { 'X-LlamaStack-Provider-Data': '{"__test_id": unquoted-id, "api_key": sk-unquoted-0123456789}' } });
    for (let i = 0; i < 2; i++) {
      const error = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'What are the 5 Ds of dodgeball?' }], stream: true }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    }
    await log.settled();
    const said = log.text().split('\n').filter((line) => line.includes('x-llamastack-provider-data is not JSON'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('the request has no test id');
    // Not the parser's message, which quotes the header's text (it may hold a key).
    expect(said[0]).not.toContain('unquoted');
  });

  it('verify finds every name matching its key, and reports a renamed file', async () => {
    const good = await verifyRecordings(dir, 'llama-stack');
    expect(good.problems).toEqual([]);
    expect(formatVerifyReport(good, dir)).toContain('1 recordings: 1 ok, 0 with problems');
    await place(`${'0'.repeat(64)}.json`, await seedText());
    const bad = formatVerifyReport(await verifyRecordings(dir, 'llama-stack'), dir);
    expect(bad).toContain(`key-mismatch: ${'0'.repeat(64)}.json: its request has key ${SEED_KEY}`);
    expect(bad).toContain('2 recordings: 1 ok, 1 with problems');
  });
});

describe('llama-stack quirks', () => {
  const request = (method: string, p: string, body?: string, testId: string | null = null) =>
    computeKey('llama-stack', { method, path: p, query: '', headers: {}, body: classifyBody(body === undefined ? undefined : Buffer.from(body), 'application/json'), testId, run: '' }, { upstreamHost: 'api.openai.com' });

  function modelFile(key: string, ids: string[]) {
    return JSON.stringify({
      test_id: 't',
      request: { method: 'POST', url: 'https://api.openai.com/v1/v1/models', headers: {}, body: {}, endpoint: '/v1/models', model: '' },
      response: { body: ids.map((id) => ({ __type__: 'openai.types.model.Model', __data__: { id, created: 1, object: 'model', owned_by: 'o' } })), is_streaming: false },
      id_normalization_mapping: {},
    });
  }

  it('answers a model list from the union of its files, sorted by id, on GET and POST', async () => {
    const key = request('GET', '/v1/models', undefined, 't').key;
    await place(`a/recordings/models-${key}-${modelListDigest(['b-model', 'a-model'])}.json`, modelFile(key, ['b-model', 'a-model']));
    await place(`b/recordings/models-${key}-${modelListDigest(['c-model', 'a-model'])}.json`, modelFile(key, ['c-model', 'a-model']));
    const server = await start();
    const client = openai(server, { testId: 't' });
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['a-model', 'b-model', 'c-model']);
    const posted = await fetch(`${server.url}/v1/models`, { method: 'POST', headers: { 'X-Test-Id': 't' } });
    expect(await json(posted)).toMatchObject({ object: 'list', data: [{ id: 'a-model' }, { id: 'b-model' }, { id: 'c-model' }] });
  });

  it('replays is_exception recordings as the HTTP error they were', async () => {
    const body = '{"model": "gpt-4o", "messages": [{"role": "user", "content": "boom"}]}';
    const key = request('POST', '/v1/chat/completions', body).key;
    await place(`${key}.json`, JSON.stringify({
      test_id: null,
      request: { method: 'POST', url: 'https://api.openai.com/v1/v1/chat/completions', headers: {}, body: JSON.parse(body), endpoint: '/v1/chat/completions', model: 'gpt-4o' },
      response: {
        body: null,
        is_streaming: false,
        is_exception: true,
        exception_data: { category: 'provider_sdk', provider: 'openai', type: 'BadRequestError', message: 'Error code: 400', status_code: 400, body: { message: 'Invalid value for temperature', type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' } },
        exception_message: 'Error code: 400',
      },
    }));
    const server = await start();
    const error = await openai(server).chat.completions.create(JSON.parse(body)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'temperature', code: 'invalid_value', message: expect.stringContaining('Invalid value for temperature') });
  });

  it('applies id_normalization_mapping on load', async () => {
    const file = JSON.parse(await seedText());
    file.response.body = file.response.body.map((chunk: { __data__: { id: string } }) => ({ ...chunk, __data__: { ...chunk.__data__, id: 'chatcmpl-ORIGINAL123' } }));
    file.id_normalization_mapping = { 'rec-normalized-1': 'chatcmpl-ORIGINAL123' };
    await place(`${SEED_KEY}.json`, JSON.stringify(file));
    const server = await start();
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Test-Id': file.test_id },
      body: JSON.stringify(file.request.body),
    });
    const text = await response.text();
    expect(text).toContain('"id":"rec-normalized-1"');
    expect(text).not.toContain('ORIGINAL');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });
});

describe('recording in llama-stack form', () => {
  it('writes files llama-stack loads: __type__ wrappers, rec- ids, model lists, exceptions; verify passes; replay matches', async () => {
    upstream = await fakeOpenAi().start();
    upstream.on('POST', '/v1/completions', (_r, res) => sendJson(res, 429, { error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } }));
    // recordRetryable: the 429 is written, as llama-stack writes it.
    const recorder = await start({ mode: 'record', upstream: upstream.url, layout: 'by-test-file', recordRetryable: true });
    const testId = 'tests/integration/inference/test_chat.py::test_stream[gpt]';
    const client = openai(recorder, { testId });
    const usage = seed('gpt-5.1-chat', 'Usage');
    const streaming = seed('gpt-5.5', 'Streaming Response');
    const chat = await client.chat.completions.create(chatParams(usage));
    const streamed: unknown[] = [];
    for await (const chunk of await client.chat.completions.create(streamParams(streaming))) streamed.push(chunk);
    await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello', encoding_format: 'float' });
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    // Raw bytes: the SDK would write 1.0 as 1, and llama-stack's key tells them apart.
    const completion = (server: RunningServer) =>
      fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Test-Id': testId }, body: '{"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "temperature": 1.0}' });
    expect((await completion(recorder)).status).toBe(429);
    await recorder.close();
    servers.splice(0);

    const files = await recordingsIn(dir);
    expect(files.every((f) => f.file.startsWith('tests/integration/inference/recordings/'))).toBe(true);
    const byEndpoint = Object.fromEntries(files.map((f) => [`${f.data.request.endpoint}${f.data.response.is_streaming ? ' stream' : ''}`, f]));
    expect(byEndpoint['/v1/chat/completions']!.data.response.body.__type__).toBe('openai.types.chat.chat_completion.ChatCompletion');
    expect(byEndpoint['/v1/chat/completions']!.data.response.body.__data__.id).toMatch(/^rec-[0-9a-f]{12}$/);
    expect(byEndpoint['/v1/chat/completions stream']!.data.response.body[0].__type__).toBe('openai.types.chat.chat_completion_chunk.ChatCompletionChunk');
    expect(byEndpoint['/v1/embeddings']!.data.response.body.__type__).toBe('openai.types.create_embedding_response.CreateEmbeddingResponse');
    const modelFile = byEndpoint['/v1/models']!;
    expect(path.basename(modelFile.file)).toMatch(new RegExp(`^models-[0-9a-f]{64}-${modelListDigest(modelsResponse.data.map((m) => m.id))}\\.json$`));
    expect(modelFile.data.request).toMatchObject({ method: 'POST', body: {}, endpoint: '/v1/models', url: `${upstream.url}/v1/v1/models` });
    expect(modelFile.data.response.body[0].__type__).toBe('openai.types.model.Model');
    const failure = byEndpoint['/v1/completions']!.data;
    expect(failure.response).toMatchObject({ body: null, is_exception: true, exception_data: { status_code: 429, type: 'RateLimitError', body: { code: 'rate_limit_exceeded' } } });
    expect(await readFile(path.join(dir, byEndpoint['/v1/completions']!.file), 'utf8')).toContain('"temperature": 1.0');

    expect(formatVerifyReport(await verifyRecordings(dir, 'llama-stack'), dir)).toContain('5 recordings: 5 ok, 0 with problems');

    await upstream.stop();
    const replayer = await start();
    const again = openai(replayer, { testId });
    expect((await again.chat.completions.create(chatParams(usage))).choices).toEqual(chat.choices);
    const restreamed: Array<{ choices: unknown }> = [];
    for await (const chunk of await again.chat.completions.create(streamParams(streaming))) restreamed.push(chunk as never);
    expect(restreamed.map((c) => c.choices)).toEqual(streamed.map((c) => (c as { choices: unknown }).choices));
    const replayedModels = [];
    for await (const model of again.models.list()) replayedModels.push(model.id);
    expect(replayedModels).toEqual([...models].sort());
    const replayedFailure = await completion(replayer);
    expect(replayedFailure.status).toBe(429);
    expect(await json(replayedFailure)).toMatchObject({ error: { code: 'rate_limit_exceeded', message: 'Rate limit reached' } });
  });
});

describe('layout by test file', () => {
  it('never leaves the recordings directory, whatever the test id holds', () => {
    expect(recordingPlace('by-test-file', 'tests/a/test_x.py::t').dir).toBe('tests/a/recordings');
    for (const hostile of ['tests/\u0000/x.py::t', 'tests/../x.py::t', '/abs/x.py::t', `${'a/'.repeat(33)}x.py::t`, 'C:/x.py::t', '.hidden/x.py::t']) {
      expect(recordingPlace('by-test-file', hostile).dir, hostile).toBe('');
    }
    // A test file at the top of the project: its recordings folder is at the top too.
    expect(recordingPlace('by-test-file', 'test_x.py::t').dir).toBe('recordings');
    // Backslashes are not separators here, and a file name holding them is odd: the top folder, as for any odd test id.
    expect(recordingPlace('by-test-file', '..\\..\\x.py::t').dir).toBe('');
    expect(recordingPlace('by-test-file', 'C:\\x\\test_a.py::t').dir).toBe('');
    // A drive's root leads outside; a colon in a name is an odd name, and said so.
    expect(recordingPlace('by-test-file', 'C:/x/test_a.py::t').refused).toBe('its test file would lead outside the recordings directory');
    expect(recordingPlace('by-test-file', 'x:y.py::t')).toEqual({ dir: '', refused: 'its test file\'s path has "x:y.py", not a plain name of a folder the index reads' });
    expect(recordingPlace('flat', 'tests/a/test_x.py::t').dir).toBe('');
  });

  it('says once, at warn, which test id could not have its folder and where its recordings go instead (then at info, seen at the CLI\'s level)', async () => {
    upstream = await fakeOpenAi().start();
    const logs = capturedLog();
    const server = await start({ mode: 'record', keyScheme: 'default', upstream: upstream.url, layout: 'by-test-file', logLevel: 'debug', logStream: logs.stream });
    const send = (testId: string, input: string) => fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Test-Id': testId }, body: JSON.stringify({ model: 'm', input }) });
    for (const [testId, input] of [['tests/ok/test_a.py::t', 'a'], ['../../x.py::t', 'b'], ['/abs.py::t', 'c'], ['../../x.py::t', 'd']] as const) expect((await send(testId, input)).status).toBe(200);
    await logs.settled();
    const said = logs.text().split('\n').filter((line) => line.includes('--layout by-test-file')).map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(said.map((line) => line.level)).toEqual([40, 30, 30]);
    expect(said[0]!.msg).toBe(`llm-replay: test id "../../x.py::t": its test file would lead outside the recordings directory, so --layout by-test-file writes its recordings in the top folder, ${dir}, instead`);
    expect(said[1]!.msg).toContain('test id "/abs.py::t"');
  });

  it.each([
    ['tests/unit/test_a.py::test_b', 'tests/unit/recordings/'],
    ['../../outside.py::x', ''],
    ['/etc/passwd.py::x', ''],
    ['tests/../../up.py::x', ''],
    ['tests/a b/test.py::x', ''],
    [`${'d/'.repeat(40)}test.py::x`, ''],
    [`tests/${'x'.repeat(5000)}/test.py::x`, ''],
    ['no-file-here', ''],
  ])('test id #%# is written inside the recordings directory', async (testId, folder) => {
    upstream = await fakeOpenAi().start();
    const server = await start({ mode: 'record', keyScheme: 'default', upstream: upstream.url, layout: 'by-test-file' });
    const response = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Test-Id': testId }, body: '{"model":"m","input":"x"}' });
    expect(response.status).toBe(200);
    const [file] = await listFiles(dir);
    expect(file).toMatch(new RegExp(`^${folder}[0-9a-f]{64}\\.json$`));
    expect((await readJson(path.join(dir, file!))).test_id).toBe(testId);
  });
});
