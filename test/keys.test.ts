// Keys are the contract between a test suite and its recordings: pinned here so an
// accidental change fails, and checked against Python's own json.dumps for the
// llama-stack scheme.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyBody, type ClientRequest } from '../src/request/client-request.js';
import stableStringify from 'json-stable-stringify';
import { computeKey } from '../src/keys/index.js';
import { compileRules, type CompiledRules } from '../src/keys/rules.js';
import { parseLossless } from '../src/json/lossless.js';
import { pythonDumps } from '../src/json/python-dumps.js';
import { pythonFormatFixed, pythonRound } from '../src/json/python-float.js';

const vectors = JSON.parse(readFileSync(new URL('./fixtures/python-vectors.json', import.meta.url), 'utf8')) as {
  dumps: Array<{ input: string; python: string }>;
  keys: Array<{ method: string; path: string; body: string; test_id: string | null; key: string }>;
};

function request(method: string, path: string, body: string | undefined, testId: string | null = null, query = ''): ClientRequest {
  return { method, path, query, headers: {}, body: classifyBody(body === undefined ? undefined : Buffer.from(body), 'application/json'), testId, run: '' };
}

const context = { upstreamHost: 'api.openai.com' };
/** A keyed text written out by hand (a seed past a double's precision is written as its exact digits): a change of the scheme shows here. */
const PINNED_EXACT = createHash('sha256')
  .update('{"body":{"messages":[{"content":"Is 3.141592 bigger? score: 0.2","role":"user"}],"model":"m","seed":1234567890123456789e1,"temperature":0.7},"endpoint":"/v1/chat/completions","method":"POST"}')
  .digest('hex');

describe('Python-compatible JSON', () => {
  it.each(vectors.dumps.map((v) => [v.input.slice(0, 40), v] as const))('json.dumps(sort_keys=True) of %s', (_name, vector) => {
    expect(pythonDumps(parseLossless(vector.input))).toBe(vector.python);
  });

  it('rounds like Python: half to even on the exact binary value', () => {
    expect(pythonRound(0.015625, 5)).toBe(0.01562);
    expect(pythonRound(2.675, 2)).toBe(2.67);
    expect(pythonFormatFixed(1.000005, 5)).toBe('1.00001');
    expect(pythonFormatFixed(-0.0000001, 5)).toBe('-0.00000');
  });
});

describe('llama-stack key scheme', () => {
  it.each(vectors.keys.map((v) => [`${v.path} ${v.body.slice(0, 30)}`, v] as const))('matches Python for %s', (_name, vector) => {
    // The wire path a client calls; llama-stack's recorder keys it with /v1 doubled.
    const wirePath = vector.path.replace(/\/v1\/(chat\/completions|completions|embeddings|models|responses)$/, '/$1');
    const key = computeKey('llama-stack', request('POST', wirePath, vector.body, vector.test_id), context);
    expect(key.keyedPath).toBe(vector.path);
    expect(key.key).toBe(vector.key);
  });

  it('reproduces seed 004: the file name is the key of its request and test id', () => {
    const file = JSON.parse(readFileSync(new URL('./fixtures/llama-stack-seed-004.json', import.meta.url), 'utf8'));
    const body = JSON.stringify(file.request.body);
    const key = computeKey('llama-stack', request('POST', '/v1/chat/completions', body, file.test_id), context);
    expect(key.key).toBe('302b9a7e33b5e584ddffd841d097425b4026d50c61ddf894b8e9dfa73a4e533f');
    expect(key.endpoint).toBe('/v1/chat/completions');
  });

  it('keys a model listing as POST with body {} and no test id only on the shared endpoints', () => {
    const list = computeKey('llama-stack', request('GET', '/v1/models', undefined, 't'), context);
    expect(list.method).toBe('POST');
    expect(list.storedBody()).toEqual({});
    expect(list.modelList).toBe(true);
    expect(list.normalized()).toHaveProperty('test_id', 't');
    const tags = computeKey('llama-stack', request('GET', '/api/tags', undefined, 't'), context);
    expect(tags.normalized()).not.toHaveProperty('test_id');
  });
});

