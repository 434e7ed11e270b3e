// Credentials whatever their name: query parameters and headers whose name says they
// hold a secret never reach a recording, a log line or a state file, nor do their
// values echoed back by the upstream in any encoding the request carried them in, split
// across stream events, or as a JSON member name; and verify finds each of these.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeUpstream, openAiSse, sendEvents, sendJson } from './support/fake-upstream.js';
import { capturedLog, listFiles, removeDir, serve, tempDir } from './support/harness.js';
import { findCredentials } from '../src/secrets/credentials.js';
import { verifyRecordings } from '../src/cli/commands/verify.js';
import { canonicalQuery, redactUrl, requestSecrets, scrubRecorded } from '../src/secrets/redact.js';

let dir: string;
let upstream: FakeUpstream;

beforeEach(async () => {
  dir = await tempDir();
  upstream = await new FakeUpstream().start();
});

afterEach(async () => {
  await upstream.stop();
  await removeDir(dir);
});

async function everythingWritten(root: string): Promise<string> {
  const files = await listFiles(root);
  return (await Promise.all(files.map((f) => readFile(path.join(root, f), 'utf8')))).join('\n');
}

describe('query parameters whose name says secret', () => {
  const values: Record<string, string> = {
    'subscription-key': 'subscr-0123456789abcdef',
    'Access-Token': 'access-0123456789abcdef',
    code: 'oauth-code-0123456789abcdef',
    AUTH: 'auth-value-0123456789abcdef',
    'x-api-key': 'xapikey-0123456789abcdef',
    Sig: 'sig-value-0123456789abcdef',
    signature: 'signature-0123456789abcdef',
    token: 'token-value-0123456789abcdef',
    Password: 'password-0123456789abcdef',
    secret: 'secret-value-0123456789abcdef',
    api_key: 'api-key-value-0123456789abcdef',
    sessionToken: 'after-semicolon-0123456789ab',
  };
  const query = Object.entries(values)
    .map(([name, value], i) => `${i === 0 ? '' : name === 'sessionToken' ? ';' : '&'}${name}=${value}`)
    .join('');

  it('leave request.url, the key and the log; reach the upstream; the key sees the rest of the query', async () => {
    upstream.on('POST', '/v1/chat/completions', (_r, res) => sendJson(res, 200, { id: 'chatcmpl-1', object: 'chat.completion', choices: [] }));
    const logs = capturedLog();
    const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, logLevel: 'trace', logStream: logs.stream });
    const body = JSON.stringify({ model: 'gpt-4o', messages: [] });
    const sent = await fetch(`${server.url}/v1/chat/completions?api-version=2024-06-01&${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(sent.status).toBe(200);
    await server.close();
    expect(upstream.received[0]!.url).toContain(query);
    const [file] = await listFiles(dir);
    const recording = JSON.parse(await readFile(path.join(dir, file!), 'utf8'));
    expect(recording.request.url).toBe(`${upstream.url}/v1/chat/completions?api-version=2024-06-01`);
    const everything = (await everythingWritten(dir)) + logs.text();
    for (const value of Object.values(values)) expect(everything).not.toContain(value);
    // The key is that of the request without them: another code, or none, is the same request.
    const replayer = await serve({ mode: 'replay', recordings: dir });
    for (const other of ['?api-version=2024-06-01&code=another-code-123456', '?api-version=2024-06-01']) {
      expect((await fetch(`${replayer.url}/v1/chat/completions${other}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(200);
    }
    await replayer.close();
    expect((await verifyRecordings(dir, 'default')).problems).toEqual([]);
  });

  it('are judged by name in any case, percent-encoded, and after ";"; others stay as sent', () => {
    expect(canonicalQuery(`b=2&${query}&a=1`)).toBe('a=1&b=2');
    expect(canonicalQuery('api%5Fkey=abcdefghij&x=1;My-Secret=abcdefgh')).toBe('x=1');
    expect(canonicalQuery('max_tokens=5&language_code=en&author=me')).toBe('author=me&language_code=en&max_tokens=5');
    // A member named by a secret is renamed without overwriting a member already named so.
    expect(scrubRecorded({ 'sk-proj-member0123456789abc': 1, '[redacted]': 2 }, ['sk-proj-member0123456789abc'])).toEqual({ '[redacted] 2': 1, '[redacted]': 2 });
    // Paging cursors tell pages apart: they stay in the key and the file.
    expect(canonicalQuery('pageSize=10&pageToken=abcdefgh12345&next_page_token=zyxwvu98765')).toBe('next_page_token=zyxwvu98765&pageSize=10&pageToken=abcdefgh12345');
    expect(redactUrl('/v1/x?a=1;token=abcdefghij&Code=xyz12345')).toBe('/v1/x?a=1;token=[redacted]&Code=[redacted]');
  });
});

