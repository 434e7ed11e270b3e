// Credentials reach the upstream and never a recording file or a log line; replay
// needs no key at all.
import { PassThrough } from 'node:stream';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { fakeOpenAi, seed } from './support/seeds.js';
import { listFiles, removeDir, serve, tempDir } from './support/harness.js';
import type { FakeUpstream } from './support/fake-upstream.js';

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
