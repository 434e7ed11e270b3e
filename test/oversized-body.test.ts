// A body over --body-limit is answered 413, naming the limit, in a way the client can
// read: the rest of the body it is still sending is read and dropped (not reset under it,
// which an SDK reports as a connection error and uploads again), the connection kept;
// and a client waiting for "100 Continue" is refused before it sends anything.
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { openai, workspace } from './support/harness.js';

const ws = workspace();
const LIMIT = 1000;

function answerOf(sent: ClientRequest): Promise<{ response: IncomingMessage; text: string }> {
  return new Promise((resolve, reject) => {
    sent.once('response', (response) => {
      let text = '';
      response.on('data', (part: Buffer) => (text += part.toString()));
      response.on('end', () => resolve({ response, text }));
    });
    sent.once('error', reject);
  });
}

describe('a body over the limit', () => {
  it('is answered 413 while the client is still sending it; the rest is read, and the connection serves the next request', async () => {
    const server = await ws.start({ mode: 'replay', bodyLimit: LIMIT });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    ws.cleanup.push(async () => agent.destroy());
    const size = 4 * 1024 * 1024;
    const sent = request(`${server.url}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': size } });
    const errors: Error[] = [];
    sent.on('error', (error) => errors.push(error));
    const answered = answerOf(sent);
    sent.write(Buffer.alloc(64 * 1024, 'a'));
    // The answer comes before the body is done: the client goes on sending the rest, as an SDK does.
    const { response, text } = await answered;
    expect(response.statusCode).toBe(413);
    expect(JSON.parse(text).error.message).toContain(`larger than the limit of ${LIMIT} bytes`);
    // Done sending, or cut off: a connection closed under the client ends the request with an error.
    await new Promise<void>((resolve) => {
      sent.once('close', resolve);
      sent.end(Buffer.alloc(size - 64 * 1024, 'a'), resolve);
    });
    expect(errors).toEqual([]);
    // The same connection, kept: the next request on it is answered as any other (a miss here).
    const next = request(`${server.url}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } });
    const nextAnswer = answerOf(next);
    next.end(JSON.stringify({ model: 'm', messages: [] }));
    const after = await nextAnswer;
    expect(after.response.statusCode).toBe(404);
    expect(next.reusedSocket).toBe(true);
  });

  it('from a client that stops sending after the 413 is read only until the request timeout, then the connection closes', async () => {
    const server = await ws.start({ mode: 'replay', bodyLimit: LIMIT, headersTimeoutMs: 150, bodyTimeoutMs: 300 });
    const { port } = new URL(server.url);
    // A body announced at 1 MB, of which 10 bytes come: what was read of it is dropped, and the socket is not held for good.
    const received = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"model":1`));
      let text = '';
      socket.on('data', (part: Buffer) => (text += part.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect((await fetch(`${server.url}/_llm-replay/health`)).status).toBe(200);
  });

  it('announced with Expect: 100-continue, is refused before the client sends it', async () => {
    const server = await ws.start({ mode: 'replay', bodyLimit: LIMIT });
    const sent = request(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 5 * LIMIT, expect: '100-continue' } });
    let continued = false;
    sent.on('continue', () => {
      continued = true;
      sent.end(Buffer.alloc(5 * LIMIT, 'a'));
    });
    const { response, text } = await answerOf(sent);
    expect(response.statusCode).toBe(413);
    expect(JSON.parse(text).error.message).toContain(`larger than the limit of ${LIMIT} bytes`);
    expect(continued).toBe(false);
    sent.destroy();
  });

  it('reaches the openai SDK as a 413 naming the limit, not a connection error', async () => {
    const server = await ws.start({ mode: 'replay', bodyLimit: 100_000 });
    const refused = await openai(server)
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(8 * 1024 * 1024) }] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(APIError);
    expect((refused as APIError).status).toBe(413);
    expect((refused as APIError).message).toContain('larger than the limit of 100000 bytes');
  });
});
