// `Expect: 100-continue` (curl sends it for bodies over 1 MB, and many HTTP clients do):
// the client waits for "100 Continue" before its body; every mode must then forward,
// record and replay the request as any other. Raw HTTP, so the header is really sent.
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { listFiles, workspace } from './support/harness.js';

const ws = workspace();
const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(1_200_000) }] });

/** Sends the body only once the server has said "100 Continue", as curl does. */
function postExpecting(url: string): Promise<{ status: number; continued: boolean; text: string }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const sent = request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue', 'x-test-id': 'large' } }, (response) => {
      let text = '';
      response.on('data', (part: Buffer) => (text += part.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, continued, text }));
    });
    sent.on('continue', () => {
      continued = true;
      sent.end(body);
    });
    sent.on('error', reject);
  });
}

describe('Expect: 100-continue', () => {
  it('is forwarded and recorded in record, record-if-missing and live modes, and replayed in replay mode', async () => {
    const upstream = new FakeUpstream().on('POST', '/v1/chat/completions', (received, res) => sendJson(res, 200, { object: 'chat.completion', length: received.body.length, expect: received.headers['expect'] ?? null }));
    await upstream.start();
    ws.cleanup.push(() => upstream.stop());
    for (const mode of ['record', 'record-if-missing', 'live'] as const) {
      const server = await ws.start({ mode, upstream: upstream.url });
      const answer = await postExpecting(server.url);
      expect([mode, answer.status, answer.continued, JSON.parse(answer.text)]).toEqual([mode, 200, true, { object: 'chat.completion', length: body.length, expect: null }]);
      await server.close();
    }
    expect(upstream.calls()).toBe(2); // record-if-missing answered from the recording record mode made
    expect(await listFiles(ws.dir)).toHaveLength(1);
    await upstream.stop();
    const replayer = await ws.start({ mode: 'replay' });
    const replayed = await postExpecting(replayer.url);
    expect([replayed.status, replayed.continued, JSON.parse(replayed.text).length]).toEqual([200, true, body.length]);
  });
});
