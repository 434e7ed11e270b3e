// Upstreams are asked for identity, but some compress all the same: gzip, deflate and
// br are undone (one or several in a row), recorded as the plain answer and sent to the
// client without the coding; an answer in any other coding is passed on as it came,
// with its Content-Encoding, and not written, unless it has no body to read.
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { request } from 'undici';
import { describe, expect, it, vi } from 'vitest';
import { FakeUpstream } from './support/fake-upstream.js';
import { capturedLog, listFiles, workspace } from './support/harness.js';

const ws = workspace();
const ANSWER = '{"id":"chatcmpl-1","object":"chat.completion","created":1,"choices":[{"index":0,"message":{"role":"assistant","content":"compressed twice"}}]}';
const OPAQUE = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x61, 0x62, 0x63]);

function upstream(): FakeUpstream {
  return new FakeUpstream()
    .on('POST', '/v1/twice', (_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip, br' });
      res.end(brotliCompressSync(gzipSync(ANSWER)));
    })
    .on('POST', '/v1/zstd', (_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'zstd' });
      // Late, so that an identical request of another run waits on this one.
      setTimeout(() => res.end(OPAQUE), 100);
    })
    .on('HEAD', '/v1/files/f', (_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': '20' });
      res.end();
    })
    .on('POST', '/v1/none', (_request, res) => {
      res.writeHead(204, { 'content-encoding': 'gzip' });
      res.end();
    })
    .on('HEAD', '/v1/files/z', (_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'zstd', 'content-length': '20' });
      res.end();
    })
    .on('POST', '/v1/none-zstd', (_request, res) => {
      res.writeHead(204, { 'content-encoding': 'zstd' });
      res.end();
    })
    .on('GET', '/v1/files/z', (_request, res) => {
      res.writeHead(304, { 'content-encoding': 'zstd', etag: '"z"' });
      res.end();
    });
}

async function ask(url: string, path: string, run = '', authorization?: string): Promise<{ status: number; coding: unknown; body: Buffer }> {
  const headers = { 'content-type': 'application/json', 'x-llm-replay-run': run, ...(authorization ? { authorization } : {}) };
  const response = await request(`${url}${path}`, { method: 'POST', headers, body: '{"model":"m"}' });
  return { status: response.statusCode, coding: response.headers['content-encoding'], body: Buffer.from(await response.body.arrayBuffer()) };
}

