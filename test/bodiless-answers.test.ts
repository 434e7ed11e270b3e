// Answers with no body: to HEAD, a 204, a 304. An answer to HEAD's Content-Length is
// the length of what a GET would get: every mode that forwards passes the upstream's
// on, rather than the length of the nothing it sent (0) or none at all, and replay
// gives back the one its recording holds. Replay never claims a length for the
// recorded `null` of a body that is not there.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { keyOfRecording } from '../src/keys/index.js';
import { keptHeaders } from '../src/proxy/failure-policy.js';
import type { Recording } from '../src/recordings/recording.js';
import { FakeUpstream } from './support/fake-upstream.js';
import { recordingsIn, workspace } from './support/harness.js';

const ws = workspace();
const LENGTH = '1234';

function upstream(): FakeUpstream {
  return new FakeUpstream().on('HEAD', '/v1/files/file-abc/content', (_request, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': LENGTH });
    res.end();
  });
}

/** A HEAD over raw HTTP: its status, its Content-Length, and the bytes that came (none). */
async function head(url: string): Promise<{ status: number; length: unknown; bytes: number }> {
  const response = await request(`${url}/v1/files/file-abc/content`, { method: 'HEAD' });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, length: response.headers['content-length'], bytes: body.length };
}

describe('HEAD', () => {
  it.each(['record', 'record-if-missing', 'live'] as const)("in %s mode: the upstream's content-length reaches the client, and no body", async (mode) => {
    const fake = await ws.upstream(upstream());
    const server = await ws.start({ mode, upstream: fake.url });
    expect(await head(server.url)).toEqual({ status: 200, length: LENGTH, bytes: 0 });
    expect(fake.calls()).toBe(1);
  });

  it('in record mode the answer is recorded as one without a body, with its content-length, which replay gives back', async () => {
    const fake = await ws.upstream(upstream());
    const server = await ws.start({ mode: 'record', upstream: fake.url });
    await head(server.url);
    await server.close();
    await fake.stop();
    const [file] = await recordingsIn(ws.dir);
    expect(file?.data.request.method).toBe('HEAD');
    expect(file?.data.response).toMatchObject({ body: null, status: 200, is_streaming: false, headers: { 'content-length': LENGTH } });
    const replay = await ws.start({ mode: 'replay' });
    expect(await head(replay.url)).toEqual({ status: 200, length: LENGTH, bytes: 0 });
  });

  it('a recording keeps the content-length of an answer to HEAD, and of no other', () => {
    const headers = { 'content-type': 'application/octet-stream', 'content-length': LENGTH, etag: '"v1"' };
    expect(keptHeaders(headers, 200, 'HEAD')).toEqual({ 'content-type': 'application/octet-stream', 'content-length': LENGTH });
    expect(keptHeaders(headers, 200, 'GET')).toEqual({ 'content-type': 'application/octet-stream' });
  });

  it('in replay: the content-length the recording holds, no body; without one, 0 (not the length of its null)', async () => {
    const recording = (headers: Record<string, string>): Recording => ({
      test_id: null,
      request: { method: 'HEAD', url: 'https://api.openai.com/v1/files/file-abc/content', headers: {}, body: null, endpoint: '/v1/files/file-abc/content', model: '' },
      response: { body: null, is_streaming: false, status: 200, headers },
      id_normalization_mapping: {},
    });
    const withLength = recording({ 'content-type': 'application/octet-stream', 'content-length': LENGTH });
    await writeFile(path.join(ws.dir, `${await keyOfRecording('default', withLength)}.json`), JSON.stringify(withLength, null, 2));
    const server = await ws.start({ mode: 'replay' });
    expect(await head(server.url)).toEqual({ status: 200, length: LENGTH, bytes: 0 });
    await server.close();

    const without = recording({ 'content-type': 'application/octet-stream' });
    await writeFile(path.join(ws.dir, `${await keyOfRecording('default', without)}.json`), JSON.stringify(without, null, 2));
    const again = await ws.start({ mode: 'replay' });
    expect(await head(again.url)).toEqual({ status: 200, length: '0', bytes: 0 });
  });
});

describe('204 and 304', () => {
  it('are recorded, then replayed with no body and no length (a client reading a 304 that claims 4 bytes fails; a 304 may claim only the 200\'s)', async () => {
    const fake = await ws.upstream(
      new FakeUpstream()
        .on('GET', '/v1/files/file-abc', (_request, res) => {
          res.writeHead(304, { etag: '"v1"' });
          res.end();
        })
        .on('DELETE', '/v1/files/file-abc', (_request, res) => {
          res.writeHead(204);
          res.end();
        }),
    );
    const answers = async (url: string) => {
      const notModified = await request(`${url}/v1/files/file-abc`, { headers: { 'if-none-match': '"v1"' } });
      const deleted = await request(`${url}/v1/files/file-abc`, { method: 'DELETE' });
      const bytes = (await notModified.body.arrayBuffer()).byteLength + (await deleted.body.arrayBuffer()).byteLength;
      return { statuses: [notModified.statusCode, deleted.statusCode], lengths: [notModified.headers['content-length'], deleted.headers['content-length']], bytes };
    };
    const recorder = await ws.start({ mode: 'record', upstream: fake.url });
    const recorded = await answers(recorder.url);
    await recorder.close();
    expect(await recordingsIn(ws.dir)).toHaveLength(2);
    await fake.stop();
    const replayer = await ws.start({ mode: 'replay' });
    const replayed = await answers(replayer.url);
    // No length on either: a 304's could only be the 200's.
    expect(replayed).toEqual({ statuses: [304, 204], lengths: [undefined, undefined], bytes: 0 });
    expect(replayed).toEqual(recorded);
  });
});

describe('an answer with no body under a stream content type', () => {
  it('HEAD on a streaming endpoint is an answer without a body, recorded and replayed, never a stream cut before its end', async () => {
    const fake = await ws.upstream(
      new FakeUpstream().on('HEAD', '/v1/responses/resp_abc/events', (_request, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'content-length': '0' });
        res.end();
      }),
    );
    const ask = async (url: string) => {
      const response = await request(`${url}/v1/responses/resp_abc/events`, { method: 'HEAD' });
      return { status: response.statusCode, type: response.headers['content-type'], bytes: (await response.body.arrayBuffer()).byteLength };
    };
    const recorder = await ws.start({ mode: 'record', upstream: fake.url });
    expect(await ask(recorder.url)).toEqual({ status: 200, type: 'text/event-stream', bytes: 0 });
    await recorder.close();
    await fake.stop();
    const [file] = await recordingsIn(ws.dir);
    expect(file?.data.response).toMatchObject({ body: null, status: 200, is_streaming: false });
    const replayer = await ws.start({ mode: 'replay' });
    expect(await ask(replayer.url)).toEqual({ status: 200, type: 'text/event-stream', bytes: 0 });
  });
});
