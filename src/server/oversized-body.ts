// A request body over --body-limit gets its 413 (fastify's content-type parser refuses it)
// in a way the client can read. fastify marks that answer `connection: close`, and Node
// then closes the socket while the client is still sending its body: the client sees a
// reset (EPIPE) instead of the 413, and an SDK that retries connection errors uploads it
// all again. So the rest of the body is read and thrown away, within the request timeout
// that bounds any body, and the connection is kept; and a client that waits for
// "100 Continue" before its body gets the 413 instead, having sent nothing.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Requests answered before their body was asked for ("100 Continue" withheld). */
const refusedBeforeBody = new WeakSet<IncomingMessage>();

/** Withholds "100 Continue" from a request whose Content-Length is over the limit: fastify then answers 413 at once. */
export function refuseOversizedBeforeContinue(server: Server, bodyLimit: number): void {
  // With a listener here Node neither says "100 Continue" nor emits the request itself.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    if (Number(request.headers['content-length']) > bodyLimit) refusedBeforeBody.add(request);
    else response.writeContinue();
    server.emit('request', request, response);
  });
}

/**
 * For the 413 of a body over the limit: its rest is read and dropped (no data listener is
 * left) and the connection kept, so the client finishes sending and reads the answer. A
 * request refused before "100 Continue" sent no body: its connection closes, as fastify
 * says, since the client may not send the body it announced.
 */
export function readRestOfOversizedBody(request: FastifyRequest, reply: FastifyReply): void {
  if (refusedBeforeBody.has(request.raw)) return;
  reply.removeHeader('connection');
  request.raw.resume();
}
