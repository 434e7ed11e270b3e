// An answer to HEAD has no body; its Content-Length is the length of what a GET would
// get. Every mode that forwards passes the upstream's on, rather than the length of the
// nothing it sent (0) or none at all; replay gives back the one its recording holds.
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

  it('in record mode the answer is recorded as one without a body', async () => {
    const fake = await ws.upstream(upstream());
    const server = await ws.start({ mode: 'record', upstream: fake.url });
    await head(server.url);
    await server.close();
    const [file] = await recordingsIn(ws.dir);
    expect(file?.data.request.method).toBe('HEAD');
    expect(file?.data.response).toMatchObject({ body: null, status: 200, is_streaming: false });
  });

  it('a recording keeps the content-length of an answer to HEAD, and of no other', () => {
    const headers = { 'content-type': 'application/octet-stream', 'content-length': LENGTH, etag: '"v1"' };
    expect(keptHeaders(headers, 200, 'HEAD')).toEqual({ 'content-type': 'application/octet-stream', 'content-length': LENGTH });
    expect(keptHeaders(headers, 200, 'GET')).toEqual({ 'content-type': 'application/octet-stream' });
    expect(keptHeaders(headers, 200)).toEqual({ 'content-type': 'application/octet-stream' });
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
