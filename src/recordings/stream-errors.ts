// An error sent inside a stream, after its 200 head: Anthropic's `event: error`
// (an overloaded_error mid-answer is common), the Responses API's error event and
// its response.failed, an error object in place of a chat chunk or a Gemini chunk.
// Each API names the error, and its name says which HTTP status it stands for, so
// the failure policy can treat it as it treats that status on a head.
import { isJsonObject, isLosslessNumber, type JsonObject, type JsonValue } from '../json/lossless.js';
import { framingOf, isClosingEvent, isFinalEvent, type StreamFormat } from './stream-framing.js';

/**
 * An error a stream ended with: its name as the API gave it, and the status it stands
 * for when llm-replay knows the name (an unknown one is written, as a deterministic
 * error's answer is, and still said to be an error in the log).
 */
export interface StreamError {
  name: string;
  status?: number;
}

/**
 * The statuses of the errors the APIs name: Anthropic's error types, OpenAI's error
 * types and codes, Google's RPC statuses. A name missing here is an error llm-replay
 * cannot judge: its stream is written, as a deterministic error's answer is.
 */
const STATUS_OF: Readonly<Record<string, number>> = {
  // Anthropic (docs.anthropic.com, "Errors").
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
  // OpenAI (an error object's type or code; the Responses API's error codes).
  server_error: 500,
  service_unavailable_error: 503,
  rate_limit_exceeded: 429,
  too_many_requests: 429,
  insufficient_quota: 429,
  vector_store_timeout: 504,
  // Google (an error's status, beside its numeric code).
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** `value` (an event of a stream) as the error it reports, if it reports one. */
export function streamErrorOf(value: JsonValue | undefined): StreamError | undefined {
  if (!isJsonObject(value)) return undefined;
  const type = value['type'];
  // Anthropic: {type: "error", error: {type}}; Responses: {type: "error", code}, or nested as {type: "error", error: {type, code}}.
  if (type === 'error') {
    const error = value['error'];
    return named(member(error, 'type'), member(error, 'code'), value['code']);
  }
  // Responses: the response failed, its error saying why.
  if (type === 'response.failed') return named(member(member(value['response'], 'error'), 'code'));
  const error = value['error'];
  // Ollama's error is a string alone.
  if (typeof error === 'string') return { name: 'error' };
  if (!isJsonObject(error)) return undefined;
  // Gemini's error (and vLLM's, OpenRouter's) carries its HTTP status as its code, a number.
  const code = error['code'];
  const status = typeof code === 'number' ? code : isLosslessNumber(code) ? Number(code.value) : undefined;
  if (status !== undefined && Number.isInteger(status) && status >= 400 && status <= 599) {
    const name = error['status'] ?? error['type'];
    return { name: typeof name === 'string' ? name : `an error with code ${status}`, status };
  }
  return named(error['type'], error['code'], error['status']);
}

function member(value: JsonValue | undefined, name: string): JsonValue | undefined {
  return isJsonObject(value) ? (value as JsonObject)[name] : undefined;
}

/** The first of `names` whose status is known; else the first name given, with none; else an error without a name. */
function named(...names: Array<JsonValue | undefined>): StreamError {
  const strings = names.filter((name): name is string => typeof name === 'string');
  const known = strings.find((name) => Object.hasOwn(STATUS_OF, name));
  if (known !== undefined) return { name: known, status: STATUS_OF[known]! };
  return { name: strings[0] ?? 'error' };
}

/** Of two errors of one stream, `first` the earlier: the first one whose status is known, else the first. */
export function tellingError(first: StreamError | undefined, then: StreamError | undefined): StreamError | undefined {
  if (first?.status !== undefined || then?.status === undefined) return first ?? then;
  return then;
}

/**
 * The error a stream ends in, read the same by record mode (capture.ts, once the stream
 * has ended) and replay (prepare.ts): of its final events' errors the telling one, whatever
 * followed them (a ping), then its last chunk's (a Gemini error chunk). Its chunks stop at
 * the closing event, as capture keeps them.
 */
export function endingErrorOf(chunks: readonly JsonValue[], format: StreamFormat): StreamError | undefined {
  const framing = framingOf(chunks.find(isJsonObject), format);
  let error: StreamError | undefined;
  for (const chunk of chunks) if (isClosingEvent(chunk, framing) || isFinalEvent(chunk, framing)) error = tellingError(error, streamErrorOf(chunk));
  return tellingError(error, streamErrorOf(chunks[chunks.length - 1]));
}