describe('gateway headers and echoes', () => {
  const gateway = {
    'cf-aig-authorization': 'Bearer cfaig-secret 0123456789/abc+def',
    'x-portkey-api-key': 'portkey-secret-0123456789',
    'helicone-auth': 'Bearer helicone-secret-0123456789',
    'x-functions-key': 'functions-secret-0123456789',
    'x-vendor-client-secret': 'vendor-secret-0123456789',
  };

  it('are never written, and their echoes are scrubbed in every encoding, in member names and response headers', async () => {
    const key = gateway['cf-aig-authorization'].slice(7);
    upstream.on('POST', '/v1/echo', (request, res) => {
      const echoed = String(request.headers['x-portkey-api-key']);
      const helicone = String(request.headers['helicone-auth']).slice(7);
      sendJson(
        res,
        401,
        {
          error: {
            message: `bad keys: ${encodeURIComponent(key)} ${encodeURIComponent(key).toLowerCase()} ${encodeURIComponent(key).replaceAll('%20', '+')} ${Buffer.from(echoed).toString('base64')} ${Buffer.from(helicone).toString('base64url')}`,
            [String(request.headers['x-functions-key'])]: 'member name',
            nested: { vendor: String(request.headers['x-vendor-client-secret']) },
          },
        },
        { 'retry-after': '1', 'x-echo-portkey': echoed },
      );
    });
    // A 401 is written only when asked: this test needs the echo on disk to look for it.
    const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, recordAuthErrors: true });
    const answer = await fetch(`${server.url}/v1/echo`, { method: 'POST', headers: { 'content-type': 'application/json', ...gateway }, body: '{"model": "gpt-4o"}' });
    expect(await answer.text()).toContain(encodeURIComponent(key));
    await server.close();
    for (const [name, value] of Object.entries(gateway)) expect(upstream.received[0]!.headers[name]).toBe(value);
    const written = await everythingWritten(dir);
    expect(written).toContain('[redacted]');
    const spellings = (value: string) => [value, encodeURIComponent(value), encodeURIComponent(value).toLowerCase(), encodeURIComponent(value).replaceAll('%20', '+'), Buffer.from(value).toString('base64'), Buffer.from(value).toString('base64url')];
    for (const value of [...Object.values(gateway), key, gateway['helicone-auth'].slice(7)]) for (const spelling of spellings(value)) expect(written).not.toContain(spelling);
    expect(written).not.toContain('x-echo-portkey');
  });

  it("under llama-stack's key scheme: a password with a quote and a backslash echoed in an error, and a key in a model list's ids, never reach a file", async () => {
    const password = 'pa"ss\\word-9876543';
    const key = 'sk-proj-ModelListEcho0123456789abcdef';
    const secretOf = (authorization: string) => (authorization.startsWith('Basic ') ? Buffer.from(authorization.slice(6), 'base64').toString().split(':')[1]! : authorization.slice(7));
    upstream
      .on('POST', '/v1/embeddings', (request, res) => sendJson(res, 400, { error: { message: `Incorrect API key provided: ${secretOf(String(request.headers['authorization']))}`, type: 'invalid_request_error' } }))
      .on('GET', '/v1/models', (request, res) => sendJson(res, 200, { object: 'list', data: [{ id: `m-${secretOf(String(request.headers['authorization']))}`, object: 'model', created: 1, owned_by: 'o' }] }));
    const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, keyScheme: 'llama-stack' });
    const basic = `Basic ${Buffer.from(`user:${password}`).toString('base64')}`;
    const refused = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic }, body: '{"model": "e", "input": "x"}' });
    expect(await refused.text()).toContain(JSON.stringify(password).slice(1, -1));
    const listed = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(await listed.text()).toContain(`m-${key}`);
    await server.close();
    const files = await listFiles(dir);
    // The error (llama-stack writes a 4xx as an exception quoting its JSON) and the model list.
    expect(files.length).toBe(2);
    const written = await everythingWritten(dir);
    const escaped = (value: string) => JSON.stringify(value).slice(1, -1);
    for (const value of [password, key]) for (const spelling of [value, escaped(value), escaped(escaped(value))]) expect(written).not.toContain(spelling);
    expect(written).toContain('[redacted]');
  });

  it('a secret split across two stream events is scrubbed from the joined text; every event keeps its place', async () => {
    const key = 'sk-proj-SplitAcross0123456789abcdefgh';
    upstream.on('POST', '/v1/chat/completions', (request, res) => {
      const echoed = String(request.headers['authorization']).slice(7);
      const parts = ['your key is ', echoed.slice(0, 10), echoed.slice(10, 20), `${echoed.slice(20)}, kept`];
      return sendEvents(res, openAiSse(parts.map((content) => ({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'gpt-4o', choices: [{ index: 0, delta: { content } }] }))));
    });
    const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
    const streamed = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: '{"model": "gpt-4o", "stream": true}' });
    expect(await streamed.text()).toContain(key.slice(0, 10));
    await server.close();
    const [file] = await listFiles(dir);
    const recording = JSON.parse(await readFile(path.join(dir, file!), 'utf8'));
    const contents = recording.response.body.map((chunk: any) => chunk.choices[0].delta.content);
    expect(contents).toEqual(['your key is ', '[redacted]', '', ', kept']);
    expect((await verifyRecordings(dir, 'default')).problems).toEqual([]);
  });

  it('a key-shaped id never reaches the id journal in the state folder', async () => {
    const keyShaped = 'sk-abcdefghijklmnopqrstuvwxyz0123456789';
    upstream.on('POST', '/v1/responses', (_r, res) => sendJson(res, 200, { id: 'resp_0123456789abcdef', object: 'response', owner_key_id: keyShaped, output: [] }));
    const stateDir = `${dir}-state`;
    const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, stateDir });
    const answer = await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "gpt-4o", "input": "hi"}' });
    expect(await answer.text()).not.toContain(keyShaped);
    await server.close();
    const state = await everythingWritten(stateDir);
    await removeDir(stateDir);
    expect(state).toContain('resp_0123456789abcdef');
    expect(state).not.toContain(keyShaped);
    expect(await everythingWritten(dir)).not.toContain(keyShaped);
  });
});

