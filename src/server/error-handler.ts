// Every error llm-replay answers with of its own is rendered here: an AnswerError
// (thrown by a route, a hook, or the request's decision) by its catalogue entry, in the
// dialect of the path the client called (the admin endpoints answer OpenAI-shaped);
// what fastify itself refuses keeps fastify's code.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config/options.js';
import { AnswerError } from '../errors.js';
import { ownErrorAnswer, type OwnError } from '../faults/dialects.js';
import { dialectOf } from '../request/dialect.js';
import { ADMIN_PREFIX } from '../request/control-headers.js';
import { redactUrl } from '../secrets/redact.js';
import { invalidRequest } from './admin-body.js';
import { schemaRefusal } from './schema-refusal.js';
import type { OversizedBodies } from './oversized-body.js';

const PREFIX = 'llm-replay: ';

/** Sends the error in the caller's dialect; `path` is the path the client called. */
export function sendOwnError(reply: FastifyReply, error: OwnError, path: string): FastifyReply {
  const message = error.message.startsWith(PREFIX) ? error.message : `${PREFIX}${error.message}`;
  const dialect = path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`) ? 'openai' : dialectOf(path);
  const answer = ownErrorAnswer(dialect, { status: error.status, type: error.type, code: error.code, message, param: error.param });
  if (error instanceof AnswerError && error.final) reply.header('x-should-retry', 'false');
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

function asAnswerError(error: FastifyError, request: FastifyRequest, config: ServerConfig): AnswerError | FastifyError {
  if (error instanceof AnswerError) return error;
  if (error.validation) {
    // A route schema refused the request: the route's own code, naming the field.
    const part = error.validationContext;
    const { field, message } = schemaRefusal(error.validation, part, part ? (request.routeOptions.schema as Record<string, unknown> | undefined)?.[part] : undefined);
    return invalidRequest(request.routeOptions.config.invalid, message, field);
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AnswerError('llm_replay_body_too_large', `the request body is larger than the limit of ${config.bodyLimit} bytes (--body-limit)`);
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') error.message = 'the Content-Type header is not a valid media type';
  else error.message = `${request.method} ${redactUrl(request.url)}: ${error.message}`;
  return error;
}

export function errorHandler(config: ServerConfig, oversized: OversizedBodies) {
  const send = (thrown: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const error = asAnswerError(thrown, request, config);
    const path = (request.raw.url ?? '/').split('?')[0]!;
    if (error instanceof AnswerError) return sendOwnError(reply, error, path);
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    // Fastify's own refusals keep their status and code (FST_ERR_...).
    return sendOwnError(reply, { status, type: status < 500 ? 'invalid_request_error' : 'llm_replay_error', code: error.code ?? 'llm_replay_error', message: error.message, param: null }, path);
  };
  return (thrown: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<void> => {
    if (thrown.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') return send(thrown, request, reply);
    // The client may still be sending: its 413 once the rest is dropped, which a client can read (closed after, as fastify asks).
    // Resolving with nothing: fastify then sends nothing more (a request timed out meanwhile has had Node's 408).
    return oversized.dropRest(request).then(() => {
      if (!reply.raw.destroyed && !reply.sent) send(thrown, request, reply);
    });
  };
}
