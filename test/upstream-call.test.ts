// One upstream call through undici's dispatch (src/proxy/upstream-call.ts), against a
// local HTTP server: the head, a body taken whole or as a stream, a slow reader holding
// the upstream back rather than filling memory, and a stream destroyed ending the call.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamCall } from '../src/proxy/upstream-call.js';

const BIG = Buffer.alloc(4 * 1024 * 1024, 'x');

describe('an upstream call', () => {
  let server: Server;
  let origin: string;
  let agent: Agent;
  /** Each answer's close as the server sees it, in the order asked: whether the answer was all sent first. */
  let closes: Array<Promise<boolean>>;

  beforeEach(async () => {
    closes = [];
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      closes.push(new Promise((resolve) => response.on('close', () => resolve(response.writableFinished))));
      if (request.url === '/big') {
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'x-seen': 'yes' });
        return void response.end(BIG);
      }
      if (request.url === '/long') {
        // Far more than socket buffers hold, written as fast as it is taken: only a connection ended early stops it before the end.
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        let left = 256;
        const more = (): void => {
          while (left > 0 && !response.destroyed) {
            left--;
            if (!response.write(BIG.subarray(0, 1024 * 1024))) return void response.once('drain', more);
          }
          if (!response.destroyed) response.end();
        };
        return more();
      }
      if (request.url === '/broken') {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        response.write('{"half":');
        return void setImmediate(() => response.destroy());
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = new Agent();
  });

  afterEach(async () => {
    await agent.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function call(path: string, signal?: AbortSignal): UpstreamCall {
    const upstream = new UpstreamCall(signal);
    agent.dispatch({ origin, path, method: 'GET' }, upstream);
    return upstream;
  }

  it('gives the head, then the body whole, taken before or after it has all arrived', async () => {
    const early = call('/ok');
    const head = await early.head;
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('application/json');
    expect((await early.whole()).toString()).toBe('{"ok":true}');
    const late = call('/ok');
    await late.head;
    await closes[1];
    // The body read and ended on this side too before it is taken.
    for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect((await late.whole()).toString()).toBe('{"ok":true}');
    expect(() => late.stream()).toThrow(/already taken/);
  });

  it('holds the upstream back while a stream is read slowly, and ends with every byte', async () => {
    const upstream = call('/big');
    expect((await upstream.head).headers['x-seen']).toBe('yes');
    const stream = upstream.stream();
    await new Promise((resolve) => stream.once('readable', resolve));
    // Unread for many turns of the event loop: time for the upstream to send all of it, were it not held back.
    for (let turn = 0; turn < 100; turn++) await new Promise((resolve) => setImmediate(resolve));
    const mostBuffered = stream.readableLength;
    let received = 0;
    for await (const chunk of stream) received += (chunk as Buffer).length;
    expect(received).toBe(BIG.length);
    // Unpaused, the whole answer would wait in the stream's buffer for the slow reader.
    expect(mostBuffered).toBeLessThan(1024 * 1024);
    expect(await closes[0]).toBe(true);
  });

  it('ends the upstream call when its stream is destroyed before the end', async () => {
    const upstream = call('/long');
    await upstream.head;
    const stream = upstream.stream();
    stream.on('error', () => {});
    await new Promise((resolve) => stream.once('data', resolve));
    stream.destroy();
    // The server's answer closes before it was all sent: the connection was ended, not drained.
    expect(await closes[0]).toBe(false);
  });

  it('rejects the whole body when the upstream breaks it off, and the head when there is no upstream', async () => {
    const broken = call('/broken');
    await broken.head;
    await expect(broken.whole()).rejects.toThrow();
    const nowhere = new UpstreamCall();
    agent.dispatch({ origin: 'http://127.0.0.1:9', path: '/', method: 'GET' }, nowhere);
    await expect(nowhere.head).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a stream taken after the call broke off, listened to a turn later, does not bring the process down', async () => {
    const upstream = call('/broken');
    await upstream.head;
    // The failure lands before the body is taken.
    await expect(closes[0]).resolves.toBe(false);
    for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
    const uncaught: unknown[] = [];
    const note = (error: unknown) => uncaught.push(error);
    process.prependListener('uncaughtException', note);
    try {
      const stream = upstream.stream();
      await new Promise((resolve) => setImmediate(resolve));
      const failed = new Promise((resolve) => stream.on('error', resolve));
      expect(stream.destroyed).toBe(true);
      await Promise.race([failed, new Promise((resolve) => setImmediate(resolve))]);
    } finally {
      process.off('uncaughtException', note);
    }
    expect(uncaught).toEqual([]);
  });

  it('ends the call when its signal is aborted: before the head, the head rejects', async () => {
    const controller = new AbortController();
    controller.abort();
    const upstream = call('/ok', controller.signal);
    await expect(upstream.head).rejects.toThrow(/abort/i);
  });
});
