// Credentials reach the upstream and never a recording file or a log line; replay
// needs no key at all.
import { PassThrough } from 'node:stream';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { fakeOpenAi, seed } from './support/seeds.js';
import { listFiles, removeDir, serve, tempDir } from './support/harness.js';
import { openAiSse, sendEvents, sendJson, type FakeUpstream } from './support/fake-upstream.js';
import { findCredentials } from '../src/secrets/credentials.js';
import { hasKeyShape, KEY_SHAPES } from '../src/secrets/catalogue.js';
import { verifyRecordings } from '../src/cli/commands/verify.js';

let dir: string;
let upstream: FakeUpstream;

beforeEach(async () => {
  dir = await tempDir();
  upstream = await fakeOpenAi().start();
});

afterEach(async () => {
  await upstream.stop();
  await removeDir(dir);
});

const SECRETS = {
  bearer: 'sk-proj-Zq8uR4pN2vX7wL1kT9sB3mY6cJ5hG0dF',
  xApiKey: 'sk-ant-api03-Hk2Lm9Qr4St7Uv1Wx5Yz8Ab3Cd6Ef0Gh',
  apiKey: 'azure-5f0c1d2e3b4a59687f6e5d4c3b2a1908',
  goog: 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY',
  queryKey: 'AIzaSyQueryKey0123456789abcdefghijklmn',
  cookie: 'session=cookie-secret-7f3a9c2e',
};

