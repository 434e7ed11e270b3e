// What a web page in the user's browser can do with a server on loopback: nothing
// through a foreign Host or Origin (DNS rebinding), on the proxied routes as on the
// admin ones; and a recorded page, opened from this server, cannot act in its origin.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { listFiles, workspace } from './support/harness.js';
import type { RunningServer } from '../src/index.js';

const ws = workspace();

interface RawAnswer {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** One request as raw bytes, the Host header exactly as given: the answer's status line, headers and body. */
async function rawHttp(server: RunningServer, method: string, path: string, headers: Record<string, string>, body = ''): Promise<RawAnswer> {
  const socket = connect(server.port, '127.0.0.1');
  let text = '';
  const lines = Object.entries({ 'content-length': String(Buffer.byteLength(body)), connection: 'close', ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
  // Written, not ended: a half-closed connection is a client that went away.
  socket.write(`${method} ${path} HTTP/1.1\r\n${lines.join('')}\r\n${body}`);
  // Read to the end of the answer's body (a replayed answer may keep the connection open).
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (end >= 0 && length && text.length - end - 4 >= Number(length[1])) socket.destroy();
      if (end >= 0 && !length && text.endsWith('0\r\n\r\n')) socket.destroy();
    });
    socket.on('close', () => resolve());
  });
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const parsed = new Map(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()] as [string, string]));
  return { status: Number(statusLine.split(' ')[1]), headers: parsed, body: rest.join('\r\n\r\n') };
}

const CHAT = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'the secret plan' }] });
const LOCAL = { host: '127.0.0.1', 'content-type': 'application/json' };

describe('the proxied routes on a loopback server', () => {
  it('answer only a loopback Host and a page on loopback: a rebound name can neither record through the proxy nor read a miss report', async () => {
    const upstream = await new FakeUpstream().on('POST', /.*/, (_r, res) => sendJson(res, 200, { forwarded: true })).start();
    ws.cleanup.push(() => upstream.stop());
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    for (const headers of <Array<Record<string, string>>>[{ host: 'rebound.example:8787' }, { origin: 'https://evil.example' }, { origin: 'null' }]) {
      const answer = await rawHttp(recorder, 'POST', '/v1/chat/completions', { ...LOCAL, ...headers }, CHAT);
      expect({ headers, status: answer.status }).toEqual({ headers, status: 403 });
      expect(JSON.parse(answer.body).error.message).toContain('--allow-hosts');
    }
    expect(upstream.received).toEqual([]);
    expect(await listFiles(ws.dir)).toEqual([]);

    // A miss report repeats the prompt: a rebound page must not read it.
    const replayer = await ws.start({ mode: 'replay' });
    const miss = await rawHttp(replayer, 'POST', '/v1/chat/completions', { ...LOCAL, host: 'rebound.example' }, CHAT);
    expect(miss.status).toBe(403);
    expect(miss.body).not.toContain('the secret plan');
    // This machine, any loopback spelling, and a page served from loopback.
    for (const headers of <Array<Record<string, string>>>[{}, { host: 'localhost:1' }, { host: '[::1]:1' }, { origin: 'http://localhost:5173' }]) {
      const answer = await rawHttp(replayer, 'POST', '/v1/chat/completions', { ...LOCAL, ...headers }, CHAT);
      expect({ headers, status: answer.status }).toEqual({ headers, status: 404 });
    }
  });

  it('answer the names given with allowHosts (a container name), and any with *', async () => {
    const named = await ws.start({ mode: 'replay', allowHosts: 'proxy.internal, other' });
    expect((await rawHttp(named, 'POST', '/v1/chat/completions', { ...LOCAL, host: 'PROXY.internal:8787' }, CHAT)).status).toBe(404);
    expect((await rawHttp(named, 'POST', '/v1/chat/completions', { ...LOCAL, host: 'third.internal' }, CHAT)).status).toBe(403);
    // The admin endpoints keep their own rule: another name needs the admin token.
    expect((await rawHttp(named, 'GET', '/_llm-replay/stats', { host: 'proxy.internal' })).status).toBe(403);
    const any = await ws.start({ mode: 'replay', allowHosts: '*' });
    expect((await rawHttp(any, 'POST', '/v1/chat/completions', { ...LOCAL, host: 'anything.example' }, CHAT)).status).toBe(404);
  });

  it('are open beyond loopback, where the start-up warning says so', async () => {
    const server = await ws.start({ mode: 'replay', host: '0.0.0.0' });
    expect(server.warning).toContain('anyone who can reach this port can use the proxy');
    expect((await rawHttp(server, 'POST', '/v1/chat/completions', { ...LOCAL, host: 'box.lan' }, CHAT)).status).toBe(404);
  });

  it('refuse a bad allowHosts at start, naming it', async () => {
    await expect(ws.start({ mode: 'replay', allowHosts: ' ' })).rejects.toThrow(/allowHosts/);
  });
});

describe('answers that are not the inspector page', () => {
  const HTML = '<html><body><script>fetch("/_llm-replay/mode",{method:"PUT",body:JSON.stringify({mode:"live"})})</script></body></html>';

  it('a recorded HTML error page, replayed, is sandboxed and never sniffed, whatever the upstream said', async () => {
    const upstream = await new FakeUpstream()
      .on('GET', '/v1/models/page', (_r, res) => {
        res.writeHead(404, { 'content-type': 'text/html', 'content-security-policy': "script-src 'unsafe-inline'" });
        res.end(HTML);
      })
      .start();
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    const recorded = await rawHttp(recorder, 'GET', '/v1/models/page', { host: '127.0.0.1' });
    expect(recorded.status).toBe(404);
    expect(recorded.headers.get('content-security-policy')).toBe('sandbox');
    expect(recorded.headers.get('x-content-type-options')).toBe('nosniff');
    await upstream.stop();
    await recorder.close();

    const replayer = await ws.start({ mode: 'replay' });
    const replayed = await rawHttp(replayer, 'GET', '/v1/models/page', { host: '127.0.0.1' });
    expect(replayed.status).toBe(404);
    expect(replayed.body).toBe(HTML);
    expect(replayed.headers.get('content-type')).toMatch(/^text\/html/);
    expect(replayed.headers.get('content-security-policy')).toBe('sandbox');
    expect(replayed.headers.get('x-content-type-options')).toBe('nosniff');
    // Replayed with a fault (the answer written by hand), and a miss, and an admin answer: the same.
    const faulted = await rawHttp(replayer, 'GET', '/v1/models/page', { host: '127.0.0.1', 'x-llm-replay-fault': 'latency=1ms' });
    const missed = await rawHttp(replayer, 'POST', '/v1/chat/completions', LOCAL, CHAT);
    const admin = await rawHttp(replayer, 'GET', '/_llm-replay/stats', { host: '127.0.0.1' });
    for (const answer of [faulted, missed, admin]) {
      expect(answer.headers.get('content-security-policy')).toBe('sandbox');
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect(faulted.body).toContain(HTML);
    expect(replayer.config.mode).toBe('replay');
  });

  it('the inspector page keeps its own policy, which lets its script run', async () => {
    const server = await ws.start({ mode: 'replay' });
    const page = await rawHttp(server, 'GET', '/_llm-replay/ui/', { host: '127.0.0.1' });
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
