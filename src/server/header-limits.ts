// Limits on a request's headers, answered 431 in the project's error body. Node
// silently drops the headers past its count limit (the content type may be among
// them: the body is then forwarded and recorded as absent), so the server takes them
// all and refuses the request itself; headers over Node's size limit never reach a
// route and are refused at the socket.
import { maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { errorBody } from '../wire/error-body.js';

export const MAX_REQUEST_HEADERS = 1000;

function refusal(message: string, code: string) {
  return errorBody(`llm-replay: ${message}`, 'invalid_request_error', code);
}

/** onRequest: more headers than the limit get 431, never a request with some of them missing. */
export function refuseTooManyHeaders(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const count = request.raw.rawHeaders.length / 2;
  if (count <= MAX_REQUEST_HEADERS) return done();
  void reply.code(431).send(refusal(`the request has ${count} headers, more than the limit of ${MAX_REQUEST_HEADERS}`, 'llm_replay_too_many_headers'));
}

/** Node's `clientError`: what fastify answers, but 431 in the project's error body, naming the size limit. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let status = '400 Bad Request';
  let body = refusal('the request is not valid HTTP', 'llm_replay_bad_http');
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = '408 Request Timeout';
    body = refusal('the request took too long to arrive', 'llm_replay_request_timeout');
  } else if (error.code === 'HPE_HEADER_OVERFLOW') {
    status = '431 Request Header Fields Too Large';
    body = refusal(`the request headers are larger than the limit of ${maxHeaderSize} bytes (node's --max-http-header-size)`, 'llm_replay_headers_too_large');
  }
  const text = JSON.stringify(body);
  if (socket.writable) socket.write(`HTTP/1.1 ${status}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${text}`);
  socket.destroy(error);
}
