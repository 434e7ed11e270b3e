// Upstream faults, hostile input and unusable recordings: the client always gets a
// clear answer, the server keeps running, and nothing incomplete is recorded.
import { writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FakeUpstream, openAiSse, sendEvents, sendJson } from './support/fake-upstream.js';
import { fakeOpenAi, seed, chatParams } from './support/seeds.js';
import { listFiles, openai, recordingsIn, serve, workspace, json } from './support/harness.js';
import { startServer } from '../src/index.js';
import { keyOfRecording } from '../src/keys/index.js';

const ws = workspace();
const { cleanup, start } = ws;
const upstreamOf = ws.upstream;
const usage = seed('gpt-5.1-chat', 'Usage');
const streaming = seed('gpt-5.1-chat', 'Streaming Response');
const chunks = streaming.response as unknown[];
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('upstream faults', () => {
  it('an upstream that hangs past the timeout gets the client a 504; a retry afterwards records cleanly', async () => {
    let hang = true;
    const fake = await upstreamOf(
      new FakeUpstream().on('POST', '/v1/chat/completions', (_r, res) => {
        if (hang) return; // never answers
        sendJson(res, 200, usage.response);
      }),
    );
    const server = await start({ mode: 'record-if-missing', upstream: fake.url, upstreamTimeoutMs: 300 });
    const first = await post(server.url, usage.request);
    expect(first.status).toBe(504);
    expect((await json(first)).error.message).toMatch(/^llm-replay: the upstream http:\/\/127\.0\.0\.1:\d+ sent no answer within --upstream-timeout: /);
    expect(await listFiles(ws.dir)).toEqual([]);
    hang = false;
    const second = await openai(server).chat.completions.create(chatParams(usage));
    expect(second.choices[0]?.message.content).toBeTruthy();
    expect(await listFiles(ws.dir)).toHaveLength(1);
  });

  it('a slow-drip stream within the timeout is recorded; one that stalls past it breaks and is not', async () => {
    let stallAt: number | undefined;
    const fake = await upstreamOf(
      new FakeUpstream().on('POST', '/v1/chat/completions', async (_r, res) => {
        const events = openAiSse(chunks.slice(0, 12));
        if (stallAt === undefined) return sendEvents(res, events, { pauseMs: 40 });
        return sendEvents(res, events, { holdBefore: { index: stallAt, until: new Promise(() => undefined) } });
      }),
    );
    const server = await start({ mode: 'record', upstream: fake.url, upstreamTimeoutMs: 400 });
    const complete = await post(server.url, streaming.request);
    expect((await complete.text()).endsWith('data: [DONE]\n\n')).toBe(true);
    expect(await listFiles(ws.dir)).toHaveLength(1);

    stallAt = 5;
    const other = { ...streaming.request, temperature: 0.5 };
    const broken = await post(server.url, other);
    await expect(broken.text()).rejects.toThrow();
    expect(await listFiles(ws.dir)).toHaveLength(1);
    // The server is still up.
    expect((await post(server.url, streaming.request)).status).toBe(200);
  });

  it('a 5xx reaches the client as it was and is recorded only when asked; a reset is not recorded at all', async () => {
    let mode: 'fail' | 'reset' = 'fail';
    const fake = await upstreamOf(
      new FakeUpstream().on('POST', '/v1/chat/completions', (_r, res) => {
        if (mode === 'reset') {
          res.socket?.destroy();
          return;
        }
        sendJson(res, 503, { error: { message: 'overloaded', type: 'server_error', param: null, code: null } });
      }),
    );
    const server = await start({ mode: 'record', upstream: fake.url, recordRetryable: true });
    expect((await post(server.url, usage.request)).status).toBe(503);
    mode = 'reset';
    const reset = await post(server.url, { ...usage.request, n: 2 });
    expect(reset.status).toBe(502);
    expect((await json(reset)).error.code).toBe('llm_replay_upstream_error');
    const files = await recordingsIn(ws.dir);
    expect(files).toHaveLength(1);
    expect(files[0]!.data.response.status).toBe(503);
  });

  it("an answer that breaks off after its head is our own 502 in JSON, without the upstream's content type or cookies", async () => {
    const fake = await upstreamOf(
      new FakeUpstream().on('POST', '/v1/audio/speech', (_r, res) => {
        res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': '1000', 'set-cookie': 'session=upstream', 'x-request-id': 'req_upstream' });
        res.write(Buffer.alloc(10));
        setImmediate(() => res.socket?.destroy());
      }),
    );
    const server = await start({ mode: 'record', upstream: fake.url });
    const broken = await fetch(`${server.url}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tts-1', input: 'hi', voice: 'alloy' }) });
    expect(broken.status).toBe(502);
    expect(broken.headers.get('content-type')).toMatch(/^application\/json/);
    expect(broken.headers.get('set-cookie')).toBeNull();
    expect(broken.headers.get('x-request-id')).toBeNull();
    expect((await json(broken)).error.code).toBe('llm_replay_upstream_error');
    expect(await listFiles(ws.dir)).toEqual([]);
  });

  it('a client hanging up on a compressed stream ends the upstream request at once, not at the body timeout', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const fake = await upstreamOf(
      new FakeUpstream().on('POST', '/v1/chat/completions', (_r, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
        const gzip = createGzip({ flush: zlibConstants.Z_SYNC_FLUSH });
        gzip.pipe(res);
        gzip.write('data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n');
        res.on('close', upstreamClosed);
      }),
    );
    const server = await start({ mode: 'live', upstream: fake.url });
    const controller = new AbortController();
    const answer = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...streaming.request }), signal: controller.signal });
    const reader = answer.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('"Hi"');
    controller.abort();
    // Awaited: without the destroy reaching undici's body, this waits out the 300 s body timeout and the test times out.
    await closed;
  });
});

describe('hostile input', () => {
  it('answers a body over the limit with 413 and a message naming the limit', async () => {
    const server = await start({ mode: 'replay', bodyLimit: 1000 });
    const response = await post(server.url, { model: 'x', messages: [{ role: 'user', content: 'a'.repeat(2000) }] });
    expect(response.status).toBe(413);
    expect((await json(response)).error.message).toContain('larger than the limit of 1000 bytes');
    expect((await post(server.url, usage.request)).status).toBe(404);
  });

  it('keys invalid UTF-8 and unusual methods, and never crashes on them', async () => {
    const fake = await upstreamOf(fakeOpenAi());
    fake.on('PROPFIND', '/v1/dav', (_r, res) => sendJson(res, 207, { ok: true }));
    // The fake answers the invalid body with a 500: recordRetryable writes it, to show how it is stored.
    const server = await start({ mode: 'record-if-missing', upstream: fake.url, recordRetryable: true });
    const invalid = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const response = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: invalid });
    // Forwarded as it came; the (fake) upstream's own answer to it is recorded.
    expect(response.status).toBe(500);
    const dav = await fetch(`${server.url}/v1/dav`, { method: 'PROPFIND' });
    expect(dav.status).toBe(207);
    const files = await recordingsIn(ws.dir);
    const stored = files.find((f) => f.data.request.endpoint === '/v1/chat/completions')!;
    expect(Buffer.from(stored.data.request.body, 'base64').equals(invalid)).toBe(true);
    expect(files.find((f) => f.data.request.method === 'PROPFIND')).toBeTruthy();
  });

  it('odd header casing still finds the test id and the content type', async () => {
    const fake = await upstreamOf(fakeOpenAi());
    const server = await start({ mode: 'record', upstream: fake.url });
    const response = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'X-TEST-ID': 'Casing::Test', 'Content-TYPE': 'Application/JSON' }, body: JSON.stringify(usage.request) });
    expect(response.status).toBe(200);
    expect((await recordingsIn(ws.dir))[0]!.data.test_id).toBe('Casing::Test');
    const malformed = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'not a media type' }, body: '{}' });
    expect(malformed.status).toBe(415);
    expect((await json(malformed)).error.message).toContain('Content-Type header is not a valid media type');
  });
});

describe('unusable recordings', () => {
  async function seedBadFiles() {
    await writeFile(path.join(ws.dir, `${'a'.repeat(64)}.json`), '');
    await writeFile(path.join(ws.dir, `${'b'.repeat(64)}.json`), '{"request": {"method": "POST"');
    await writeFile(path.join(ws.dir, `${'c'.repeat(64)}.json`), '{"hello": "world"}');
    await writeFile(path.join(ws.dir, 'package.json'), '{"name": "foreign"}');
  }

  it('warns naming each unusable file and keeps serving; a request for one gets a 500 naming it', async () => {
    await seedBadFiles();
    const logs = new PassThrough();
    let logText = '';
    logs.on('data', (part: Buffer) => (logText += part.toString()));
    const server = await start({ mode: 'replay', logLevel: 'warn', logStream: logs });
    await server.catalogue.build(); // the background check, whose warnings are logged as it ends
    await new Promise((resolve) => setImmediate(resolve)); // and reach the log stream
    for (const name of ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64), 'package']) expect(logText).toContain(`${name}.json`);
    expect(logText).toContain('the file is empty');
    expect(logText).toContain('not valid JSON');
    expect(logText).toContain('no \\"request\\" object');
    expect((await post(server.url, usage.request)).status).toBe(404);
  });

  it('--strict refuses to start, listing them', async () => {
    await seedBadFiles();
    await expect(startServer({ mode: 'replay', recordings: ws.dir, port: 0, strict: true })).rejects.toThrow(/strict: 4 unusable file\(s\)[\s\S]*package\.json[\s\S]*the file is empty/);
  });
});

describe('slow clients and odd recordings', () => {
  /** Sends `head` (and then nothing) on a raw connection; resolves with what came back once the server closed it. */
  function trickle(url: string, head: string): Promise<string> {
    const { port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(head));
      let answer = '';
      socket.on('data', (part: Buffer) => (answer += part.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
    });
  }

  it('a client too slow with its headers or its body gets 408 and its connection closed; the server keeps serving', async () => {
    const server = await start({ mode: 'replay', headersTimeoutMs: 150, bodyTimeoutMs: 300 });
    const [headers, body] = await Promise.all([
      trickle(server.url, 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty'),
      trickle(server.url, 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":'),
    ]);
    expect(headers).toMatch(/^HTTP\/1\.1 408/);
    expect(body).toMatch(/^HTTP\/1\.1 408/);
    expect((await fetch(`${server.url}/_llm-replay/health`)).status).toBe(200);
  });

  it('1,000 headers and more, or headers over the size limit, get a 431 naming the limit; nothing is forwarded or written', async () => {
    const fake = await upstreamOf(new FakeUpstream().on('POST', '/v1/chat/completions', (_r, res) => sendJson(res, 200, usage.response)));
    const server = await start({ mode: 'record', upstream: fake.url });
    const body = JSON.stringify(usage.request);
    const request = (headers: string) => trickle(server.url, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${headers}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    const many = await request(Array.from({ length: 1000 }, (_, i) => `x-h${i}: a\r\n`).join(''));
    expect(many).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(many.slice(many.indexOf('\r\n\r\n') + 4)).error).toMatchObject({ code: 'llm_replay_too_many_headers', message: 'llm-replay: the request has 1004 headers, more than the limit of 1000' });
    const large = await request(`x-large: ${'a'.repeat(20_000)}\r\n`);
    expect(large).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(large.slice(large.indexOf('\r\n\r\n') + 4)).error).toMatchObject({ code: 'llm_replay_headers_too_large', message: expect.stringMatching(/larger than the limit of \d+ bytes/) });
    expect(fake.received).toHaveLength(0);
    expect(await listFiles(ws.dir)).toEqual([]);
    // Fewer are all forwarded, the content type among them.
    const under = await post(server.url, usage.request, Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`x-h${i}`, 'a'])));
    expect(under.status).toBe(200);
    expect(fake.received[0]!.headers['x-h899']).toBe('a');
    expect((await recordingsIn(ws.dir))[0]!.data.request.body).toEqual(usage.request);
  });

  it('recorded hop-by-hop and length headers are not replayed; a bad header value is a 500 naming the file', async () => {
    const recording = (headers: Record<string, unknown>, content: string) => ({
      test_id: null,
      request: { method: 'POST', url: 'https://api.openai.com/v1/chat/completions', headers: {}, body: { model: 'gpt-4o', messages: [{ role: 'user', content }] }, endpoint: '/v1/chat/completions', model: 'gpt-4o' },
      response: { body: { id: 'chatcmpl-1', object: 'chat.completion', choices: [] }, is_streaming: false, status: 200, headers },
      id_normalization_mapping: {},
    });
    const write = async (headers: Record<string, unknown>, content: string) => {
      const data = recording(headers, content);
      const file = path.join(ws.dir, `${await keyOfRecording('default', data as never)}.json`);
      await writeFile(file, JSON.stringify(data));
      return file;
    };
    await write({ 'Content-Length': '9999', 'transfer-encoding': 'chunked', connection: 'close', 'content-encoding': 'gzip', 'keep-alive': 'timeout=5', 'x-request-id': 'req_kept' }, 'framing');
    const numeric = await write({ 'x-count': 5 }, 'numeric');
    const newline = await write({ 'x-note': 'a\r\nset-cookie: x=1' }, 'newline');
    const server = await start({ mode: 'replay' });
    const ask = (content: string) => post(server.url, { model: 'gpt-4o', messages: [{ role: 'user', content }] });
    const framed = await ask('framing');
    expect(framed.status).toBe(200);
    expect(await json(framed)).toMatchObject({ id: 'chatcmpl-1' });
    expect(framed.headers.get('x-request-id')).toBe('req_kept');
    expect(framed.headers.get('content-encoding')).toBeNull();
    expect(framed.headers.get('transfer-encoding')).toBeNull();
    expect(framed.headers.get('content-length')).toBe(String(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [] }).length));
    for (const [content, file, why] of [['numeric', numeric, '"response.headers.x-count" must be a string, not a number'], ['newline', newline, '"response.headers.x-note" holds a character a header value cannot']] as const) {
      const broken = await ask(content);
      expect(broken.status).toBe(500);
      const message = (await json(broken)).error.message as string;
      expect(message).toContain(file);
      expect(message).toContain(why);
    }
  });
});

describe('replay is offline', () => {
  it('opens no connection to the upstream, for hits, misses or anything else', async () => {
    const recorder = await upstreamOf(fakeOpenAi());
    const rec = await serve({ mode: 'record', recordings: ws.dir, upstream: recorder.url });
    await post(rec.url, usage.request);
    await rec.close();
    let connections = 0;
    const watcher = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => watcher.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => watcher.close(resolve)));
    const upstream = `http://127.0.0.1:${(watcher.address() as { port: number }).port}`;
    const server = await start({ mode: 'replay', upstream, routes: { '/other': upstream } });
    expect((await post(server.url, usage.request)).status).toBe(200);
    expect((await post(server.url, { ...usage.request, n: 3 })).status).toBe(404);
    expect((await fetch(`${server.url}/other/v1/models`)).status).toBe(404);
    expect((await fetch(`${server.url}/v1/files/file-abc/content`, { method: 'DELETE' })).status).toBe(404);
    expect(connections).toBe(0);
  });
});
