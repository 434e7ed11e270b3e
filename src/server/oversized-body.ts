// A request body over --body-limit gets its 413 (fastify's content-type parser refuses it)
// in a way the client can read. Answered at once, its connection closed (as fastify asks),
// Node closed the socket while the client was still sending: the client saw a reset
// (EPIPE) instead of the 413, and an SDK that retries connection errors uploaded it all
// again. So the rest of the body is read and dropped first, bounded, and the 413 follows;
// and a client that waits for "100 Continue" before its body gets the 413 instead.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * No upload is read without end: a body announced larger than this is answered at once,
 * and one sent without a length is answered once this much of it was dropped (the
 * connection then closes under a client still sending, which may see a reset).
 */
const DROPPED_AT_MOST = 64 * 1024 * 1024;

export interface OversizedBodies {
  /** Resolves once the rest of the request's body is read and dropped, or cannot be (the client left, too much, the server closing). */
  dropRest(request: FastifyRequest): Promise<void>;
}

/**
 * Withholds "100 Continue" from a request whose Content-Length is over the limit (fastify
 * then answers 413 before the body is sent), and keeps the requests whose body is being
 * dropped, so that the server's close ends them (Node stops timing requests out then).
 */
export function oversizedBodies(app: FastifyInstance, bodyLimit: number): OversizedBodies {
  const server: Server = app.server;
  const refusedBeforeBody = new WeakSet<IncomingMessage>();
  // With a listener here Node neither says "100 Continue" nor emits the request itself.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    if (Number(request.headers['content-length']) > bodyLimit) refusedBeforeBody.add(request);
    else response.writeContinue();
    server.emit('request', request, response);
  });
  const dropping = new Set<IncomingMessage>();
  // Closing, Node times no request out: every body being dropped is cut off, and any that would start.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    for (const request of dropping) request.socket.destroy();
  });
  return {
    dropRest(request) {
      const raw = request.raw;
      // Nothing more is coming: refused before "100 Continue", or all of it read already; or too much to wait for.
      if (refusedBeforeBody.has(raw) || raw.complete || raw.destroyed || Number(raw.headers['content-length']) > DROPPED_AT_MOST) return Promise.resolve();
      if (closing) {
        raw.socket.destroy();
        return Promise.resolve();
      }
      dropping.add(raw);
      return new Promise<void>((resolve) => {
        let dropped = 0;
        const done = () => {
          raw.off('data', count).off('end', done).off('close', done);
          dropping.delete(raw);
          resolve();
        };
        const count = (part: Buffer) => {
          dropped += part.length;
          if (dropped > DROPPED_AT_MOST) done();
        };
        raw.on('data', count);
        // 'close' too: the client left, or the request timed out (Node then answers 408 itself).
        raw.once('end', done);
        raw.once('close', done);
        raw.resume();
      });
    },
  };
}
