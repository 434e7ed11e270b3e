// The four modes, upstream errors, replay misses, test ids, arbitrary endpoints and
// record-if-missing's single upstream call for identical concurrent requests.
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { fakeOpenAi, seed, seedText, chatParams } from './support/seeds.js';
import { listFiles, openai, readJson, recordingsIn, removeDir, serve, tempDir, json } from './support/harness.js';
import type { RunningServer } from '../src/index.js';
import { formatVerifyReport, verifyRecordings } from '../src/cli/commands/verify.js';

let dir: string;
let upstream: FakeUpstream;
const servers: RunningServer[] = [];

beforeEach(async () => {
  dir = await tempDir();
  upstream = await fakeOpenAi().start();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await upstream.stop();
  await removeDir(dir);
});

async function start(mode: 'record' | 'replay' | 'record-if-missing' | 'live', extra = {}): Promise<RunningServer> {
  const server = await serve({ mode, recordings: dir, upstream: upstream.url, ...extra });
  servers.push(server);
  return server;
}

const usage = seed('gpt-5.1-chat', 'Usage');
const system = seed('gpt-5.1-chat', 'With System Message');

describe('modes', () => {
  it('live passes through and writes nothing', async () => {
    const answer = await openai(await start('live')).chat.completions.create(chatParams(usage));
    expect(answer.choices[0]?.message.content).toBe(seedText(usage));
    expect(answer.id).toBe((usage.response as { id: string }).id);
    expect(await listFiles(dir)).toEqual([]);
  });

  it('live starts without a recordings directory, answers, and creates none: it reads and writes no recording', async () => {
    const missing = path.join(dir, 'not-there');
    const server = await start('live', { recordings: missing });
    const answer = await openai(server).chat.completions.create(chatParams(usage));
    expect(answer.choices[0]?.message.content).toBe(seedText(usage));
    // It read no directory at start, so it cannot become a mode that needs one: it says so, and stays live.
    for (const mode of ['record', 'record-if-missing', 'replay']) {
      const refused = await fetch(`${server.url}/_llm-replay/mode`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }) });
      expect(refused.status).toBe(409);
      expect(JSON.stringify(await refused.json())).toContain('llm_replay_mode_unavailable');
    }
    expect(((await (await fetch(`${server.url}/_llm-replay/health`)).json()) as { mode: string }).mode).toBe('live');
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await expect(stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('live ends the upstream call when its client hangs up before the answer, and the journal says so', async () => {
    // The upstream answers only once its request has been ended: never, unless the proxy ends it.
    let upstreamRequestEnded!: () => void;
    const ended = new Promise<void>((resolve) => (upstreamRequestEnded = resolve));
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const slow = await new FakeUpstream()
      .on('POST', '/v1/chat/completions', (_request, res) => {
        res.once('close', () => upstreamRequestEnded());
        arrived();
      })
      .start();
    try {
      const server = await start('live', { upstream: slow.url });
      const client = new AbortController();
      const asked = fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m"}', signal: client.signal }).catch((error: Error) => error);
      await arrival;
      client.abort();
      expect(await asked).toBeInstanceOf(Error);
      // Bounded: without the abort the proxy would wait out the upstream timeout.
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([ended.then(() => 'ended'), new Promise((resolve) => (timer = setTimeout(() => resolve('still open after 10 s'), 10_000)))]);
      clearTimeout(timer);
      expect(outcome).toBe('ended');
      await expect.poll(() => server.app.journal.entries().map((entry) => [entry.kind, entry.message])).toEqual([['failed', 'the client hung up before the upstream answered: the upstream call was ended']]);
    } finally {
      await slow.stop();
    }
  });

  it('replay never calls the upstream, even on a miss', async () => {
    const client = openai(await start('replay'));
    await expect(client.chat.completions.create(chatParams(usage))).rejects.toMatchObject({ status: 404 });
    expect(upstream.received).toHaveLength(0);
  });

  it('record writes every occurrence and records the sequence anew on the next run; record-if-missing replays them and records the rest', async () => {
    const recorder = await start('record');
    await openai(recorder).chat.completions.create(chatParams(usage));
    await openai(recorder).chat.completions.create(chatParams(usage));
    expect(upstream.calls()).toBe(2);
    expect(await listFiles(dir)).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.2\.json$/), expect.stringMatching(/^[0-9a-f]{64}\.json$/)]);
    await recorder.close();
    servers.pop();
    const again = await start('record');
    await openai(again).chat.completions.create(chatParams(usage));
    expect(upstream.calls()).toBe(3);
    // Sent once this time: the old second occurrence would follow a new first one, so it is gone.
    expect(await listFiles(dir)).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.json$/)]);
    await again.close();
    servers.pop();
    const mixed = openai(await start('record-if-missing'));
    await mixed.chat.completions.create(chatParams(usage));
    expect(upstream.calls()).toBe(3);
    await mixed.chat.completions.create(chatParams(usage));
    expect(upstream.calls()).toBe(4);
    const answer = await mixed.chat.completions.create(chatParams(system));
    expect(answer.choices[0]?.message.content).toBe(seedText(system));
    expect(upstream.calls()).toBe(5);
    expect(await listFiles(dir)).toHaveLength(3);
  });

  it('record mode holds nothing it wrote in memory: switched to replay, it answers a recording as the file now says', async () => {
    const recorder = await start('record');
    await openai(recorder).chat.completions.create(chatParams(usage));
    const [file] = (await listFiles(dir)).map((name) => path.join(dir, name));
    const recording = await readJson(file!);
    recording.response.body.choices[0].message.content = 'edited by hand';
    await writeFile(file!, JSON.stringify(recording, null, 2));
    const switched = await fetch(`${recorder.url}/_llm-replay/mode`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'replay' }) });
    expect(switched.status).toBe(200);
    const answer = await openai(recorder).chat.completions.create(chatParams(usage));
    expect(answer.choices[0]?.message.content).toBe('edited by hand');
    expect(upstream.calls()).toBe(1);
  });

  it('finds recordings in any subfolder', async () => {
    await openai(await start('record')).chat.completions.create(chatParams(usage));
    await Promise.all(servers.splice(0).map((s) => s.close()));
    const [file] = await listFiles(dir);
    await mkdir(path.join(dir, 'a/b/recordings'), { recursive: true });
    await rename(path.join(dir, file!), path.join(dir, 'a/b/recordings', file!));
    await upstream.stop();
    const answer = await openai(await start('replay')).chat.completions.create(chatParams(usage));
    expect(answer.choices[0]?.message.content).toBe(seedText(usage));
  });

  it('50 runs sending the same request at once in record-if-missing reach the upstream once', async () => {
    const server = await start('record-if-missing');
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-llm-replay-run': `run-${i}` } }).chat.completions.create(chatParams(usage))),
    );
    expect(upstream.calls('/v1/chat/completions')).toBe(1);
    expect(new Set(answers.map((a) => a.choices[0]?.message.content))).toEqual(new Set([seedText(usage)]));
    expect(await listFiles(dir)).toHaveLength(1);
  });
});

