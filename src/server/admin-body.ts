// The admin plugin's request bodies and route schemas: JSON by fastify's own parser
// whatever the content type (fetch sends a string as text/plain; an empty body is
// none), checked against the route's TypeBox schema as sent (fastify's ajv would coerce
// {"test_id": 5} into "5"; query strings keep its coercion), and each route's `invalid`
// config: the error code and hint a body that is not JSON, or fails the schema, gets.
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { AnswerError, type ErrorCode } from '../errors.js';

interface InvalidRequest {
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

/** The route options of a JSON body checked by `schema` as sent (fastify gives an absent body as null), and of its reply. */
export function jsonBody(schema: TSchema, invalid: InvalidRequest, reply?: TSchema) {
  const check = Compile(schema);
  const validate = (data: unknown): boolean => {
    const valid = check.Check(data);
    validate.errors = valid ? null : (check.Errors(data) as FastifySchemaValidationError[]);
    return valid;
  };
  validate.errors = null as FastifySchemaValidationError[] | null;
  return { schema: { body: schema, ...(reply ? { response: { 200: reply } } : {}) }, validatorCompiler: () => validate, config: { invalid } };
}
