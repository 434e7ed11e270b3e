// A bounded randomised run over bodies, headers and paths against a running server
// (record-if-missing in front of a fake upstream): it stays up and every answer is
// well-formed. The generator is seeded, so a failure names the seed that finds it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { request } from 'undici';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { removeDir, serve, tempDir } from './support/harness.js';
import { mulberry32 } from './support/random.js';
import type { RunningServer } from '../src/index.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261123);
const ROUNDS = 600;


let dir: string;
let upstream: FakeUpstream;
let server: RunningServer;

beforeAll(async () => {
  dir = await tempDir();
  upstream = new FakeUpstream();
  for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'HEAD']) {
    upstream.on(method, /.*/, (req, res) => sendJson(res, 200, { echo: req.body.length, path: req.url.length }));
  }
  await upstream.start();
  server = await serve({ mode: 'record-if-missing', recordings: dir, upstream: upstream.url, bodyLimit: 64 * 1024, layout: 'by-test-file' });
});
afterAll(async () => {
  await server.close();
  await upstream.stop();
  await removeDir(dir);
});

it(`stays up and answers every random request well-formed (seed ${SEED})`, async () => {
  const random = mulberry32(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const text = (max: number) => Array.from({ length: Math.floor(random() * max) }, () => String.fromCodePoint(pick([0x41, 0x7a, 0x2e, 0x2f, 0x25, 0x3f, 0x26, 0x3d, 0xe9, 0x1f600, 0x5c, 0x22, 0x20, 0x30 + Math.floor(random() * 10)]))).join('');
  const bodies = [
    () => '',
    () => JSON.stringify({ model: text(10), messages: [{ role: 'user', content: text(50) }], temperature: random() * 2 }),
    () => '{"a": ' + '['.repeat(Math.floor(random() * 2000)),
    () => {
      const depth = Math.floor(random() * 30_000);
      return '['.repeat(depth) + ']'.repeat(depth);
    },
    () => '{"n": 1.' + '9'.repeat(Math.floor(random() * 400)) + ', "big": ' + '7'.repeat(Math.floor(random() * 400)) + '}',
    () => Buffer.from(Array.from({ length: Math.floor(random() * 500) }, () => Math.floor(random() * 256))),
    () => JSON.stringify({ __proto__: { polluted: true }, constructor: { prototype: { x: 1 } }, s: 'score: 0.5 attributes: {a} <|0a1b2c3d-4e5f-6789-abcd-ef0123456789|>' }),
    () => 'x'.repeat(70 * 1024),
    () => JSON.stringify('\u0000\ud800' + text(20)),
  ];
  const paths = ['/v1/chat/completions', '/v1/responses', '/v1/models', '/api/chat', '/v1/../../etc/passwd', '/%00', '/v1/files/%2e%2e%2f', `/${encodeURIComponent(text(30))}`, `/v1/${'a'.repeat(3000)}`, '/v1/x?key=secret&alt=sse&a=%ff', '//double//slash'];
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'HEAD'];
  const testIds = ['', '..', '../../x.py::t', '/abs.py::t', 'a'.repeat(5000), 'tests/ok_test.py::t[1]', 'ünï/cødé.py::t', 'tests\\win.py::t'];
  const contentTypes = ['application/json', 'text/plain', 'application/octet-stream', 'APPLICATION/JSON; charset=latin1', 'multipart/form-data; boundary=x', undefined];
  const failures: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const method = pick(methods);
    const body = method === 'GET' || method === 'HEAD' ? '' : pick(bodies)();
    const headers: Record<string, string> = {};
    const contentType = pick(contentTypes);
    if (contentType && body.length > 0) headers['content-type'] = contentType;
    const testId = pick(testIds);
    if (testId && random() < 0.5) headers['x-test-id'] = encodeURIComponent(testId);
    if (random() < 0.2) headers['x-llamastack-provider-data'] = pick(['{"__test_id": "t"}', '{', 'null', '{"__test_id": 5}']);
    const path = pick(paths);
    try {
      const response = await request(`${server.url}${path}`, { method, headers, body: body.length > 0 ? body : undefined });
      const payload = await response.body.text();
      const type = String(response.headers['content-type'] ?? '');
      if (response.statusCode < 100 || response.statusCode > 599) failures.push(`round ${round}: status ${response.statusCode}`);
      if (method !== 'HEAD' && type.includes('json') && payload.length > 0) {
        try {
          JSON.parse(payload);
        } catch {
          failures.push(`round ${round}: ${method} ${path.slice(0, 60)} answered invalid JSON: ${payload.slice(0, 100)}`);
        }
      }
      if (response.statusCode >= 500 && response.statusCode !== 502) failures.push(`round ${round}: ${method} ${path.slice(0, 60)} -> ${response.statusCode} ${payload.slice(0, 200)}`);
    } catch (error) {
      failures.push(`round ${round}: ${method} ${path.slice(0, 60)} failed: ${(error as Error).message}`);
    }
  }
  expect(failures.slice(0, 10)).toEqual([]);
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  const health = await request(`${server.url}/v1/models`);
  expect(health.statusCode).toBe(200);
  await health.body.text();
}, 120_000);