describe('verify', () => {
  const key = 'sk-proj-Zq8uR4pN2vX7wL1kT9sB3mY6cJ5hG0dF';
  it('flags a key percent-encoded, in base64, as a member name, split across stream events, and credential names by the catalogue', () => {
    const cases: Array<[string, unknown]> = [
      ['OpenAI API key', { text: `echo ${encodeURIComponent(`Bearer ${key}`)}` }],
      ['OpenAI API key', { text: `echo ${Buffer.from(key).toString('base64')}` }],
      ['OpenAI API key', { [key]: 1 }],
      ['OpenAI API key', { response: { is_streaming: true, body: [{ delta: { text: key.slice(0, 12) } }, { delta: { text: key.slice(12) } }] } }],
      ['credential header', { response: { headers: { 'x-portkey-api-key': 'whatever-value' } } }],
      ['credential header', { response: { headers: { 'helicone-auth': 'whatever-value' } } }],
      ['credential query parameter', { request: { url: 'https://api.example/v1/x?a=1;subscription-key=abcdef0123456789' } }],
      ['credential query parameter', { request: { url: 'https://api.example/v1/x?code=abcdef0123456789' } }],
    ];
    for (const [kind, value] of cases) expect({ value, found: findCredentials(value) }).toEqual({ value, found: expect.arrayContaining([kind]) });
    expect(findCredentials({ request: { url: 'https://x/v1?max_tokens=12345678&api-version=2024-06-01&token=[redacted]' }, body: { key: 'not-a-header', tokens: 'many' } })).toEqual([]);
  });

  it('scrubRecorded finds what each request carried', () => {
    const secrets = requestSecrets({ 'x-functions-key': 'fn-key 0123/456+789' }, 'code=oauth%2Fcode%2B0123');
    const recording = { response: { body: { a: 'fn-key%200123%2F456%2B789', b: 'fn-key+0123%2f456%2b789', c: 'oauth/code+0123' } } };
    expect(scrubRecorded(recording, secrets)).toEqual({ response: { body: { a: '[redacted]', b: '[redacted]', c: '[redacted]' } } });
  });

  it("each request's own secrets, however many requests came before with others", () => {
    const first = requestSecrets({ authorization: 'Bearer sk-first-0123456789' }, '');
    const second = requestSecrets({ authorization: 'Bearer sk-second-0123456789' }, '');
    expect(first).toContain('sk-first-0123456789');
    expect(second).toContain('sk-second-0123456789');
    expect(second).not.toContain('sk-first-0123456789');
    expect(requestSecrets({ authorization: 'Bearer sk-first-0123456789' }, 'key=query-secret-0123')).toContain('query-secret-0123');
    expect(requestSecrets({ 'content-type': 'application/json' }, '')).toEqual([]);
  });

  it('scrubs a secret that JSON writes escaped (a quote or backslash in a password), and one only base64 holds', () => {
    const password = 'pa"ss\\word-0123';
    const secrets = requestSecrets({ authorization: `Basic ${Buffer.from(`user:${password}`).toString('base64')}` }, '');
    const scrubbed = scrubRecorded({ response: { body: { echo: `your password is ${password}` } } }, secrets);
    expect(scrubbed).toEqual({ response: { body: { echo: 'your password is [redacted]' } } });
    // Quoted as JSON inside a string (an error message that quotes the request): escaped there too.
    const quoted = scrubRecorded({ response: { body: { message: `bad request: ${JSON.stringify({ password })}` } } }, secrets);
    expect(quoted).toEqual({ response: { body: { message: 'bad request: {"password":"[redacted]"}' } } });
    const key = 'sk-live-0123456789abcdef';
    const binary = { response: { body: Buffer.from(`\u0000key=${key}\u0001`).toString('base64'), body_encoding: 'base64' } };
    const kept = scrubRecorded(binary, requestSecrets({ authorization: `Bearer ${key}` }, ''));
    expect(Buffer.from(kept.response.body, 'base64').toString()).toBe('\u0000key=[redacted]\u0001');
  });

  it("scrubs a key echoed form-encoded by URLSearchParams, which escapes ~ ! ' ( ) where encodeURIComponent does not", () => {
    const key = "sk-~!'()*-0123/456+789 x";
    const secrets = requestSecrets({ authorization: `Bearer ${key}` }, '');
    const echoed = { response: { body: { content: `you sent ${new URLSearchParams({ a: `Bearer ${key}`, b: key }).toString()}` } } };
    expect(scrubRecorded(echoed, secrets)).toEqual({ response: { body: { content: 'you sent a=[redacted]&b=[redacted]' } } });
  });

  it('finds a secret in the bytes of the JSON text as in the text: beside characters beyond Latin-1, and in a body kept as base64', () => {
    const key = 'sk-live-0123456789abcdef';
    const secrets = requestSecrets({ authorization: `Bearer ${key}` }, '');
    const bytesOf = (value: unknown) => Buffer.from(JSON.stringify(value, undefined, 2));
    const echoed = { response: { body: { content: `• “quoted” ${key} — 日本` } } };
    expect(scrubRecorded(echoed, secrets, bytesOf(echoed))).toEqual({ response: { body: { content: '• “quoted” [redacted] — 日本' } } });
    // Each encoding of the header on its own (the searches look for the fewest forms that every other holds).
    expect(secrets.length).toBeGreaterThan(4);
    for (const secret of secrets) {
      const alone = { response: { body: { content: `• ${secret} •` } } };
      expect(scrubRecorded(alone, secrets, bytesOf(alone)), secret).not.toEqual(alone);
    }
    const clean = { response: { body: { content: '• “quoted” — 日本' } } };
    expect(scrubRecorded(clean, secrets, bytesOf(clean))).toBe(clean);
    // The key only base64 holds is not in the text's bytes: the body's encoding sends it to the full search.
    const binary = { response: { body: Buffer.from(`\u0000key=${key}\u0001`).toString('base64'), body_encoding: 'base64' } };
    const kept = scrubRecorded(binary, secrets, bytesOf(binary));
    expect(Buffer.from(kept.response.body, 'base64').toString()).toBe('\u0000key=[redacted]\u0001');
  });
});