describe('default key scheme', () => {
  const key = (body: string, testId: string | null = null, query = '', rules?: CompiledRules) =>
    computeKey('default', request('POST', '/v1/chat/completions', body, testId, query), { ...context, ...(rules ? { rules } : {}) }).key;

  it('is SHA-256 of the canonical JSON of {body, endpoint, method, query?, test_id?}', () => {
    const documented = '{"body":{"model":"gpt-4o","prompt":"Is 3.141592 bigger? score: 0.2","temperature":0.123456789},"endpoint":"/v1/chat/completions","method":"POST","query":"a=1&b=2","test_id":"test_a"}';
    expect(key('{"temperature":0.123456789, "prompt": "Is 3.141592 bigger? score: 0.2", "model":"gpt-4o"}', 'test_a', 'b=2&a=1&key=secret')).toBe(createHash('sha256').update(documented).digest('hex'));
  });

  it('never rewrites strings: prompts that differ get different keys', () => {
    const prompt = (text: string) => key(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: text }] }));
    expect(prompt('Is 3.141592 bigger than 3.141594?')).not.toBe(prompt('Is 3.141590 bigger than 3.141589?'));
    expect(prompt('score: 0.2')).not.toBe(prompt('score: 0.95'));
    expect(prompt('document_id: 0a1b2c3d-4e5f-6789-abcd-ef0123456789')).not.toBe(prompt('document_id: 1a1b2c3d-4e5f-6789-abcd-ef0123456789'));
    expect(prompt('a, attributes: {x: 1}')).not.toBe(prompt('a'));
  });

  it('keys numbers by their exact value, however they are spelled', () => {
    const same = [
      ['0.7', '0.70', '7e-1', '70E-2', '0.7000000000000000000000'],
      ['1', '1.0', '1e0', '10e-1'],
      ['0', '-0', '0.0', '0e5'],
      ['100', '1e2', '1E+2'],
    ];
    for (const spellings of same) expect(new Set(spellings.map((n) => key(`{"x": ${n}}`))).size, spellings.join(' ')).toBe(1);
    const different = ['0.1', '0.10000000000000000001', '12345678901234567890', '12345678901234567891', '1e400', '2e400', '-1e400', '1e-400', '0', '9007199254740993', '9007199254740992', 'null'];
    expect(new Set(different.map((n) => key(`{"x": ${n}}`))).size).toBe(different.length);
  });

  it('drops nothing: extra_body.project_id and stream_options are keyed like any other field', () => {
    expect(key('{"extra_body": {"project_id": "p"}}')).not.toBe(key('{"extra_body": {}}'));
    expect(computeKey('default', request('POST', '/v1/x', '{"stream_options": {"include_usage": true}}'), { upstreamHost: 'bedrock-runtime.amazonaws.com' }).key).not.toBe(
      computeKey('default', request('POST', '/v1/x', '{}'), { upstreamHost: 'bedrock-runtime.amazonaws.com' }).key,
    );
  });

  it("keeps a member named __proto__ (as JSON.parse does) and reads duplicate members as JSON.parse does (the last wins)", () => {
    expect(key('{"__proto__": {"a": 1}, "b": 2}')).not.toBe(key('{"b": 2}'));
    expect(key('{"a": 1, "a": 2}')).toBe(key('{"a": 2}'));
    expect(key('{"a": 1e400, "a": 5}')).toBe(key('{"a": 5}'));
  });

  it("opts into llama-stack's string rules through a normalisation rule", () => {
    const rules = compileRules([{ strings: 'llama-stack' }]);
    const prompt = (text: string, with_?: CompiledRules) => key(JSON.stringify({ messages: [{ role: 'user', content: text }] }), null, '', with_);
    expect(prompt('Is 3.141592 bigger than 3.141594?', rules)).toBe(prompt('Is 3.141590 bigger than 3.141589?', rules));
    expect(prompt('score: 0.2', rules)).toBe(prompt('score: 0.95', rules));
    expect(prompt('score: 0.2', rules)).not.toBe(prompt('score: 0.2'));
  });

  it('does not depend on key order or whitespace', () => {
    const a = computeKey('default', request('POST', '/v1/chat/completions', '{"model": "m", "temperature": 1.0, "n": 1}'), context);
    const b = computeKey('default', request('POST', '/v1/chat/completions', '{"n":1,"temperature":1,"model":"m"}'), context);
    expect(a.key).toBe(b.key);
  });

  it('pinned values', () => {
    const pinned: Array<[ClientRequest, string]> = [
      [request('POST', '/v1/chat/completions', '{"model":"openai/gpt-5.1-chat","messages":[{"content":"What are the three laws of thermodynamics?","role":"user"}]}'), '189aab0900f2bea51167f2943b64330c6b8d4f89b5bc74672ae7166c81a57b59'],
      [request('GET', '/v1/models', undefined), 'c6d868d8e2ea523d5f4156a651b08f9abb7d2a22b5565947f8c9143c2e1e97d6'],
      [request('POST', '/v1/embeddings', '{"model":"text-embedding-3-small","input":"hello"}', 'tests/test_embed.py::test_one'), 'fb6152f36f0310ab7c9a42e2c4a6015be70a0a86e97de84fcb63dc308ab0d371'],
      [request('POST', '/v1beta/models/gemini-2.0-flash:streamGenerateContent', '{"contents":[]}', null, 'alt=sse&key=AIzaSecret'), '903b24acf4934ff66ef52a9349ec60a762ef3a215d15ccb54c4d6c567428ca6a'],
      [{ ...request('PUT', '/v1/files', undefined), body: classifyBody(Buffer.from([0, 1, 2]), 'application/octet-stream') }, 'ca9766b178c6798509d2bd996d6d523f3f7f2e78756a36703c300b38b4920a5e'],
      [request('POST', '/v1/chat/completions', '{"model":"m","temperature":0.7,"seed":12345678901234567890,"messages":[{"role":"user","content":"Is 3.141592 bigger? score: 0.2"}]}'), PINNED_EXACT],
    ];
    for (const [req, expected] of pinned) expect(computeKey('default', req, context).key, `${req.method} ${req.path}`).toBe(expected);
  });

  it('the keyed text equals json-stable-stringify of the keyed object, on random bodies', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
    const strings = ['', 'plain', 'pi is 3.14159265 and -2.000049', 'score: 0.87 here', 'x, attributes: {a: 1} y', 'document_id: 0a1b2c3d-4e5f-6789-abcd-ef0123456789', '<|0a1b2c3d-4e5f-6789-abcd-ef0123456789|>', 'ünïcödé 🙂', '١٢.٣٤٥٦٧', '"quoted"\n', '\u2028\ud800'];
    const value = (depth: number): unknown => {
      const kind = depth > 3 ? pick(['s', 'n', 'f', 'b', 'z']) : pick(['s', 'n', 'f', 'b', 'z', 'a', 'o', 'o']);
      if (kind === 's') return pick(strings);
      if (kind === 'n') return pick([0, 1, -7, 2 ** 53, 1e21]);
      if (kind === 'f') return pick([0.1, 0.015625, 2.675, -1e-7, 123.456789, 1.5e300, 5e-324]);
      if (kind === 'b') return random() < 0.5;
      if (kind === 'z') return null;
      if (kind === 'a') return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      const object: Record<string, unknown> = {};
      for (const name of Array.from({ length: Math.floor(random() * 5) }, () => pick(['a', 'B', '10', '2', 'é', 'extra_body', 'stream_options', 'project_id', 'z_z', '🙂', '\uffff']))) object[name] = value(depth + 1);
      return object;
    };
    for (let i = 0; i < 500; i++) {
      const body = JSON.stringify(value(0));
      const computed = computeKey('default', request('POST', '/v1/x', body, i % 2 ? 't' : null, i % 3 ? '' : 'b=1&a=2'), context);
      expect(computed.key, body).toBe(createHash('sha256').update(stableStringify(computed.normalized()) ?? '').digest('hex'));
    }
  });

  it('leaves secrets out of the query it keys', () => {
    const withKey = computeKey('default', request('GET', '/v1/models', undefined, null, 'key=abc&alt=sse'), context);
    const without = computeKey('default', request('GET', '/v1/models', undefined, null, 'alt=sse'), context);
    expect(withKey.key).toBe(without.key);
  });
});
