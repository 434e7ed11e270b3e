// The test id and run in the base URL's path (/_llm-replay/t/<run>/<test id>/v1/...),
// for clients that read only a base URL: keyed and counted exactly as the headers are.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { answerText, counterUpstream } from './support/counter-upstream.js';
import { listFiles, readJson, workspace } from './support/harness.js';
import { parseTestIdPath, testIdPathPrefix } from '../src/request/test-id-path.js';
import { testIdFrom } from '../src/request/test-id.js';
import type { RunningServer } from '../src/index.js';
import { connect } from 'node:net';
import path from 'node:path';

const ws = workspace();
const poll = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Is the job done yet?' }] };
const testId = 'tests/test_chat.py::test_poll[a b/c?d%]';

function viaPath(server: RunningServer, id: string, run?: string): OpenAI {
  return new OpenAI({ baseURL: `${server.url}${testIdPathPrefix(id, run)}/v1`, apiKey: 'sk-test', maxRetries: 0 });
}

function viaHeaders(server: RunningServer, id: string): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-test-id': id } });
}

async function ask(client: OpenAI): Promise<string> {
  return (await client.chat.completions.create(poll)).choices[0]?.message.content ?? '';
}

describe('the test id in the path', () => {
  it('parses back what it formats, and leaves other URLs alone', () => {
    expect(parseTestIdPath(`${testIdPathPrefix(testId, 'run 1')}/v1/models?x=1`)).toEqual({ testId, run: 'run 1', url: '/v1/models?x=1' });
    expect(parseTestIdPath(`${testIdPathPrefix('ünï/cödé')}/v1`)).toEqual({ testId: 'ünï/cödé', run: '', url: '/v1' });
    expect(parseTestIdPath('/v1/chat/completions')).toBeUndefined();
    expect(parseTestIdPath('/_llm-replay/t/run-only')).toBeUndefined();
    expect(parseTestIdPath('/_llm-replay/t/r/%E0%A4%A/v1')).toBeUndefined();
  });

  it('records under the test id, replays what the X-Test-Id header recorded, and counts occurrences per run', async () => {
    const upstream = await counterUpstream().start();
    ws.cleanup.push(() => upstream.stop());
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    const recording = viaPath(recorder, testId, 'r1');
    expect([await ask(recording), await ask(recording)]).toEqual([answerText(1), answerText(2)]);
    await recorder.close();
    await upstream.stop();
    const files = (await listFiles(ws.dir)).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(2);
    // Nothing of the prefix reached the upstream or the file: the path is the client's own.
    const first = await readJson(path.join(ws.dir, files.find((f) => /^[0-9a-f]{64}\.json$/.test(f))!));
    expect(first.test_id).toBe(testId);
    expect(first.request.url).toMatch(/\/v1\/chat\/completions$/);
    expect(upstream.received.map((r) => r.url)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    expect(upstream.received.every((r) => r.headers['x-test-id'] === undefined)).toBe(true);

    const replayer = await ws.start({ mode: 'replay' });
    // The same key as the header gives.
    expect(await ask(viaHeaders(replayer, testId))).toBe(answerText(1));
    // Each run has its own counts: r2 starts from the first answer.
    const r2 = viaPath(replayer, testId, 'r2');
    expect([await ask(r2), await ask(r2)]).toEqual([answerText(1), answerText(2)]);
    const other = viaPath(replayer, 'another test', 'r2');
    await expect(ask(other)).rejects.toThrow(/another test/);
  });
});

/** A chat request with X-Test-Id sent as the UTF-8 bytes of `id` (fetch and undici refuse such a header), over a raw socket. */
async function askWithRawTestId(server: RunningServer, id: string): Promise<string> {
  const { port } = new URL(server.url);
  const body = Buffer.from(JSON.stringify(poll));
  const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer sk-test\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\nx-test-id: `;
  const socket = connect(Number(port), '127.0.0.1');
  socket.write(Buffer.concat([Buffer.from(head), Buffer.from(id, 'utf8'), Buffer.from('\r\n\r\n'), body]));
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('a non-ASCII test id in X-Test-Id', () => {
  it('is read as the UTF-8 its bytes are, the same test id as in the path', async () => {
    const id = 'tests/ünï.py::test_ok[\u202e]';
    const upstream = await counterUpstream().start();
    ws.cleanup.push(() => upstream.stop());
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    expect(await askWithRawTestId(recorder, id)).toMatch(/^HTTP\/1\.1 200/);
    await recorder.close();
    await upstream.stop();
    const [file] = (await listFiles(ws.dir)).filter((f) => f.endsWith('.json'));
    expect((await readJson(path.join(ws.dir, file!))).test_id).toBe(id);

    const replayer = await ws.start({ mode: 'replay' });
    expect(await ask(viaPath(replayer, id))).toBe(answerText(1));
    expect(await askWithRawTestId(replayer, id)).toContain(answerText(1));
  });

  it('in the path, is kept as it is when its characters look like UTF-8 read as Latin-1 (Ã¼): the same test id as in the header', async () => {
    // As Latin-1 bytes, C3 BC, valid UTF-8 for ü: only sent as its UTF-8 bytes is it read back as Ã¼.
    const id = 'tests/\u00c3\u00bc.py::test_ok';
    const upstream = await counterUpstream().start();
    ws.cleanup.push(() => upstream.stop());
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    expect(await ask(viaPath(recorder, id))).toBe(answerText(1));
    await recorder.close();
    await upstream.stop();
    const [file] = (await listFiles(ws.dir)).filter((f) => f.endsWith('.json'));
    expect((await readJson(path.join(ws.dir, file!))).test_id).toBe(id);

    const replayer = await ws.start({ mode: 'replay' });
    expect(await askWithRawTestId(replayer, id)).toContain(answerText(1));
    expect(await ask(viaPath(replayer, id))).toBe(answerText(1));
  });

  it('is read as UTF-8 wherever Node read it as Latin-1, and left as it was read when its bytes are not UTF-8 (a client that sent ü as the Latin-1 byte)', () => {
    expect(testIdFrom({ 'x-test-id': 't\u00fcst' })).toEqual({ testId: 'tüst' });
    expect(testIdFrom({ 'x-test-id': 'tests/\u00c3\u00bcn.py::t' })).toEqual({ testId: 'tests/ün.py::t' });
    expect(testIdFrom({ 'x-llamastack-provider-data': '{"__test_id": "\u00c3\u00bc"}' })).toEqual({ testId: 'ü' });
  });
});
