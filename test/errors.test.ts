// llm-replay's own errors: one catalogue (src/errors.ts) that the README lists, each
// thrown and rendered by the server's error handler in the dialect of the caller's SDK.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { createServer } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import { Ollama } from 'ollama';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../src/errors.js';
import { keyOfRecording } from '../src/keys/index.js';
import type { Recording } from '../src/recordings/recording.js';
import { json, listFiles, openai, workspace } from './support/harness.js';

const ws = workspace();
const README = new URL('../README.md', import.meta.url);

describe('the error catalogue', () => {
  it("is the README's table of codes, status and type", () => {
    const rows = [...readFileSync(README, 'utf8').matchAll(/^\| `(llm_replay_[a-z_]+)` \| (\d+) \| `([a-z_]+)` \| (.+) \|$/gm)];
    const listed = Object.fromEntries(rows.map(([, code, status, type, when]) => [code, { status: Number(status), type, when }]));
    expect(listed).toEqual(ERROR_CATALOGUE);
  });
});

describe('a miss in the dialect of each SDK', () => {
  const chat = { model: 'gpt-x', messages: [{ role: 'user' as const, content: 'never recorded' }] };

  it('openai: the code and type in its error object', async () => {
    const server = await ws.start({ mode: 'replay' });
    const error = (await openai(server).chat.completions.create(chat).catch((e: unknown) => e)) as { status: number; code: string; type: string };
    expect(error).toMatchObject({ status: 404, code: 'llm_replay_recording_not_found', type: 'llm_replay_miss' });
  });

  it('anthropic: "type": "error" around it, as Anthropic sends it', async () => {
    const server = await ws.start({ mode: 'replay' });
    const client = new Anthropic({ baseURL: server.url, apiKey: 'sk-test', maxRetries: 0 });
    const error = (await client.messages.create({ model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'never recorded' }] }).catch((e: unknown) => e)) as { status: number; error: unknown };
    expect(error.status).toBe(404);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'llm_replay_miss', code: 'llm_replay_recording_not_found', message: expect.stringContaining('llm-replay: no recording') } });
  });

  it("ollama: the message as the error string its SDK raises", async () => {
    const server = await ws.start({ mode: 'replay' });
    const error = (await new Ollama({ host: server.url }).chat({ model: 'llama-x', messages: [{ role: 'user', content: 'never recorded' }] }).catch((e: unknown) => e)) as Error & { status_code: number };
    expect(error.status_code).toBe(404);
    expect(error.message).toMatch(/^llm-replay: no recording for POST \/api\/chat/);
  });

  it('gemini: a Google status, the code as its ErrorInfo reason', async () => {
    const server = await ws.start({ mode: 'replay' });
    const response = await fetch(`${server.url}/v1beta/models/gemini-x:generateContent`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"contents": []}' });
    expect(response.status).toBe(404);
    expect((await json(response)).error).toMatchObject({ code: 404, status: 'NOT_FOUND', message: expect.stringContaining('llm-replay: no recording'), details: [{ reason: 'llm_replay_recording_not_found', domain: 'llm-replay' }] });
  });

  it('a path the router cannot decode is llm_replay_bad_path, in the dialect of its path, like other bad paths', async () => {
    const server = await ws.start({ mode: 'replay' });
    const openaiPath = await fetch(`${server.url}/v1/chat/%ZZ?key=secret`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(openaiPath.status).toBe(400);
    expect(await json(openaiPath)).toEqual({ error: { message: 'llm-replay: the path of POST /v1/chat/%ZZ has a malformed percent-encoding; it is not forwarded', type: 'invalid_request_error', param: null, code: 'llm_replay_bad_path' } });
    expect(openaiPath.headers.get('x-content-type-options')).toBe('nosniff');
    const anthropic = await fetch(`${server.url}/v1/messages/%ZZ`, { method: 'POST', body: '{}' });
    expect(await json(anthropic)).toMatchObject({ type: 'error', error: { code: 'llm_replay_bad_path', message: expect.stringContaining('/v1/messages/%ZZ has a malformed percent-encoding') } });
    expect((await fetch(`${server.url}/_llm-replay/health`)).status).toBe(200);
  });

  it('the admin endpoints answer OpenAI-shaped, whatever their path looks like', async () => {
    const server = await ws.start({ mode: 'replay' });
    const response = await fetch(`${server.url}/_llm-replay/api/journal?after=x`);
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: { message: 'llm-replay: after: must be a whole number', type: 'invalid_request_error', param: 'after', code: 'llm_replay_bad_inspector_query' } });
  });
});