describe("llama-stack's provider-data headers", () => {
  const scrubbed = (header: string, text: string) => scrubRecorded({ response: { body: { text } } }, requestSecrets({ 'x-llamastack-provider-data': header }, '')).response.body.text;

  it('give up every string under a member named as a credential, at any depth, and a bearer token alone', () => {
    expect(scrubbed('{"openai_api_key": "sk-proj-0123456789abcdef"}', 'key sk-proj-0123456789abcdef')).toBe('key [redacted]');
    expect(scrubbed('{"api_key": ["sk-list-0123456789abcdef"]}', 'sk-list-0123456789abcdef')).toBe('[redacted]');
    expect(scrubbed('{"mcp_headers": {"https://mcp.example": {"Authorization": "Bearer tok-0123456789abcdef"}}}', 'got tok-0123456789abcdef')).toBe('got [redacted]');
    const deep = `${'{"a":'.repeat(40)}{"secret_token": "deep-0123456789abcdef"}${'}'.repeat(40)}`;
    expect(scrubbed(deep, 'deep-0123456789abcdef')).toBe('[redacted]');
    // What is not a credential stays.
    expect(scrubbed('{"__test_id": "tests/test_a.py::test_b", "region": "us-east-1-long"}', 'us-east-1-long tests/test_a.py::test_b')).toBe('us-east-1-long tests/test_a.py::test_b');
  });

  it('sent twice (joined with ", ") or not JSON at all: still scrubbed', () => {
    expect(scrubbed('{"openai_api_key": "sk-one-0123456789abcdef"}, {"openai_api_key": "sk-two-0123456789abcdef"}', 'sk-one-0123456789abcdef sk-two-0123456789abcdef')).toBe('[redacted] [redacted]');
    const single = "{'openai_api_key': 'sk-proj-Quoted0123456789abcdefgh'}";
    expect(scrubbed(single, `you sent ${single}`)).toBe('you sent [redacted]');
    expect(scrubbed(single, 'your key sk-proj-Quoted0123456789abcdefgh')).toBe('your key [redacted]');
  });
});

describe('verify on very long strings (a base64 image of a few MB)', () => {
  it('reads a run of 12 million base64 characters, a form body of as many, and still finds a key after them', () => {
    const image = 'iVBORw0KGgo'.padEnd(12_000_000, 'A');
    expect(findCredentials({ request: { body: { image } } })).toEqual([]);
    expect(findCredentials({ body: `x?${'a'.repeat(12_000_000)}=b` })).toEqual([]);
    const key = `sk-proj-${'k'.repeat(40)}`;
    expect(findCredentials({ image: `${image} ${key}` })).toEqual(['OpenAI API key']);
    // Its base64, after the long run: found as the run is read 64 KB at a time.
    expect(findCredentials({ image: `${'B'.repeat(65_536 * 3)}${Buffer.from(` ${key} `).toString('base64')}` })).toEqual(['OpenAI API key']);
  });
});
