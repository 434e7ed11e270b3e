// The client's request as the rest of the proxy sees it: built once at the edge,
// with the body read as bytes and parsed lazily (JSON when it is JSON).
import { isUtf8 } from 'node:buffer';
import { parseLossless, type JsonValue } from '../json/lossless.js';
import { jsonTextFacts, MAX_JSON_DEPTH } from '../json/text-facts.js';
import { isMultipart, multipartParts, type MultipartPart } from './multipart.js';
import { runFrom, testIdFrom } from './test-id.js';

export type RequestBody =
  | { kind: 'none' }
  | {
      kind: 'json';
      text: string;
      bytes: Buffer;
      /** As JSON.parse reads it. */
      value: unknown;
      /** True when JSON.parse may have rounded a number (too many digits, or an exponent): key by losslessBody. */
      roundedNumbers: boolean;
      /** True when `value` gives back every number as the text writes it: it can be stored as it is. */
      plainNumbers: boolean;
    }
  | {
      kind: 'bytes';
      bytes: Buffer;
      contentType: string;
      parts?: MultipartPart[];
      /** Why a body that said it was JSON (or said nothing) could not be read as JSON. */
      invalidJson?: string;
    };

export interface ClientRequest {
  method: string;
  /** The path the client called, without the query. */
  path: string;
  /** The raw query string without '?', '' when none. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: RequestBody;
  testId: string | null;
  /** Why a llama-stack provider-data header, where a test id can be, could not be read: the request then has none. */
  testIdUnread?: string;
  /** The run scope (x-llm-replay-run): occurrences are counted per run, test id and key. '' when none. */
  run: string;
}


const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

/** The model a JSON body names (most LLM APIs' `model` field), if it names one. */
export function requestedModel(client: ClientRequest): string | undefined {
  const value = member(client.body, 'model');
  return typeof value === 'string' ? value : undefined;
}

/** Whether the body asks the upstream to keep the answer (`"store": true`: OpenAI's stored completions and responses). */
export function asksToStore(body: RequestBody): boolean {
  return member(body, 'store') === true;
}

/** A top-level member of a JSON object body. */
function member(body: RequestBody, name: string): unknown {
  return body.kind === 'json' && typeof body.value === 'object' && body.value !== null ? (body.value as Record<string, unknown>)[name] : undefined;
}

/** A body is JSON when it says so (or says nothing) and parses; anything else is kept as bytes. */
export function classifyBody(bytes: Buffer | undefined, contentType: string | undefined): RequestBody {
  if (!bytes || bytes.length === 0) return { kind: 'none' };
  const type = contentType ?? '';
  if (type !== '' && !JSON_TYPE.test(type)) return { kind: 'bytes', bytes, contentType: type };
  let invalidJson: string;
  try {
    // Invalid UTF-8, malformed JSON or absurd nesting: keyed and stored by its bytes instead.
    const text = bytes.toString('utf8');
    // Decoding replaces invalid bytes with U+FFFD: only then is the full check needed.
    if (text.includes('\uFFFD') && !isUtf8(bytes)) throw new TypeError('it is not UTF-8');
    const value: unknown = JSON.parse(text);
    const facts = jsonTextFacts(text);
    if (facts.depth <= MAX_JSON_DEPTH) return { kind: 'json', text, bytes, value, roundedNumbers: facts.roundedNumbers, plainNumbers: facts.plainNumbers };
    invalidJson = `it nests deeper than ${MAX_JSON_DEPTH} levels`;
  } catch (error) {
    invalidJson = error instanceof SyntaxError ? `it is not valid JSON (${error.message})` : (error as Error).message;
  }
  return { kind: 'bytes', bytes, contentType: type || 'application/octet-stream', invalidJson };
}

/** The client's request as the proxy sees it, from what the HTTP server read. */
export function clientRequest(method: string, url: string, headers: Record<string, string | string[] | undefined>, body: Buffer | undefined): ClientRequest {
  const q = url.indexOf('?');
  const contentType = headers['content-type'];
  const { testId, unread } = testIdFrom(headers);
  const request: ClientRequest = {
    method: method.toUpperCase(),
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    headers,
    body: classifyBody(body, typeof contentType === 'string' ? contentType : undefined),
    testId,
    run: runFrom(headers),
  };
  if (unread !== undefined) request.testIdUnread = unread;
  return request;
}

/** A multipart body is keyed by its parts: parse them once, before keying. */
export async function readMultipartParts(client: ClientRequest): Promise<void> {
  if (client.body.kind !== 'bytes' || !isMultipart(client.body.contentType)) return;
  const parts = await multipartParts(client.body.bytes, client.body.contentType);
  if (parts) client.body.parts = parts;
}

const losslessCache = new WeakMap<RequestBody, JsonValue>();

/** The JSON body with number lexemes kept (for llama-stack keys and for storing). */
export function losslessBody(body: RequestBody & { kind: 'json' }): JsonValue {
  let value = losslessCache.get(body);
  if (value === undefined) {
    // The text already parsed as JSON: this parse cannot fail.
    value = parseLossless(body.text);
    losslessCache.set(body, value);
  }
  return value;
}
