// A body over --body-limit is answered 413, naming the limit, in a way the client can
// read: the rest of the body it is still sending is read and dropped first (bounded), not
// reset under it (which an SDK reports as a connection error and uploads again); a client
// waiting for "100 Continue" is refused before it sends anything; a client that stalls
// meanwhile is timed out, and a closing server does not wait for it.
import { request } from 'node:http';
import { connect } from 'node:net';
import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { openai, serve, workspace } from './support/harness.js';

const ws = workspace();
const LIMIT = 1000;
/** Above this announced size the answer does not wait for the body (README, bad input). */
const ANSWERED_AT_ONCE_ABOVE = 64 * 1024 * 1024;

/**
 * Sends `head` and then `body` on a raw connection, all of it at once: the answer once it
 * is whole (by its Content-Length) and the body was all sent, or once the connection
 * closed; and the error that cut the connection, if one did (a reset under the upload).
 */
function rawExchange(url: string, head: string, body: Buffer): Promise<{ text: string; error?: string }> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    let text = '';
    let error: string | undefined;
    let sent = false;
    let whole = false;
    const settle = () => {
      socket.destroy();
      resolve(error === undefined ? { text } : { text, error });
    };
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(head);
      socket.write(body, (cause) => {
        if (cause) error ??= (cause as NodeJS.ErrnoException).code ?? cause.message;
        sent = true;
        if (whole) settle();
      });
    });
    socket.on('data', (part: Buffer) => {
      text += part.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, end));
      whole = end >= 0 && length !== null && text.length >= end + 4 + Number(length[1]);
      if (whole && sent) settle();
    });
    socket.on('error', (cause: NodeJS.ErrnoException) => (error ??= cause.code ?? cause.message));
    socket.on('close', settle);
  });
}

const headOf = (size: number, extra = '') => `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n${extra}\r\n`;

describe('a body over the limit', () => {
  for (const [name, extra] of [['a keep-alive client', ''], ['a client that sent Connection: close', 'Connection: close\r\n']]) {
    it(`is answered 413 once ${name} has sent it all, never reset under it`, async () => {
      const server = await ws.start({ mode: 'replay', bodyLimit: LIMIT });
      const size = 32 * 1024 * 1024;
      const { text, error } = await rawExchange(server.url, headOf(size, extra), Buffer.alloc(size, 'a'));
      expect(error).toBeUndefined();
      expect(text).toMatch(/^HTTP\/1\.1 413 /);
      expect(text).toContain(`larger than the limit of ${LIMIT} bytes`);
      expect((await fetch(`${server.url}/_llm-replay/health`)).status).toBe(200);
    });
  }

  it('announced larger than 64 MiB, is answered at once: no upload that size is waited for', async () => {
    const server = await ws.start({ mode: 'replay', bodyLimit: LIMIT });
    // Ten bytes of it come, then nothing: the answer does not wait for the rest (nor for the request timeout).
    const { text } = await rawExchange(server.url, headOf(ANSWERED_AT_ONCE_ABOVE + 1), Buffer.from('{"model":1'));
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('from a client that stops sending is waited for only until the request timeout (Node answers 408), and the server serves on', async () => {
    const server = await ws.start({ mode: 'replay', bodyLimit: LIMIT, headersTimeoutMs: 150, bodyTimeoutMs: 300 });
    // A body announced at 1 MB, of which 10 bytes come.
    const { text } = await rawExchange(server.url, headOf(1_000_000), Buffer.from('{"model":1'));
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).not.toContain(' 413 ');
    expect((await fetch(`${server.url}/_llm-replay/health`)).status).toBe(200);
  });

  it('does not hold up the server\'s close: a client still sending is cut off', async () => {
    // Closed here, not by the workspace.
    const server = await serve({ recordings: ws.dir, mode: 'replay', bodyLimit: LIMIT });
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(headOf(1_000_000) + '{"model":1'));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.resume();
    // Its 1 MB is being waited for once an answer on another connection, asked after it was sent, has come.
    await new Promise<void>((resolve) => socket.once('ready', resolve));
    expect((await fetch(`${server.url}/_llm-replay/health`)).status).toBe(200);
    // close() ends it (the test's timeout bounds the wait; Node times no request out while closing, and the keep-alive alone would take 73 s).
    await server.close();
    await closed;
  });

  it('announced with Expect: 100-continue, is refused before the client sends it', async () => {
    const server = await ws.start({ mode: 'replay', bodyLimit: LIMIT });
    const sent = request(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 5 * LIMIT, expect: '100-continue' } });
    let continued = false;
    sent.on('continue', () => {
      continued = true;
      sent.end(Buffer.alloc(5 * LIMIT, 'a'));
    });
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      sent.once('response', (response) => {
        let text = '';
        response.on('data', (part: Buffer) => (text += part.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      });
      sent.once('error', reject);
    });
    expect(status).toBe(413);
    expect(JSON.parse(text).error.message).toContain(`larger than the limit of ${LIMIT} bytes`);
    expect(continued).toBe(false);
    sent.destroy();
  });

  it('reaches the openai SDK as a 413 naming the limit', async () => {
    const server = await ws.start({ mode: 'replay', bodyLimit: 100_000 });
    const refused = await openai(server)
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(8 * 1024 * 1024) }] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(APIError);
    expect((refused as APIError).status).toBe(413);
    expect((refused as APIError).message).toContain('larger than the limit of 100000 bytes');
  });
});
