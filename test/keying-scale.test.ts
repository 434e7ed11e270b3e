// Keying is linear in the body, in both schemes: bodies of millions of characters
// built to make backtracking regexes take time in the square of their length are
// keyed, and a server keying a 10 MB one keeps answering others. (How long keying
// takes, from 1 KB to 10 MB, is measured by the benchmark through keyRequest.)
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { computeKey, keyRequest } from '../src/keys/index.js';
import { classifyBody } from '../src/request/client-request.js';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { workspace } from './support/harness.js';

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

  it.each(['default', 'llama-stack'] as const)('a %s-scheme server keying a 10 MB adversarial body keeps answering a small request', async (keyScheme) => {
    const upstream = await new FakeUpstream().on('POST', '/v1/chat/completions', (req, res) => sendJson(res, 200, { length: req.body.length })).start();
    ws.cleanup.push(() => upstream.stop());
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url, keyScheme });
    const small = chat('hello');
    await (await request(`${recorder.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: small })).body.text();
    await recorder.close();
    const server = await ws.start({ mode: 'replay', keyScheme });
    const huge = request(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chat(`${'1'.repeat(10_000_000)}.`) });
    const answers = await Promise.all(Array.from({ length: 5 }, () => request(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: small })));
    for (const answer of answers) expect(await answer.body.json()).toEqual({ length: small.length });
    const missed = await huge;
    expect(missed.statusCode).toBe(404);
    expect(((await missed.body.json()) as { error: { message: string } }).error.message).toContain('no recording for POST /v1/chat/completions');
  });
});