describe('upstream errors and misses', () => {
  it('with recordRetryable, records an upstream 500 with its body and replays it identically', async () => {
    const failing = new FakeUpstream().on('POST', '/v1/chat/completions', (_r, res) =>
      sendJson(res, 500, { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } }),
    );
    await failing.start();
    const recorder = await serve({ mode: 'record', recordings: dir, upstream: failing.url, recordRetryable: true });
    const first = await fetch(`${recorder.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(usage.request) });
    const firstBody = await first.text();
    await recorder.close();
    await failing.stop();
    const replayer = await start('replay');
    const again = await fetch(`${replayer.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(usage.request) });
    expect(again.status).toBe(500);
    expect(await again.text()).toBe(firstBody);
    const [file] = await recordingsIn(dir);
    expect(file!.data.response.status).toBe(500);
    await expect(openai(replayer).chat.completions.create(chatParams(usage))).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('an unreachable upstream gives the client a clear 502 and records nothing', async () => {
    await upstream.stop();
    const server = await start('record');
    const response = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(usage.request) });
    expect(response.status).toBeGreaterThanOrEqual(500);
    const body = await json(response);
    expect(body.error.message).toMatch(/upstream/);
    expect(await listFiles(dir)).toEqual([]);
  });

  it('a replay miss is a 404 that names the request, shows the nearest recording and how to record', async () => {
    await openai(await start('record'), { testId: 'tests/test_chat.py::test_laws' }).chat.completions.create(chatParams(usage));
    await Promise.all(servers.splice(0).map((s) => s.close()));
    const replayer = await start('replay');
    await replayer.catalogue.build();
    const client = openai(replayer, { testId: 'tests/test_chat.py::test_laws' });
    const changed = { ...chatParams(usage), temperature: 0.2 };
    const error = await client.chat.completions.create(changed).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    const message = (error as InstanceType<typeof OpenAI.NotFoundError>).message;
    const [file] = await listFiles(dir);
    expect(message).toMatch(/no recording for POST \/v1\/chat\/completions/);
    expect(message).toMatch(/key [0-9a-f]{64}/);
    expect(message).toContain('tests/test_chat.py::test_laws');
    expect(message).toContain(file!);
    expect(message).toContain('body.temperature: recorded (absent), requested 0.2');
    expect(message).toContain('--mode record-if-missing');
    expect(upstream.received).toHaveLength(1);
  });
});

