// A server that leaves record mode lets the directory's record lock go, so another may
// record there, but only once the exchanges it began in record mode have ended and are
// on disk; switching back to record takes the lock again, or answers 409 when another
// server took it meanwhile.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { capturedLog, listFiles, removeDir, serve, tempDir } from './support/harness.js';
import { LOCK_FILE } from '../src/recordings/record-lock.js';
import type { RunningServer } from '../src/index.js';

let dir: string;
let upstream: FakeUpstream;
let release: () => void;
let reached: Promise<void>;
const servers: RunningServer[] = [];

beforeEach(async () => {
  dir = await tempDir();
  const held = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  reached = new Promise((resolve) => (arrived = resolve));
  // Holds the call for the model "held" until the test releases it.
  upstream = await new FakeUpstream()
    .on('POST', '/v1/chat/completions', async (request, res) => {
      if ((JSON.parse(request.body) as { model: string }).model === 'held') {
        arrived();
        await held;
      }
      sendJson(res, 200, { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] });
    })
    .start();
});

afterEach(async () => {
  release();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await upstream.stop();
  await removeDir(dir);
});

async function start(mode: 'record' | 'replay'): Promise<RunningServer> {
  const server = await serve({ mode, recordings: dir, upstream: upstream.url });
  servers.push(server);
  return server;
}

function switchMode(server: RunningServer, mode: string): Promise<Response> {
  return fetch(`${server.url}/_llm-replay/mode`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }) });
}

function ask(server: RunningServer, model: string): Promise<Response> {
  return fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test', 'x-test-id': 'switch' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }) });
}

const lockFile = () => path.join(dir, LOCK_FILE);

/** The switch itself is immediate, its answer may wait: looks (bounded) until the server says it is in `mode`. */
async function untilMode(server: RunningServer, mode: string): Promise<void> {
  for (let look = 0; look < 500; look++) {
    if (((await (await fetch(`${server.url}/_llm-replay/health`)).json()) as { mode: string }).mode === mode) return;
  }
}

/** A record server whose exchange is held at the upstream, switched to replay: the switch shows at once (looked for, bounded), its answer may wait. */
async function awayWhileHeld(): Promise<{ server: RunningServer; answer: Promise<Response>; away: Promise<Response> }> {
  const server = await start('record');
  const answer = ask(server, 'held');
  await reached;
  const away = switchMode(server, 'replay');
  await untilMode(server, 'replay');
  return { server, answer, away };
}

describe('the record lock across mode switches', () => {
  it('goes when the server leaves record mode; switching back takes it again, or is a 409 while another server holds it', async () => {
    const first = await start('replay');
    expect((await switchMode(first, 'record')).status).toBe(200);
    expect(existsSync(lockFile())).toBe(true);
    await expect(serve({ mode: 'record', recordings: dir, upstream: upstream.url })).rejects.toThrow('which is still running');

    expect((await switchMode(first, 'replay')).status).toBe(200);
    expect(existsSync(lockFile())).toBe(false);
    const second = await start('record');

    const refused = await switchMode(first, 'record');
    expect(refused.status).toBe(409);
    expect(JSON.stringify(await refused.json())).toContain('llm_replay_directory_locked');
    expect(((await (await fetch(`${first.url}/_llm-replay/health`)).json()) as { mode: string }).mode).toBe('replay');

    await second.close();
    expect((await switchMode(first, 'record')).status).toBe(200);
    expect(existsSync(lockFile())).toBe(true);
  });

  it('is kept until an exchange begun in record mode has ended and is written, then goes', async () => {
    const { server, answer, away: switched } = await awayWhileHeld();
    expect(((await (await fetch(`${server.url}/_llm-replay/health`)).json()) as { mode: string }).mode).toBe('replay');
    expect(existsSync(lockFile())).toBe(true);
    await expect(serve({ mode: 'record', recordings: dir, upstream: upstream.url })).rejects.toThrow('which is still running');

    release();
    expect((await answer).status).toBe(200);
    expect((await switched).status).toBe(200);
    expect(existsSync(lockFile())).toBe(false);
    expect((await listFiles(dir)).filter((file) => file.endsWith('.json'))).toHaveLength(1);
  });

  it('is kept for an exchange whose client hung up while its upstream call went on, until its write is done', async () => {
    const server = await start('record');
    const client = new AbortController();
    const answer = fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'switch' }, body: JSON.stringify({ model: 'held', messages: [] }), signal: client.signal }).catch((error: Error) => error);
    await reached;
    client.abort();
    expect(await answer).toBeInstanceOf(Error);
    const switched = switchMode(server, 'replay');
    await untilMode(server, 'replay');
    // The client has gone, its exchange has not: the upstream still thinks, and its answer will be written.
    expect(existsSync(lockFile())).toBe(true);
    release();
    expect((await switched).status).toBe(200);
    expect(existsSync(lockFile())).toBe(false);
    expect((await listFiles(dir)).filter((file) => file.endsWith('.json'))).toHaveLength(1);
  });

  it('a switch away from record that waits on an exchange is answered at once when the server switches back, the lock kept', async () => {
    const { server, answer, away } = await awayWhileHeld();
    expect((await switchMode(server, 'record')).status).toBe(200);
    // The first switch no longer waits for the held exchange: it is answered, and the lock stays with the server back in record mode.
    expect((await away).status).toBe(200);
    expect(existsSync(lockFile())).toBe(true);
    release();
    expect((await answer).status).toBe(200);
    expect(existsSync(lockFile())).toBe(true);
  });

  it("says in the log whose lock it took over, at start and at a switch to record: a dead run's lock goes without a word no more", async () => {
    const deadRun = () => writeFileSync(lockFile(), JSON.stringify({ pid: process.pid, token: 'a-dead-run', since: '2026-01-01T00:00:00.000Z' }));
    deadRun();
    const logs = capturedLog();
    const recorder = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, logLevel: 'warn', logStream: logs.stream });
    servers.push(recorder);
    expect((await switchMode(recorder, 'replay')).status).toBe(200);
    deadRun();
    expect((await switchMode(recorder, 'record')).status).toBe(200);
    await logs.settled();
    const said = logs.text().split('\n').filter((line) => line.includes('took over the record lock'));
    expect(said).toHaveLength(2);
    for (const line of said) expect(line).toContain(`left by pid ${process.pid} (since 2026-01-01T00:00:00.000Z; an earlier process with this pid`);
  });
});