describe("record mode's own errors in the dialect of each SDK", () => {
  it('an upstream that cannot be reached: Ollama raises with the message, Anthropic reads its own error shape', async () => {
    const server = await ws.start({ mode: 'record', upstream: 'http://127.0.0.1:9' });
    const ollama = (await new Ollama({ host: server.url }).chat({ model: 'llama-x', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as Error & { status_code: number };
    expect(ollama.status_code).toBe(502);
    expect(ollama.message).toMatch(/^llm-replay: the upstream http:\/\/127\.0\.0\.1:9 failed: /);
    const anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-test', maxRetries: 0 });
    const error = (await anthropic.messages.create({ model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as { status: number; error: unknown };
    expect(error.status).toBe(502);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'upstream_error', code: 'llm_replay_upstream_error', message: expect.stringContaining('llm-replay: the upstream') } });
  });

  it('a fault on a request whose upstream cannot be reached: the same error, in the same dialect', async () => {
    const server = await ws.start({ mode: 'record', upstream: 'http://127.0.0.1:9' });
    const ollama = new Ollama({ host: server.url, headers: { 'x-llm-replay-fault': 'latency=10ms' } });
    const error = (await ollama.chat({ model: 'llama-x', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as Error & { status_code: number };
    expect(error.status_code).toBe(502);
    expect(error.message).toMatch(/^llm-replay: the upstream http:\/\/127\.0\.0\.1:9 failed: /);
  });

  it('an upstream that goes silent in the middle of a whole answer: 504, saying so, nothing recorded', async () => {
    const halting = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"id":"chatcmpl-1",');
    });
    await new Promise<void>((resolve) => halting.listen(0, '127.0.0.1', resolve));
    ws.cleanup.push(() => new Promise((resolve) => halting.close(resolve)));
    halting.on('connection', (socket) => ws.cleanup.push(async () => socket.destroy()));
    const server = await ws.start({ mode: 'record', upstream: `http://127.0.0.1:${(halting.address() as { port: number }).port}`, upstreamTimeoutMs: 200 });
    const answer = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [] }) });
    expect(answer.status).toBe(504);
    const body = (await json(answer)) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('llm_replay_upstream_error');
    expect(body.error.message).toContain('went silent in the middle of its answer for longer than --upstream-timeout');
    expect((await listFiles(ws.dir)).filter((file) => file.endsWith('.json'))).toEqual([]);
  });

  it('identical requests of two runs at once in record-if-missing: the one that waited gets the same status as the one that asked', async () => {
    // An upstream that never answers: both wait past --upstream-timeout.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    ws.cleanup.push(() => new Promise((resolve) => silent.close(resolve)));
    silent.on('connection', (socket) => ws.cleanup.push(async () => socket.destroy()));
    const server = await ws.start({ mode: 'record-if-missing', upstream: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, upstreamTimeoutMs: 200 });
    const ask = (run: string) => fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-llm-replay-run': run }, body: JSON.stringify({ model: 'm', messages: [] }) });
    const answers = await Promise.all([ask('a'), ask('b')]);
    expect(answers.map((answer) => answer.status)).toEqual([504, 504]);
    const bodies = (await Promise.all(answers.map(json))) as Array<{ error: { code: string; message: string } }>;
    expect(bodies.map((body) => body.error.code)).toEqual(['llm_replay_upstream_error', 'llm_replay_upstream_error']);
    expect(bodies.filter((body) => body.error.message.includes('an identical request'))).toHaveLength(1);
  });
});

describe("the admin plugin's bodies and route schemas", () => {
  const putMode = (url: string, body: string, headers: Record<string, string> = {}) => fetch(`${url}/_llm-replay/mode`, { method: 'PUT', headers, body });

  it('reads JSON whatever the content type, and answers a schema failure or a body that is not JSON with the route\'s own code and hint', async () => {
    const server = await ws.start({ mode: 'replay' });
    expect(await json(await putMode(server.url, '{"mode": "live"}'))).toEqual({ mode: 'live', previous: 'replay' });
    expect(await json(await putMode(server.url, '{"mode": "replay"}', { 'content-type': 'application/json' }))).toEqual({ mode: 'replay', previous: 'live' });
    const wrong = await putMode(server.url, '{"mode": "sometimes"}', { 'content-type': 'application/json' });
    expect(wrong.status).toBe(400);
    expect((await json(wrong)).error).toMatchObject({ code: 'llm_replay_bad_mode', param: 'mode', message: expect.stringMatching(/^llm-replay: mode: .*; send \{"mode": one of replay, record/) });
    const broken = await putMode(server.url, '{"mode": ');
    expect(broken.status).toBe(400);
    expect((await json(broken)).error).toMatchObject({ code: 'llm_replay_bad_mode', message: expect.stringContaining('the body is not JSON') });
    const reset = await fetch(`${server.url}/_llm-replay/occurrences/reset`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    expect(await json(reset)).toEqual({ reset: 0 });
  });
});

describe('a recording file that cannot be read', () => {
  it('answers 500 naming it, with x-should-retry: false, so an SDK that retries 500s asks once', async () => {
    const body = { model: 'gpt-x', messages: [{ role: 'user', content: 'broken file' }] };
    const recording: Recording = {
      test_id: null,
      request: { method: 'POST', url: 'https://api.openai.com/v1/chat/completions', headers: {}, body, endpoint: '/v1/chat/completions', model: 'gpt-x' },
      response: { body: null, is_streaming: false },
      id_normalization_mapping: {},
    };
    const file = `${await keyOfRecording('default', recording)}.json`;
    await writeFile(path.join(ws.dir, file), '{"request": {"method": "POST"');
    const server = await ws.start({ mode: 'replay' });
    // The SDK's own default: two retries of a 500 unless told not to.
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 2 });
    const error = (await client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming).catch((e: unknown) => e)) as { status: number; code: string; headers: Headers; message: string };
    expect(error).toMatchObject({ status: 500, code: 'llm_replay_bad_recording' });
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/not valid JSON \(.+\); mend it, or delete it and record it again \(record-if-missing records only what is missing\); llm-replay verify lists every such file$/);
    expect(error.headers.get('x-should-retry')).toBe('false');
    const journal = (await json(await fetch(`${server.url}/_llm-replay/api/journal`))) as { items: unknown[] };
    expect(journal.items).toHaveLength(1);
  });
});
