// Keying is linear in the body, in both schemes: bodies of millions of characters
// built to make backtracking regexes take time in the square of their length are
// keyed, and a server keys large bodies off its own thread, answering others meanwhile. (How long keying
// takes, from 1 KB to 10 MB, is measured by the benchmark through keyRequest.)
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { computeKey, keyRequest } from '../../src/keys/index.js';
import { classifyBody } from '../../src/request/client-request.js';
import { FakeUpstream, sendJson } from '../support/fake-upstream.js';
import { listFiles, workspace } from '../support/harness.js';

const ws = workspace();

/** Prompts of a few MB that a backtracking normaliser would take minutes on. */
const adversarial = [
  `${'9'.repeat(5_000_000)}.`,
  ' '.repeat(5_000_000),
  `${'٣'.repeat(2_000_000)}.٣`,
  `score:${'1'.repeat(3_000_000)}.`,
  'attributes: {'.repeat(300_000),
];
const chat = (content: string) => Buffer.from(JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] }));

describe('keying large adversarial bodies', () => {
  it.each(adversarial.map((text) => [`${JSON.stringify(text.slice(0, 12))}... (${text.length} characters)`, text] as const))('%s keys in both schemes', async (_name, text) => {
    for (const scheme of ['default', 'llama-stack'] as const) {
      const key = await keyRequest(scheme, { method: 'POST', url: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: chat(text) });
      expect(key.key).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('a 10 MB number keys by its exact value', () => {
    const request = (text: string) => ({ method: 'POST', path: '/v1/x', query: '', headers: {}, body: classifyBody(Buffer.from(text), 'application/json'), testId: null, run: '' });
    const big = `{"n": ${'7'.repeat(5_000_000)}.${'3'.repeat(5_000_000)}}`;
    const bigger = `{"n": ${'7'.repeat(5_000_000)}.${'3'.repeat(4_999_999)}4}`;
    const context = { upstreamHost: '' };
    expect(computeKey('default', request(big), context).key).not.toBe(computeKey('default', request(bigger), context).key);
    expect(computeKey('llama-stack', request(big), context).key).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each(['default', 'llama-stack'] as const)('a %s-scheme server keys a large body off its own thread: small requests are answered while it is keyed', async (keyScheme) => {
    const upstream = await new FakeUpstream().on('POST', '/v1/chat/completions', (req, res) => sendJson(res, 200, { length: req.body.length })).start();
    ws.cleanup.push(() => upstream.stop());
    // Numbers with many digits: slow to key in either scheme (each is read exactly), a few MB.
    const large = Buffer.from(`{"model":"m","messages":[{"role":"user","content":"hi"}],"x":[${Array.from({ length: 200_000 }, (_, i) => 0.123456789 + i).join(',')}]}`);
    const small = chat('hello');
    const send = (url: string, body: Buffer) => request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url, keyScheme });
    for (const body of [small, large]) await (await send(recorder.url, body)).body.text();
    await recorder.close();
    // The file the keying thread named is the key this thread computes for the same request.
    const here = await keyRequest(keyScheme, { method: 'POST', url: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: large });
    expect(await listFiles(ws.dir)).toContain(`${here.key}.json`);

    const server = await ws.start({ mode: 'replay', keyScheme });
    const keyThread = server.app.keyThread;
    const order: string[] = [];
    const largeAnswer = send(server.url, large).then(async (answer) => {
      order.push('large');
      return answer.body.json();
    });
    // Once the large body is being keyed, a small request is answered all the same, before it.
    while (keyThread.busy === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(await (await send(server.url, small)).body.json()).toEqual({ length: small.length });
    order.push('small');
    // The key the thread computed is the recording's: the large request is a hit.
    expect(await largeAnswer).toEqual({ length: large.length });
    expect(order).toEqual(['small', 'large']);
  });
});
