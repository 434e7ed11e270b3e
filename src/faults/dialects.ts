// An injected HTTP error as the provider behind the endpoint would send it: its
// body shape, error type names and the headers its SDK reads (retry-after, rate
// limits, request id); and llm-replay's own errors in the same body shapes, so each
// SDK reads their message. The dialect follows the path the client called.
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Dialect } from '../request/dialect.js';

interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface ErrorContext {
  status: number;
  retryAfterS: number | undefined;
  /** Makes the request id: the same fault of the same request gets the same id. */
  seed: string;
}

const RETRYABLE_LIMIT = 429;
/** A 429 says when to come back; the smallest whole second keeps test suites quick. */
const DEFAULT_RETRY_AFTER_S = 1;
const NOTE = ' (fault injected by llm-replay)';

function requestId(prefix: string, seed: string): string {
  return `${prefix}${createHash('sha256').update(seed).digest('hex').slice(0, 24)}`;
}

function json(status: number, body: unknown, headers: Record<string, string>, contentType = 'application/json'): ErrorAnswer {
  return { status, headers: { 'content-type': contentType, ...headers }, body: Buffer.from(JSON.stringify(body)) };
}

function retryAfterOf(context: ErrorContext): number | undefined {
  return context.retryAfterS ?? (context.status === RETRYABLE_LIMIT ? DEFAULT_RETRY_AFTER_S : undefined);
}

function openai(context: ErrorContext): ErrorAnswer {
  const { status } = context;
  const wait = retryAfterOf(context);
  const headers: Record<string, string> = { 'x-request-id': requestId('req_', context.seed) };
  if (wait !== undefined) headers['retry-after'] = String(wait);
  let error: { message: string; type: string; param: null; code: string | null };
  if (status === 429) {
    const reset = `${wait ?? DEFAULT_RETRY_AFTER_S}s`;
    Object.assign(headers, {
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': reset,
      'x-ratelimit-limit-tokens': '30000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': reset,
    });
    error = { message: `Rate limit reached for requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in ${reset}.${NOTE}`, type: 'requests', param: null, code: 'rate_limit_exceeded' };
  } else if (status === 500) {
    error = { message: `The server had an error while processing your request. Sorry about that!${NOTE}`, type: 'server_error', param: null, code: null };
  } else if (status === 503) {
    error = { message: `The engine is currently overloaded, please try again later.${NOTE}`, type: 'server_error', param: null, code: null };
  } else {
    error = { message: `${STATUS_CODES[status] ?? 'Error'}${NOTE}`, type: status < 500 ? 'invalid_request_error' : 'server_error', param: null, code: null };
  }
  return json(status, { error }, headers);
}

const ANTHROPIC_TYPES: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request'],
  401: ['authentication_error', 'invalid x-api-key'],
  402: ['billing_error', 'Billing error'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found'],
  409: ['conflict_error', 'Conflict'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'This request would exceed the rate limit for your organization of 50 requests per minute.'],
  500: ['api_error', 'Internal server error'],
  504: ['timeout_error', 'Request timed out'],
  529: ['overloaded_error', 'Overloaded'],
};

function anthropic(context: ErrorContext): ErrorAnswer {
  const { status } = context;
  const [type, message] = ANTHROPIC_TYPES[status] ?? (status < 500 ? ['invalid_request_error', STATUS_CODES[status] ?? 'Error'] : ['api_error', STATUS_CODES[status] ?? 'Internal server error']);
  const id = requestId('req_011', context.seed);
  const headers: Record<string, string> = { 'request-id': id };
  const wait = retryAfterOf(context);
  if (wait !== undefined) headers['retry-after'] = String(wait);
  if (status === 429) {
    const reset = new Date(Date.now() + (wait ?? DEFAULT_RETRY_AFTER_S) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    Object.assign(headers, { 'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': reset });
  }
  return json(status, { type: 'error', error: { type, message: `${message}${NOTE}` }, request_id: id }, headers);
}

function ollama(context: ErrorContext): ErrorAnswer {
  const { status } = context;
  const message = status === 503 ? 'server busy, please try again.  maximum pending requests exceeded' : status === 429 ? 'too many requests, please try again later' : (STATUS_CODES[status] ?? 'error').toLowerCase();
  const wait = context.retryAfterS;
  return json(status, { error: `${message}${NOTE}` }, wait !== undefined ? { 'retry-after': String(wait) } : {}, 'application/json; charset=utf-8');
}

const GOOGLE_STATUS: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: ['UNAUTHENTICATED', 'Request had invalid authentication credentials.'],
  403: ['PERMISSION_DENIED', 'The caller does not have permission'],
  404: ['NOT_FOUND', 'Requested entity was not found.'],
  409: ['ABORTED', 'The operation was aborted.'],
  429: ['RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'],
  500: ['INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
  504: ['DEADLINE_EXCEEDED', 'The request timed out. Please try again.'],
};

function gemini(context: ErrorContext): ErrorAnswer {
  const { status } = context;
  const [name, message] = GOOGLE_STATUS[status] ?? [status < 500 ? 'FAILED_PRECONDITION' : 'UNKNOWN', STATUS_CODES[status] ?? 'Error'];
  const error: Record<string, unknown> = { code: status, message: `${message}${NOTE}`, status: name };
  const wait = retryAfterOf(context);
  // Google says when to retry in the body (google.rpc.RetryInfo), not in a header.
  const details: unknown[] = [];
  if (status === 429) {
    details.push({ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' }] });
  }
  if (wait !== undefined) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${wait}s` });
  if (details.length > 0) error['details'] = details;
  return json(status, { error }, {}, 'application/json; charset=UTF-8');
}

const BUILDERS: Record<Dialect, (context: ErrorContext) => ErrorAnswer> = { openai, anthropic, ollama, gemini };

export function errorAnswer(dialect: Dialect, context: ErrorContext): ErrorAnswer {
  return BUILDERS[dialect](context);
}

/** One of llm-replay's own errors (a miss, a bad request ...): its code, type and message. */
export interface OwnError {
  status: number;
  type: string;
  code: string;
  message: string;
  param: string | null;
}

/**
 * An error of llm-replay's own in the body shape the caller's SDK reads: OpenAI's
 * `{"error": {message, type, param, code}}` (Anthropic's adds `"type": "error"`),
 * Ollama's `{"error": message}`, Google's status with the code as its ErrorInfo reason.
 */
export function ownErrorAnswer(dialect: Dialect, error: OwnError): ErrorAnswer {
  const { status, type, code, message, param } = error;
  switch (dialect) {
    case 'ollama':
      return json(status, { error: message }, {});
    case 'gemini': {
      const name = GOOGLE_STATUS[status]?.[0] ?? (status < 500 ? 'FAILED_PRECONDITION' : 'UNKNOWN');
      return json(status, { error: { code: status, message, status: name, details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: 'llm-replay' }] } }, {});
    }
    case 'anthropic':
      return json(status, { type: 'error', error: { type, message, param, code } }, {});
    case 'openai':
      return json(status, { error: { message, type, param, code } }, {});
  }
}
