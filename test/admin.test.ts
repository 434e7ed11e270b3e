// The admin surface is closed: every spelling of its prefix is answered by the admin
// plugin and never forwarded or recorded; paths with dot segments are refused; and the
// admin token guards everything but /health when one is set or the server listens
// beyond loopback; health names the route prefixes, never their upstreams.
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { Client } from 'undici';
import { describe, expect, it } from 'vitest';
import { adminAccessFor, exposureWarning, isLoopback } from '../src/server/admin-access.js';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { json, listFiles, workspace } from './support/harness.js';
import type { RunningServer } from '../src/index.js';

const ws = workspace();

/** A request with its path sent exactly as written (fetch would normalise '..' and '%2e'). */
async function raw(server: RunningServer, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const client = new Client(server.url);
  try {
    const response = await client.request({ method, path, headers: { 'content-type': 'application/json', ...headers }, body: method === 'GET' ? null : '{"model": "gpt-4o"}' });
    const text = await response.body.text();
    return { status: response.statusCode, body: text.startsWith('{') ? JSON.parse(text) : text };
  } finally {
    await client.close();
  }
}

/** Sends raw bytes on a connection of its own (ended after them, unless `end` is false) and gives back all the server wrote before closing it. */
async function onSocket(server: RunningServer, text: string, end = true): Promise<string> {
  const socket = connect(server.port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString()));
  if (end) socket.end(text);
  else socket.write(text);
  await new Promise((resolve) => socket.on('close', resolve));
  return answer;
}

async function anyUpstream(): Promise<FakeUpstream> {
  const upstream = new FakeUpstream().on('GET', /.*/, (_r, res) => sendJson(res, 200, { forwarded: true })).on('POST', /.*/, (_r, res) => sendJson(res, 200, { forwarded: true }));
  await upstream.start();
  ws.cleanup.push(() => upstream.stop());
  return upstream;
}

describe('the admin prefix', () => {
  it('is answered by the admin plugin, however it is spelled, and never forwarded or recorded', async () => {
    const upstream = await anyUpstream();
    const server = await ws.start({ mode: 'record', upstream: upstream.url });
    const reserved: Array<[string, string]> = [
      ['POST', '/_llm-replay/health'],
      ['GET', '/_llm-replay/nope'],
      ['GET', '/_llm-replay//health'],
      ['DELETE', '/_llm-replay/mode'],
      ['GET', '/_llm-replay'],
      ['POST', '/%5Fllm-replay/nope'],
      ['GET', '/_llm-replay%2Fhealth'],
      ['POST', '//_llm-replay/health'],
      ['GET', '/\\_llm-replay/health'],
      ['GET', '/_llm-replay%00/health'],
    ];
    for (const [method, path] of reserved) {
      const { status, body } = await raw(server, method, path);
      expect({ method, path, status }).toEqual({ method, path, status: 404 });
      expect(body.error.code).toBe('llm_replay_unknown_admin_endpoint');
    }
    // Encoded spellings of a real endpoint are that endpoint.
    expect((await raw(server, 'GET', '/%5Fllm-replay/health')).body).toMatchObject({ status: 'ok' });
    expect(upstream.received).toEqual([]);
    expect(await listFiles(ws.dir)).toEqual([]);
  });
});

describe('health', () => {
  it("names the server's route prefixes, for a runner that did not start it, and never their upstreams", async () => {
    const server = await ws.start({ mode: 'replay', upstream: 'http://127.0.0.1:9', routes: { '/anthropic': 'http://127.0.0.1:9/gateway-token-in-path', '/ollama': 'http://127.0.0.1:9/o' } });
    const health = await raw(server, 'GET', '/_llm-replay/health');
    expect(health.body).toEqual({ status: 'ok', mode: 'replay', recordings: 0, routes: ['/anthropic', '/ollama'] });
    expect(JSON.stringify(health.body)).not.toMatch(/127\.0\.0\.1|gateway-token/);
    expect((await raw(await ws.start({ mode: 'replay' }), 'GET', '/_llm-replay/health')).body.routes).toEqual([]);
  });
});

