// close() lets answers in flight finish and waits for nothing else: not for a connection
// that never sent a request (a client's pool opens spares; Node counts such a connection
// as busy until its headers timeout), nor for an upstream request whose client has gone.
// Each test would hang until its timeout without this.
import net from 'node:net';
import { expect, it } from 'vitest';
import { FakeUpstream } from './support/fake-upstream.js';
import { capturedLog, recordingsIn, workspace } from './support/harness.js';

const ws = workspace();

it('a connection that never sent a request does not hold close()', async () => {
  const server = await ws.start({ mode: 'replay', headersTimeoutMs: 3_600_000 });
  const socket = net.connect(server.port, '127.0.0.1');
  ws.cleanup.push(async () => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  const closedByServer = new Promise((resolve) => socket.once('close', resolve));
  await server.close();
  await closedByServer;
  expect(socket.bytesWritten).toBe(0);
});

it('an upstream request whose client has gone does not hold close()', async () => {
  let asked!: () => void;
  const upstreamAsked = new Promise<void>((resolve) => (asked = resolve));
  // An upstream that takes the request and never answers.
  const fake = await ws.upstream(new FakeUpstream().on('POST', '/v1/chat/completions', () => asked()));
  const log = capturedLog();
  const server = await ws.start({ mode: 'record', upstream: fake.url, logLevel: 'warn', logStream: log.stream });
  const client = new AbortController();
  const answer = fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m","messages":[]}', signal: client.signal });
  await upstreamAsked;
  client.abort();
  await expect(answer).rejects.toThrow();
  await server.close();
  expect(await recordingsIn(ws.dir)).toEqual([]);
  // Said in plain words, not undici's "The client is destroyed".
  await log.settled();
  expect(log.text()).toContain('not recorded: llm-replay was shutting down, its client already gone, before the upstream answered: the upstream call was ended');
});
