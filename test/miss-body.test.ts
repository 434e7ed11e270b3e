// A miss whose body was not read as JSON says so first (malformed JSON, or JSON sent
// without a JSON content type, as curl -d sends it), and the nearest recording is
// compared like with like: JSON with JSON, bytes with bytes.
import { describe, expect, it } from 'vitest';
import { counterUpstream } from './support/counter-upstream.js';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { json, workspace } from './support/harness.js';
import type { RunningServer } from '../src/index.js';

const ws = workspace();
const chat = { model: 'gpt-4o-mini', temperature: 0.5, messages: [{ role: 'user', content: 'What are the three laws of thermodynamics?' }] };

async function recordChat(): Promise<RunningServer> {
  const upstream = await counterUpstream().start();
  ws.cleanup.push(() => upstream.stop());
  const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
  await (await fetch(`${recorder.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat) })).text();
  await recorder.close();
  const replayer = await ws.start({ mode: 'replay' });
  await replayer.catalogue.build();
  return replayer;
}

async function missMessage(server: RunningServer, body: string | Buffer, headers: Record<string, string>, path = '/v1/chat/completions'): Promise<string[]> {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body });
  expect(response.status).toBe(404);
  return ((await json(response)).error.message as string).split('\n');
}

describe('a miss whose body was not JSON', () => {
  it('JSON sent as a form (curl -d): says so first, and would match when sent as JSON', async () => {
    const server = await recordChat();
    const lines = await missMessage(server, JSON.stringify(chat), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(lines[0]).toBe(
      'llm-replay: The request body is JSON, but its Content-Type is "application/x-www-form-urlencoded", so it is keyed by its bytes, not as JSON: send it with Content-Type: application/json (curl -d sends application/x-www-form-urlencoded unless given -H \'content-type: application/json\').',
    );
    expect(lines[1]).toMatch(/^llm-replay: no recording for POST \/v1\/chat\/completions/);
    expect(lines).toContain('  nothing in its body: sent as JSON, the request would match it.');
    // The way out is the client's header, not a recording of these bytes.
    expect(lines.at(-2)).toBe('Mend how the client sends the body first (above). Only if these bytes are what the test means to send: to record it, run llm-replay with --mode record-if-missing (LLM_REPLAY_MODE=record-if-missing) and give the client its real API key.');
  });

  it('JSON sent as text/plain with a field changed: the diff is JSON against JSON', async () => {
    const server = await recordChat();
    const lines = await missMessage(server, JSON.stringify({ ...chat, temperature: 0.7 }), { 'content-type': 'text/plain' });
    expect(lines[0]).toContain('its Content-Type is "text/plain"');
    const nearest = lines.indexOf(lines.find((l) => l.startsWith('Nearest recording:'))!);
    expect(lines.slice(nearest + 1, nearest + 2)).toEqual(['  body.temperature: recorded 0.5, requested 0.7']);
  });

  it('malformed JSON, with a JSON content type or none: says so first, naming the parse error', async () => {
    const server = await recordChat();
    const typed = await missMessage(server, '{"model": "gpt-4o-mini",', { 'content-type': 'application/json' });
    expect(typed[0]).toMatch(/^llm-replay: The request body was not read as JSON: its Content-Type says JSON but it is not valid JSON \(.+\), so it is keyed by its bytes\.$/);
    const untyped = await missMessage(server, Buffer.from('{"model": oops}'), {});
    expect(untyped[0]).toMatch(/^llm-replay: The request body was not read as JSON: it had no Content-Type and it is not valid JSON/);
    // The nearest recording's JSON is not taken apart against bytes: the whole body differs, said once.
    const nearest = typed.indexOf(typed.find((l) => l.startsWith('Nearest recording:'))!);
    expect(nearest).toBeGreaterThan(0);
    expect(typed.slice(nearest + 1).filter((l) => l.startsWith('  '))).toEqual(['  body: recorded as JSON, requested 24 bytes of application/json that are not JSON']);
  });

  it('bytes are compared with bytes: their type, size and digest', async () => {
    const upstream = new FakeUpstream().on('PUT', '/v1/files/upload', (request, res) => sendJson(res, 200, { size: request.body.length }));
    await upstream.start();
    ws.cleanup.push(() => upstream.stop());
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    await (await fetch(`${recorder.url}/v1/files/upload`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([1, 2, 3]) })).text();
    await recorder.close();
    const server = await ws.start({ mode: 'replay' });
    await server.catalogue.build();
    const response = await fetch(`${server.url}/v1/files/upload`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([1, 2, 3, 4]) });
    const message = (await json(response)).error.message as string;
    expect(message.split('\n')[0]).toMatch(/^llm-replay: no recording for PUT/);
    expect(message).toContain('body.bytes.size: recorded 3, requested 4');
    expect(message).toMatch(/body\.bytes\.sha256: recorded "[0-9a-f]{64}", requested "[0-9a-f]{64}"/);
  });
});
