// Streams at the byte level: replayed framing, chunks passed on while the upstream
// is still mid-stream, and broken streams that must never be recorded as complete.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeUpstream, openAiSse, sendEvents, typedSse } from './support/fake-upstream.js';
import { fakeOpenAi, seed, responsesStream, streamParams } from './support/seeds.js';
import { listFiles, openai, recordingsIn, removeDir, serve, tempDir } from './support/harness.js';
import type { RunningServer } from '../src/index.js';

let dir: string;
let upstream: FakeUpstream;
let server: RunningServer | undefined;

beforeEach(async () => {
  dir = await tempDir();
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  await upstream?.stop();
  await removeDir(dir);
});

const streamRequest = seed('gpt-5.1-chat', 'Streaming Response').request;

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

describe('streaming', () => {
  it('replays SSE exactly as OpenAI frames it: data lines, blank lines, closing [DONE]', async () => {
    const chunks = seed('gpt-5.1-chat', 'Streaming Response').response as Array<Record<string, unknown>>;
    upstream = await fakeOpenAi().start();
    server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
    const recorded = await (await post(`${server.url}/v1/chat/completions`, streamRequest)).text();
    await server.close();
    await upstream.stop();
    server = await serve({ mode: 'replay', recordings: dir });
    const response = await post(`${server.url}/v1/chat/completions`, streamRequest);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const replayed = await response.text();
    const [file] = await recordingsIn(dir);
    const key = file!.file.slice(0, 64);
    // What OpenAI sent, with the id and created normalised as stored.
    const expected = openAiSse(chunks.map((c) => ({ ...c, id: `rec-${key.slice(0, 12)}`, created: 0 }))).join('');
    expect(replayed).toBe(expected);
    // In record mode the client got the upstream's bytes, with the id already the recorded one.
    expect(recorded).toBe(openAiSse(chunks.map((c) => ({ ...c, id: `rec-${key.slice(0, 12)}` }))).join(''));
  });

  it('passes the first chunk on while the upstream is still paused mid-stream', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    upstream = await fakeOpenAi(() => ({ holdBefore: { index: 3, until: held } })).start();
    server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
    const response = await post(`${server.url}/v1/chat/completions`, streamRequest);
    const reader = response.body!.getReader();
    let received = '';
    while (!received.includes('"content":"ursion"')) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      received += new TextDecoder().decode(value);
    }
    // Three chunks arrived while the upstream holds the fourth: nothing is recorded yet.
    expect(await listFiles(dir)).toEqual([]);
    release();
    while (!(await reader.read()).done);
    await server.close();
    server = undefined;
    expect(await listFiles(dir)).toHaveLength(1);
  });

  it('a stream the upstream breaks off errors at the client and is not recorded', async () => {
    upstream = await fakeOpenAi(() => ({ breakAfter: 5 })).start();
    server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
    const client = openai(server);
    const consume = async () => {
      const stream = await client.chat.completions.create(streamParams(seed('gpt-5.1-chat', 'Streaming Response')));
      let n = 0;
      for await (const _chunk of stream) n++;
      return n;
    };
    await expect(consume()).rejects.toThrow();
    await expect.poll(() => server!.app.journal.entries().map((entry) => entry.message)).toEqual([expect.stringMatching(new RegExp(`^not recorded: the upstream ${upstream.url} broke the stream off before its final event`))]);
    await server.close();
    server = undefined;
    expect(await listFiles(dir)).toEqual([]);
  });

  it('an upstream that breaks off while its client is not reading is named as the side that cut the stream', async () => {
    // Far more than the sockets hold, so the answer is still unfinished towards the client when the upstream goes.
    const event = `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content: 'x'.repeat(60_000) }, finish_reason: null }] })}\n\n`;
    upstream = await new FakeUpstream()
      .on('POST', '/v1/chat/completions', (_request, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(event.repeat(40));
        setImmediate(() => res.socket?.destroy());
      })
      .start();
    server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
    const response = await post(`${server.url}/v1/chat/completions`, { model: 'm', stream: true, messages: [] });
    // Not read: the client is there, and paused.
    await expect.poll(() => server!.app.journal.entries().map((entry) => entry.message)).toEqual([expect.stringMatching(new RegExp(`^not recorded: the upstream ${upstream.url} broke the stream off before its final event`))]);
    await response.body?.cancel();
    expect(await listFiles(dir)).toEqual([]);
  });

  it('a stream that ends cleanly but without its closing event is cut for the client and not recorded', async () => {
    const chunks = seed('gpt-5.1-chat', 'Streaming Response').response as unknown[];
    upstream = new FakeUpstream().on('POST', '/v1/chat/completions', (_r, res) => sendEvents(res, openAiSse(chunks).slice(0, 10)));
    await upstream.start();
    server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
    const reader = (await post(`${server.url}/v1/chat/completions`, streamRequest)).body!.getReader();
    let text = '';
    const read = async () => {
      for (let part = await reader.read(); !part.done; part = await reader.read()) text += new TextDecoder().decode(part.value);
    };
    // Every event arrives, then the connection breaks: never a clean end the client could take for the whole answer.
    await expect(read()).rejects.toThrow();
    expect(text.split('\n\n').filter(Boolean)).toHaveLength(10);
    const sdk = async () => {
      for await (const _chunk of await openai(server!).chat.completions.create(streamParams(seed('gpt-5.1-chat', 'Streaming Response'))));
    };
    await expect(sdk()).rejects.toThrow();
    await server.close();
    server = undefined;
    expect(await listFiles(dir)).toEqual([]);
  });

  it('a closing event the upstream ends its body on, with no blank line after it, reaches the client after the write', async () => {
    const chunks = seed('gpt-5.1-chat', 'Streaming Response').response as unknown[];
    const events = openAiSse(chunks);
    const body = `${events.slice(0, -1).join('')}data: [DONE]\n`;
    upstream = new FakeUpstream().on('POST', '/v1/chat/completions', (_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(body);
    });
    await upstream.start();
    server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
    // As sent, but for the ids (made deterministic): every event, and the [DONE] the body ended on.
    const text = await (await post(`${server.url}/v1/chat/completions`, streamRequest)).text();
    expect(text.split('\n\n')).toHaveLength(chunks.length + 1);
    expect(text.endsWith('}\n\ndata: [DONE]\n')).toBe(true);
    const [recording] = await recordingsIn(dir);
    expect(recording?.data.response.stream.done).toBe(true);
    expect(recording?.data.response.body).toHaveLength(chunks.length);
  });

  it('an NDJSON stream whose closing line ends the body without its newline is whole: passed on and recorded', async () => {
    const body = '{"model":"m","message":{"role":"assistant","content":"Hi"},"done":false}\n{"model":"m","message":{"role":"assistant","content":""},"done":true}';
    upstream = new FakeUpstream().on('POST', '/api/chat', (_r, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(body);
    });
    await upstream.start();
    server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
    expect(await (await post(`${server.url}/api/chat`, { model: 'm', messages: [{ role: 'user', content: 'Hi?' }] })).text()).toBe(body);
    const [recording] = await recordingsIn(dir);
    expect(recording?.data.response.body).toHaveLength(2);
  });

  it('replays Responses streams with their event: lines and no [DONE]', async () => {
    const events = responsesStream('You said: hi');
    upstream = await fakeOpenAi().start();
    server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
    const body = { model: 'gpt-4o', input: 'hi', stream: true };
    const recorded = await (await post(`${server.url}/v1/responses`, body)).text();
    // The upstream's ids are replaced by deterministic ones, for the client too.
    const realResponseId = (events[0] as unknown as { response: { id: string } }).response.id;
    expect(recorded).not.toContain(realResponseId);
    expect(recorded.replace(/"(resp|msg)_[0-9a-f]{40}"/g, '"ID"')).toBe(typedSse(events).join('').replace(/"(resp|msg)_[0-9a-z]+"/g, '"ID"'));
    await server.close();
    await upstream.stop();
    server = await serve({ mode: 'replay', recordings: dir });
    const replayed = await (await post(`${server.url}/v1/responses`, body)).text();
    expect(replayed).not.toContain('[DONE]');
    const [file] = await recordingsIn(dir);
    expect(file!.data.response.stream.events.map((e: { event: string }) => e.event)).toEqual(events.map((e) => e.type));
    // Same framing; only created_at is normalised in the file.
    expect(replayed).toBe(recorded.replaceAll('"created_at":1757525942', '"created_at":0'));
  });

  it('keeps comments, ids, retry and CRLF line endings of an unknown SSE API', async () => {
    const wire = [': ping\r\n\r\n', 'id: 1\r\nevent: tick\r\ndata: {"n":1}\r\n\r\n', 'retry: 500\r\ndata: {"n":2}\r\n\r\n', 'data: plain text\r\ndata: second line\r\n\r\n'];
    upstream = new FakeUpstream().on('GET', '/stream', (_r, res) => sendEvents(res, wire));
    await upstream.start();
    server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
    expect(await (await fetch(`${server.url}/stream`)).text()).toBe(wire.join(''));
    await server.close();
    await upstream.stop();
    server = await serve({ mode: 'replay', recordings: dir });
    expect(await (await fetch(`${server.url}/stream`)).text()).toBe(wire.join(''));
    const [file] = await recordingsIn(dir);
    expect(file!.data.response.body).toEqual([{ n: 1 }, { n: 2 }, 'plain text\nsecond line']);
  });
});
