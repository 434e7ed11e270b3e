// Limits on a request's headers, answered 431 with an error of the catalogue. Node
// silently drops the headers past its count limit (the content type may be among
// them: the body is then forwarded and recorded as absent), so the server takes them
// all and refuses the request itself; headers over Node's size limit never reach a
// route and are refused at the socket.
import { maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { AnswerError, type ErrorCode } from '../errors.js';
import { answerOnSocket } from './socket-answer.js';

const MAX_REQUEST_HEADERS = 1000;

/** onRequest: more headers than the limit get 431, never a request with some of them missing. */
export function refuseTooManyHeaders(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const count = request.raw.rawHeaders.length / 2;
  if (count <= MAX_REQUEST_HEADERS) return done();
  done(new AnswerError('llm_replay_too_many_headers', `the request has ${count} headers, more than the limit of ${MAX_REQUEST_HEADERS}`));
}

/** Node's `clientError` (no route, no reply yet): fastify's answers, as errors of the catalogue, OpenAI-shaped. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let code: ErrorCode = 'llm_replay_bad_http';
  let message = 'the request is not valid HTTP';
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    code = 'llm_replay_request_timeout';
    message = 'the request took too long to arrive (--headers-timeout, --body-timeout)';
  } else if (error.code === 'HPE_HEADER_OVERFLOW') {
    code = 'llm_replay_headers_too_large';
    message = `the request headers are larger than the limit of ${maxHeaderSize} bytes (node's --max-http-header-size)`;
  }
  answerOnSocket(socket, code, message, error);
}