describe('an answer the upstream compressed', () => {
  it('in codings applied one after the other (gzip, then br): undone, recorded plain, replayed plain', async () => {
    const fake = await ws.upstream(upstream());
    const recorder = await ws.start({ mode: 'record', upstream: fake.url });
    const recorded = await ask(recorder.url, '/v1/twice');
    expect({ status: recorded.status, coding: recorded.coding }).toEqual({ status: 200, coding: undefined });
    expect(JSON.parse(recorded.body.toString()).choices[0].message.content).toBe('compressed twice');
    await recorder.close();
    const replayer = await ws.start({ mode: 'replay' });
    const replayed = await ask(replayer.url, '/v1/twice');
    expect(replayed.coding).toBeUndefined();
    expect(JSON.parse(replayed.body.toString()).choices[0].message.content).toBe('compressed twice');
  });

  it('in a coding llm-replay cannot undo: passed on as it came, its coding named, not written, and the log says why once', async () => {
    const fake = await ws.upstream(upstream());
    const log = capturedLog();
    const recorder = await ws.start({ mode: 'record', upstream: fake.url, logLevel: 'warn', logStream: log.stream });
    for (let i = 0; i < 2; i++) expect(await ask(recorder.url, '/v1/zstd')).toEqual({ status: 200, coding: 'zstd', body: OPAQUE });
    expect((await listFiles(ws.dir)).filter((file) => file.endsWith('.json'))).toEqual([]);
    await log.settled();
    const said = log.text().split('\n').filter((line) => line.includes('content-encoding: zstd'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('cannot undo');
    const live = await ws.start({ mode: 'live', upstream: fake.url });
    expect(await ask(live.url, '/v1/zstd')).toEqual({ status: 200, coding: 'zstd', body: OPAQUE });
  });

  it('in a coding llm-replay cannot undo, to identical requests of other runs that waited on it: not shared (it cannot be scrubbed of its credentials); each asks in turn, the upstream never twice at once', async () => {
    // The answer names the key it was asked with, as an echo of the request would: compressed, nothing could scrub it.
    // The first call is held until the other runs wait on it; at most one call is in flight at any time.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inFlight = 0;
    let mostAtOnce = 0;
    const fake = await ws.upstream(
      upstream().on('POST', '/v1/zstd-echo', async (request, res) => {
        mostAtOnce = Math.max(mostAtOnce, ++inFlight);
        await gate;
        // Each answer takes a while: calls made at once would overlap.
        await new Promise((resolve) => setTimeout(resolve, 50));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'zstd' });
        res.end(Buffer.concat([OPAQUE, Buffer.from(String(request.headers.authorization))]), () => inFlight--);
      }),
    );
    const server = await ws.start({ mode: 'record-if-missing', upstream: fake.url });
    const runs = ['a', 'b', 'c'];
    const answers = Promise.all(runs.map((run) => ask(server.url, '/v1/zstd-echo', run, `Bearer sk-run-${run}-0123456789`)));
    await vi.waitFor(() => expect(server.app.occurrences.size).toBe(3), { timeout: 10_000 });
    release();
    expect(await answers).toEqual(runs.map((run) => ({ status: 200, coding: 'zstd', body: Buffer.concat([OPAQUE, Buffer.from(`Bearer sk-run-${run}-0123456789`)]) })));
    expect(fake.calls('/v1/zstd-echo')).toBe(3);
    expect(mostAtOnce).toBe(1);
    expect(server.app.inflight.size).toBe(0);
  });

  it('with no body (HEAD, 204): nothing to undo, its coding kept, no error', async () => {
    const fake = await ws.upstream(upstream());
    const server = await ws.start({ mode: 'record', upstream: fake.url });
    const head = await request(`${server.url}/v1/files/f`, { method: 'HEAD' });
    await head.body.dump();
    expect({ status: head.statusCode, coding: head.headers['content-encoding'] }).toEqual({ status: 200, coding: 'gzip' });
    const none = await ask(server.url, '/v1/none');
    expect({ status: none.status, coding: none.coding, bytes: none.body.length }).toEqual({ status: 204, coding: 'gzip', bytes: 0 });
  });

  it('with no body (HEAD, 204, 304) in a coding llm-replay cannot undo: nothing to read, so recorded like any other, and replayed', async () => {
    const fake = await ws.upstream(upstream());
    const log = capturedLog();
    const recorder = await ws.start({ mode: 'record', upstream: fake.url, logLevel: 'warn', logStream: log.stream });
    const bodiless = async (url: string) => {
      const head = await request(`${url}/v1/files/z`, { method: 'HEAD' });
      const notModified = await request(`${url}/v1/files/z`, { headers: { 'if-none-match': '"z"' } });
      const none = await ask(url, '/v1/none-zstd');
      const bytes = (await head.body.arrayBuffer()).byteLength + (await notModified.body.arrayBuffer()).byteLength + none.body.length;
      return { statuses: [head.statusCode, notModified.statusCode, none.status], bytes };
    };
    expect(await bodiless(recorder.url)).toEqual({ statuses: [200, 304, 204], bytes: 0 });
    await recorder.close();
    await log.settled();
    expect(log.text()).not.toContain('zstd');
    const files = (await listFiles(ws.dir)).filter((file) => file.endsWith('.json'));
    expect(files).toHaveLength(3);
    await fake.stop();
    const replayer = await ws.start({ mode: 'replay' });
    expect(await bodiless(replayer.url)).toEqual({ statuses: [200, 304, 204], bytes: 0 });
  });
});