it('credentials reach the upstream and never a file or a log line', async () => {
  const logs = new PassThrough();
  let logText = '';
  logs.on('data', (part: Buffer) => (logText += part.toString()));
  const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, logLevel: 'trace', logStream: logs });
  const usage = seed('gpt-5.1-chat', 'Usage');
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${SECRETS.bearer}`,
    'x-api-key': SECRETS.xApiKey,
    'api-key': SECRETS.apiKey,
    'x-goog-api-key': SECRETS.goog,
    cookie: SECRETS.cookie,
  };
  const response = await fetch(`${server.url}/v1/chat/completions?key=${SECRETS.queryKey}`, { method: 'POST', headers, body: JSON.stringify(usage.request) });
  expect(response.status).toBe(200);
  // A miss logs the request too.
  await fetch(`${server.url}/v1/unknown?key=${SECRETS.queryKey}`, { method: 'POST', headers, body: '{}' });
  await server.close();

  const received = upstream.received[0]!;
  expect(received.headers['authorization']).toBe(`Bearer ${SECRETS.bearer}`);
  expect(received.headers['x-api-key']).toBe(SECRETS.xApiKey);
  expect(received.headers['api-key']).toBe(SECRETS.apiKey);
  expect(received.headers['x-goog-api-key']).toBe(SECRETS.goog);
  expect(received.headers['cookie']).toBe(SECRETS.cookie);
  expect(received.url).toContain(`key=${SECRETS.queryKey}`);

  const files = await listFiles(dir);
  expect(files.length).toBeGreaterThan(0);
  const everything = (await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')))).join('\n') + logText;
  expect(logText.length).toBeGreaterThan(0);
  for (const secret of Object.values(SECRETS)) expect(everything).not.toContain(secret);
  expect(everything).not.toContain('session=');
});

it('replay answers without any API key', async () => {
  const recorder = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
  const usage = seed('gpt-5.1-chat', 'Usage');
  await fetch(`${recorder.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-live' }, body: JSON.stringify(usage.request) });
  await recorder.close();
  const replayer = await serve({ mode: 'replay', recordings: dir });
  const response = await fetch(`${replayer.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(usage.request) });
  expect(response.status).toBe(200);
  await replayer.close();
});

it('presigned URLs and signed requests: the X-Amz-* and sig/signature/token parameters reach the upstream, never a file or log', async () => {
  const logs = new PassThrough();
  let logText = '';
  logs.on('data', (part: Buffer) => (logText += part.toString()));
  const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, logLevel: 'trace', logStream: logs });
  const signed = {
    credential: 'AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/bedrock/aws4_request',
    signature: 'a3f1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80',
    token: 'IQoJb3JpZ2luX2VjEJr-session-token-0123456789abcdef',
    sig: 'sv2024sigABCDEF0123456789',
    plainSignature: 'plain-signature-0123456789',
    bearerToken: 'opaque-token-value-0123456789',
  };
  const query = new URLSearchParams({
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': signed.credential,
    'X-Amz-Date': '20240101T000000Z',
    'X-Amz-Signature': signed.signature,
    'X-Amz-Security-Token': signed.token,
    sig: signed.sig,
    signature: signed.plainSignature,
    token: signed.bearerToken,
  });
  const usage = seed('gpt-5.1-chat', 'Usage');
  const headers = { 'content-type': 'application/json', authorization: `AWS4-HMAC-SHA256 Credential=${signed.credential}, SignedHeaders=host;x-amz-date, Signature=${signed.signature}`, 'x-amz-security-token': signed.token };
  expect((await fetch(`${server.url}/v1/chat/completions?${query}`, { method: 'POST', headers, body: JSON.stringify(usage.request) })).status).toBe(200);
  await server.close();
  expect(upstream.received[0]!.url).toContain(`X-Amz-Signature=${signed.signature}`);
  const files = await listFiles(dir);
  const written = (await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')))).join('\n');
  expect(written).toContain('X-Amz-Date=20240101T000000Z');
  const everything = written + logText;
  for (const secret of [...Object.values(signed), encodeURIComponent(signed.credential), 'AKIAIOSFODNN7EXAMPLE']) expect(everything).not.toContain(secret);
  expect((await verifyRecordings(dir, 'default')).problems).toEqual([]);
});

it('credential values the upstream echoes back are scrubbed from what is written; the client still gets the answer as sent', async () => {
  const key = 'sk-proj-Echoed0123456789abcdefghijklmnop';
  const other = 'x-api-key-value-0123456789';
  upstream.on('POST', '/v1/echo', (request, res) =>
    sendJson(res, 401, { error: { message: `Incorrect API key provided: ${String(request.headers['authorization']).slice(7)}; also ${String(request.headers['x-api-key'])}`, type: 'invalid_request_error' } }),
  );
  upstream.on('POST', '/v1/echo-stream', (request, res) =>
    sendEvents(res, openAiSse([{ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: `your key is ${String(request.headers['authorization']).slice(7)}` } }] }])),
  );
  // recordAuthErrors: a 401 is not written by default, and the echo of a key is what it holds.
  const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, recordAuthErrors: true });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-api-key': other };
  const answer = await fetch(`${server.url}/v1/echo`, { method: 'POST', headers, body: '{"model": "gpt-4o"}' });
  expect(answer.status).toBe(401);
  expect(await answer.text()).toContain(key);
  expect(await (await fetch(`${server.url}/v1/echo-stream`, { method: 'POST', headers, body: '{"model": "gpt-4o", "stream": true}' })).text()).toContain(key);
  await server.close();
  const files = await listFiles(dir);
  expect(files).toHaveLength(2);
  const written = (await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')))).join('\n');
  expect(written).not.toContain(key);
  expect(written).not.toContain(other);
  expect(written).toContain('Incorrect API key provided: [redacted]; also [redacted]');
  expect(written).toContain('your key is [redacted]');
});

it("a key in llama-stack's provider-data header reaches the upstream and never a file, echoed or not", async () => {
  const key = 'sk-proj-ProviderData0123456789abcdefghij';
  const aws = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  let forwarded: string | undefined;
  upstream.on('POST', '/v1/echo-provider', (request, res) => {
    forwarded = String(request.headers['x-llamastack-provider-data']);
    sendJson(res, 200, { id: 'chatcmpl-1', object: 'chat.completion', created: 1, choices: [{ index: 0, message: { role: 'assistant', content: `you sent ${forwarded}` } }] });
  });
  const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
  const providerData = JSON.stringify({ __test_id: 'tests/test_x.py::test_y', openai_api_key: key, nested: { aws_secret_access_key: aws }, region: 'us-east-1' });
  const answer = await fetch(`${server.url}/v1/echo-provider`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-llamastack-provider-data': providerData }, body: '{"model": "gpt-4o"}' });
  expect(await answer.text()).toContain(key);
  await server.close();
  expect(forwarded).toBe(providerData);
  const files = await listFiles(dir);
  expect(files).toHaveLength(1);
  const written = await readFile(path.join(dir, files[0]!), 'utf8');
  expect(written).not.toContain(key);
  expect(written).not.toContain(aws);
  // What is not a credential stays: the test id, and the region.
  expect(written).toContain('"test_id": "tests/test_x.py::test_y"');
  expect(written).toContain('us-east-1');
});

it('an echoed key is scrubbed from answers kept as base64 too (text, XML, binary), and verify reads inside them', async () => {
  const key = 'sk-proj-InPlainText0123456789abcdefghij';
  upstream.on('POST', '/v1/echo-text', (request, res) => {
    res.writeHead(401, { 'content-type': 'text/plain' });
    res.end(`bad key ${String(request.headers['authorization']).slice(7)}\n`);
  });
  upstream.on('POST', '/v1/echo-xml', (request, res) => {
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end(`<Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>${String(request.headers['authorization']).slice(7)}</AWSAccessKeyId></Error>`);
  });
  const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, recordAuthErrors: true });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  for (const endpoint of ['/v1/echo-text', '/v1/echo-xml']) {
    const answer = await fetch(`${server.url}${endpoint}`, { method: 'POST', headers, body: '{"model": "gpt-4o"}' });
    expect(await answer.text()).toContain(key);
  }
  await server.close();
  const files = await listFiles(dir);
  expect(files).toHaveLength(2);
  for (const file of files) {
    const recording = JSON.parse(await readFile(path.join(dir, file), 'utf8'));
    expect(recording.response.body_encoding).toBe('base64');
    const body = Buffer.from(recording.response.body, 'base64').toString('utf8');
    expect(body).not.toContain(key);
    expect(body).toContain('[redacted]');
  }
  // A file written by something else with a key inside a base64 body is found.
  expect(findCredentials({ response: { body: Buffer.from(`echo ${key}`).toString('base64'), body_encoding: 'base64' } })).toEqual(['OpenAI API key']);
});

it('verify finds the common key shapes, wherever they sit in a recording', () => {
  const cases: Array<[string, unknown]> = [
    ['OpenAI API key', { text: 'key sk-proj-Zq8uR4pN2vX7wL1kT9sB3mY6cJ5hG0dF here' }],
    ['Anthropic API key', ['x', 'sk-ant-api03-Hk2Lm9Qr4St7Uv1Wx5Yz8Ab3Cd6Ef0Gh']],
    ['Google API key', 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY'],
    ['AWS access key id', { aws: { id: 'AKIAIOSFODNN7EXAMPLE' } }],
    ['GitHub token', 'token: ghp_R2d4F6h8J0k2L4m6N8p0Q2r4S6t8U0v2W4x6'],
    ['JSON web token', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
    ['bearer token', 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz'],
    ['credential header', { headers: { 'X-Api-Key': 'whatever' } }],
    ['credential query parameter', 'https://bucket.s3.amazonaws.com/o?X-Amz-Signature=a3f1c2b4d5e6f708&X-Amz-Date=1'],
  ];
  for (const [kind, value] of cases) expect({ kind, found: findCredentials(value) }).toEqual({ kind, found: [kind] });
  expect(findCredentials({ text: 'sk-short', AKIA: 'AKIA1234', bearer: 'Bearer none', q: '?key=id', jwt: 'eyJ.eyJ.x' })).toEqual([]);
});

it('tells a key shape inside an id, for every shape in the catalogue and each of its forms, and not in the ids upstreams make', () => {
  // The id journal keeps no id shaped like a key (an API that lists keys); its quick test must know every form of every shape.
  const examples: Record<string, string[]> = {
    'Anthropic API key': ['sk-ant-api03-Hk2Lm9Qr4St7Uv1Wx5Yz8Ab3Cd6Ef0Gh'],
    'OpenAI API key': ['sk-Zq8uR4pN2vX7wL1kT9sB3mY6cJ5hG0dF', 'sk-proj-Zq8uR4pN2vX7wL1kT9sB3mY6cJ5hG0dF', 'sk-svcacct-Zq8uR4pN2vX7wL1kT9sB3mY6c', 'sk-admin-Zq8uR4pN2vX7wL1kT9sB3mY6cJ5h'],
    'Google API key': ['AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY'],
    'AWS access key id': ['AKIAIOSFODNN7EXAMPLE', 'ASIAIOSFODNN7EXAMPLE', 'ABIAIOSFODNN7EXAMPLE', 'ACCAIOSFODNN7EXAMPLE'],
    'GitHub token': ['ghp_R2d4F6h8J0k2L4m6N8p0Q2r4S6t8U0v2W4x6', 'gho_R2d4F6h8J0k2L4m6N8p0Q2r4S6t8U0v2W4x6', 'ghu_R2d4F6h8J0k2L4m6N8p0Q2r4S6t8U0v2W4x6', 'ghs_R2d4F6h8J0k2L4m6N8p0Q2r4S6t8U0v2W4x6', 'ghr_R2d4F6h8J0k2L4m6N8p0Q2r4S6t8U0v2W4x6', `github_pat_11ABCDEFG0${'a'.repeat(49)}Z`],
    'JSON web token': ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
  };
  expect(KEY_SHAPES.map(([name]) => name).sort()).toEqual(Object.keys(examples).sort());
  for (const [name, keys] of Object.entries(examples)) {
    for (const key of keys) {
      expect({ name, key, shaped: KEY_SHAPES.find(([, shape]) => shape.test(key))?.[0] }).toEqual({ name, key, shaped: name });
      expect({ key, found: [hasKeyShape(key), hasKeyShape(`key_${key}`), hasKeyShape(`listed: ${key}`)] }).toEqual({ key, found: [true, false, true] });
    }
  }
  for (const id of ['chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT', 'msg_01XFDUDYJgAACzvnptvVoYEL', 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b', 'sk-short']) expect({ id, found: hasKeyShape(id) }).toEqual({ id, found: false });
});

it('verify scans hostile text in one pass (no pattern that backtracks over it)', () => {
  // Each would take minutes under a pattern free to start anywhere and backtrack.
  for (const text of ['eyJa-'.repeat(200_000), '?key'.repeat(200_000), 'Bearer '.repeat(200_000), `sk-${'a'.repeat(1_000_000)}`]) {
    expect(Array.isArray(findCredentials(text))).toBe(true);
  }
});