describe('test ids and other endpoints', () => {
  it('X-Test-Id keeps identical requests of two tests apart and is stored as test_id', async () => {
    const server = await start('record');
    await openai(server, { testId: 'test_a' }).chat.completions.create(chatParams(usage));
    await openai(server, { testId: 'test_b' }).chat.completions.create(chatParams(usage));
    await openai(server).chat.completions.create(chatParams(usage));
    const files = await recordingsIn(dir);
    expect(files).toHaveLength(3);
    expect(files.map((f) => f.data.test_id).sort()).toEqual(['test_a', 'test_b', null].sort());
  });

  it('forwards any method and path; a non-JSON body is keyed by its bytes and stored as base64', async () => {
    upstream.on('PUT', '/v1/files/upload', (request, res) => sendJson(res, 200, { got: request.body.length, type: request.headers['content-type'] }));
    const server = await start('record-if-missing');
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 10, 13]);
    // Two runs: the second's first occurrence is answered from the first's recording.
    const put = (run: string) => fetch(`${server.url}/v1/files/upload?purpose=test`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'x-llm-replay-run': run }, body: bytes });
    expect(await json(await put('a'))).toEqual({ got: 8, type: 'application/octet-stream' });
    expect(await json(await put('b'))).toEqual({ got: 8, type: 'application/octet-stream' });
    expect(upstream.calls('/v1/files/upload')).toBe(1);
    const [file] = await recordingsIn(dir);
    expect(file!.data.request).toMatchObject({ method: 'PUT', endpoint: '/v1/files/upload', body: bytes.toString('base64'), body_encoding: 'base64', content_type: 'application/octet-stream' });
    expect(file!.data.request.url).toMatch(/\/v1\/files\/upload\?purpose=test$/);
    const other = await fetch(`${server.url}/v1/files/upload?purpose=test`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([1]) });
    expect(other.status).toBe(200);
    expect(upstream.calls('/v1/files/upload')).toBe(2);
  });

  it('malformed JSON is forwarded and keyed by its bytes, not refused', async () => {
    upstream.on('POST', '/v1/chat/completions', (request, res) => sendJson(res, 400, { error: { message: `bad json: ${request.body}` } }));
    const server = await start('record');
    const response = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": ' });
    expect(response.status).toBe(400);
    const [file] = await recordingsIn(dir);
    expect(Buffer.from(file!.data.request.body, 'base64').toString()).toBe('{"model": ');
    expect(await readJson(path.join(dir, file!.file))).toHaveProperty('response.status', 400);
  });
});

describe('multipart uploads', () => {
  it('are keyed by their parts, not their random boundary: an audio transcription replays', async () => {
    upstream.on('POST', '/v1/audio/transcriptions', (request, res) =>
      sendJson(res, 200, { text: `heard ${/filename="([^"]+)"/.exec(request.body)?.[1]}` }),
    );
    const audio = () => new File([Buffer.from('RIFF....WAVEfmt fake audio bytes')], 'hello.wav', { type: 'audio/wav' });
    const recorder = await start('record');
    const recorded = await openai(recorder).audio.transcriptions.create({ file: audio(), model: 'whisper-1' });
    expect(recorded.text).toBe('heard hello.wav');
    await recorder.close();
    servers.splice(servers.indexOf(recorder), 1);
    await upstream.stop();
    const replayer = await start('replay');
    // A new call: the SDK picks a new boundary, the parts are the same.
    expect((await openai(replayer).audio.transcriptions.create({ file: audio(), model: 'whisper-1' })).text).toBe('heard hello.wav');
    const other = openai(replayer).audio.transcriptions.create({ file: audio(), model: 'whisper-2' });
    await expect(other).rejects.toMatchObject({ status: 404 });
    const [file] = await recordingsIn(dir);
    expect(file!.data.request.content_type).toMatch(/^multipart\/form-data; boundary=/);
    expect(formatVerifyReport(await verifyRecordings(dir, 'default'), dir)).toContain('1 recordings: 1 ok');
  });
});
