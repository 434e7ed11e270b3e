// The admin plugin's request bodies and route schemas: JSON by fastify's own parser
// whatever the content type (fetch sends a string as text/plain; an empty body is
// none), and each route's `invalid` config: the error code and hint that a body that is
// not JSON, or that fails the route's TypeBox schema, is answered with.
import type { FastifyInstance } from 'fastify';
import { AnswerError, type ErrorCode } from '../errors.js';

export interface InvalidRequest {
  code: ErrorCode;
  /** What to send instead, added to the message. */
  hint?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    invalid?: InvalidRequest;
  }
}

/** The error a route's invalid request gets: its own code, the hint, and the part at fault. */
export function invalidRequest(invalid: InvalidRequest | undefined, message: string, param: string | null = null): AnswerError {
  return new AnswerError(invalid?.code ?? 'llm_replay_bad_request', invalid?.hint ? `${message}; ${invalid.hint}` : message, param);
}

export function parseJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'ignore');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, text, done) => {
    if (typeof text !== 'string' || text.trim() === '') return done(null, undefined);
    parseJson(request, text, (error, value) => (error ? done(invalidRequest(request.routeOptions.config.invalid, `the body is not JSON (${error.message})`)) : done(null, value)));
  });
}