describe('paths with dot segments', () => {
  it("get 400 rather than leave the upstream's base path", async () => {
    const upstream = await anyUpstream();
    const server = await ws.start({ mode: 'record', upstream: `${upstream.url}/base` });
    for (const path of ['/v1/../../x', '/v1/%2e%2e/%2E%2E/x', '/v1/..%2Fx', '/v1/.%2e/x', '/v1/./models', '/v1\\..\\..\\x']) {
      const { status, body } = await raw(server, 'POST', path);
      expect({ path, status }).toEqual({ path, status: 400 });
      expect(body.error.code).toBe('llm_replay_bad_path');
    }
    expect((await raw(server, 'POST', '/v1/files/a..b')).status).toBe(200);
    expect(upstream.received.map((r) => r.url)).toEqual(['/base/v1/files/a..b']);
  });

  it('an absolute URL on the request line (a forward proxy request) gets 400 naming it, and is not forwarded', async () => {
    const upstream = await anyUpstream();
    const server = await ws.start({ mode: 'record', upstream: upstream.url });
    const body = '{"model": "gpt-4o"}';
    const answer = await onSocket(server, `POST http://elsewhere.example/v1/chat/completions HTTP/1.1\r\nHost: elsewhere.example\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('no forward proxy');
    expect(upstream.received).toEqual([]);
    expect(await listFiles(ws.dir)).toEqual([]);
  });

  it('CONNECT (a client with HTTPS_PROXY pointing at it) gets 400 saying to set the base URL instead, not a closed connection; the server goes on', async () => {
    const upstream = await anyUpstream();
    const server = await ws.start({ mode: 'record', upstream: upstream.url });
    // Written, not ended: a client waits for the proxy's answer to its CONNECT.
    const answer = await onSocket(server, 'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n', false);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('llm_replay_bad_path');
    expect(body.error.message).toContain('CONNECT api.openai.com:443: llm-replay is not a forward proxy');
    expect(body.error.message).toContain('OPENAI_BASE_URL=');
    expect(upstream.received).toEqual([]);
    expect((await raw(server, 'GET', '/_llm-replay/health')).status).toBe(200);
    // A client that resets the connection after its CONNECT (curl -x does) leaves the server running.
    for (let i = 0; i < 3; i++) {
      const reset = connect(server.port, '127.0.0.1');
      reset.write('CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n');
      reset.resetAndDestroy();
      await new Promise((resolve) => reset.on('close', resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await raw(server, 'GET', '/_llm-replay/health')).status).toBe(200);
  });
});

describe('the admin token', () => {
  it('on loopback without one, answers only requests made on this machine: not a web page elsewhere, not a rebound host name', async () => {
    const server = await ws.start({ mode: 'replay' });
    const put = (headers: Record<string, string>) => raw(server, 'PUT', '/_llm-replay/mode', headers);
    // What a page the user has open could send: a cross-site request, or one under its own (rebound) name.
    const fromPage = await put({ origin: 'https://evil.example' });
    expect(fromPage.status).toBe(403);
    expect(fromPage.body.error.message).toContain('a web page at https://evil.example');
    expect((await put({ host: 'evil.example:8787' })).status).toBe(403);
    expect((await put({ origin: 'null' })).status).toBe(403);
    expect((await raw(server, 'GET', '/_llm-replay/api/journal', { host: 'rebound.example' })).status).toBe(403);
    expect(server.config.mode).toBe('replay');
    // This machine: a tool, a page served from loopback (the inspector itself), any loopback spelling.
    const local: Array<Record<string, string>> = [{}, { origin: server.url }, { origin: 'http://localhost:5173' }, { host: 'localhost:1' }, { host: '[::1]:1' }];
    for (const headers of local) {
      expect({ headers, status: (await raw(server, 'GET', '/_llm-replay/stats', headers)).status }).toEqual({ headers, status: 200 });
    }
  });

  it('when given, guards every admin endpoint but health, in any of three places', async () => {
    const token = 'a-token-given-at-start';
    const server = await ws.start({ mode: 'replay', adminToken: token });
    expect(server.adminToken).toBe(token);
    expect(server.warning).toBeUndefined();
    const refused = await raw(server, 'GET', '/_llm-replay/misses');
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toContain('Authorization: Bearer <token>');
    expect((await raw(server, 'GET', '/_llm-replay/usage', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await raw(server, 'GET', '/_llm-replay/nope')).status).toBe(401);
    const put = await raw(server, 'PUT', '/_llm-replay/mode', {});
    expect(put.status).toBe(401);
    expect(server.config.mode).toBe('replay');
    expect((await raw(server, 'GET', '/_llm-replay/health')).status).toBe(200);
    expect((await raw(server, 'GET', '/_llm-replay/stats', { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await raw(server, 'GET', '/_llm-replay/stats', { 'x-llm-replay-token': token })).status).toBe(200);
    expect((await raw(server, 'GET', `/_llm-replay/stats?token=${token}`)).status).toBe(200);
    expect((await raw(server, 'GET', '/_llm-replay/faults', { authorization: `Bearer ${token}` })).status).not.toBe(401);
    expect((await raw(server, 'GET', '/_llm-replay/faults')).status).toBe(401);
    // The inspector: its page's files are open (no data in them), its API is not.
    expect((await raw(server, 'GET', '/_llm-replay/ui/')).status).toBe(200);
    expect((await raw(server, 'GET', '/_llm-replay/api/recordings')).status).toBe(401);
    expect((await raw(server, 'GET', '/_llm-replay/api/recordings', { 'x-llm-replay-token': token })).status).toBe(200);
  });

  it('listening beyond loopback, one is made, printed in a warning that says what is exposed, and required', async () => {
    const logs = new PassThrough();
    let logText = '';
    logs.on('data', (part: Buffer) => (logText += part.toString()));
    // Bound on every interface, but only ever reached through 127.0.0.1.
    const server = await ws.start({ mode: 'replay', host: '0.0.0.0', logLevel: 'warn', logStream: logs });
    const token = server.adminToken!;
    expect(token.length).toBeGreaterThanOrEqual(24);
    expect(server.warning).toContain(token);
    expect(server.warning).toMatch(/beyond loopback/);
    expect(server.warning).toMatch(/prompts/);
    expect(server.warning).toMatch(/switching the mode/);
    expect(server.warning).toMatch(/--host/);
    expect(logText).toContain(token);
    // The start-up line's page address opens with the token that was printed anyway.
    expect(server.inspectorUrl).toBe(`${server.url}/_llm-replay/ui/?token=${token}`);
    const local = { ...server, url: `http://127.0.0.1:${server.port}` };
    expect((await raw(local, 'GET', '/_llm-replay/misses')).status).toBe(401);
    expect((await raw(local, 'GET', '/_llm-replay/health')).status).toBe(200);
    expect(await json(await fetch(`${local.url}/_llm-replay/misses`, { headers: { authorization: `Bearer ${token}` } }))).toEqual({ count: 0, misses: [] });
  });

  it('follows the rule: loopback needs none unless given, anything else needs one', () => {
    for (const host of ['127.0.0.1', '127.3.2.1', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect({ host, loopback: isLoopback(host) }).toEqual({ host, loopback: true });
    for (const host of ['0.0.0.0', '::', '10.0.0.2', 'example.com', '::ffff:10.0.0.1']) expect({ host, loopback: isLoopback(host) }).toEqual({ host, loopback: false });
    expect(adminAccessFor('127.0.0.1', undefined)).toEqual({ token: undefined, generated: false });
    expect(adminAccessFor('127.0.0.1', 'mine')).toEqual({ token: 'mine', generated: false });
    expect(adminAccessFor('0.0.0.0', 'mine')).toEqual({ token: 'mine', generated: false });
    expect(adminAccessFor('0.0.0.0', undefined).generated).toBe(true);
    expect(adminAccessFor('0.0.0.0', undefined).token).not.toBe(adminAccessFor('0.0.0.0', undefined).token);
    expect(exposureWarning('127.0.0.1', { token: 'mine', generated: false })).toBeUndefined();
    expect(exposureWarning('0.0.0.0', { token: 'mine', generated: false })).not.toContain('mine');
  });
});
