// Turns a recording into the bytes the API sent: a status, a few headers, and
// either one body or the stream's wire events re-framed exactly as the API framed
// them. Prepared once per recording and cached (answers.ts).
import { isJsonObject, stringifyLossless, type JsonValue } from '../json/lossless.js';
import { compareCodePoints } from '../json/python-dumps.js';
import { hasPlainNumbers, unwrapTyped, type Recording, type StreamEventMeta, type StreamFraming } from '../recordings/recording.js';
import { formatSseEvent, type SseEvent } from '../wire/sse.js';
import { hasNoBody } from '../wire/bodiless.js';
import { endingErrorOf } from '../recordings/stream-errors.js';

export interface PreparedResponse {
  status: number;
  headers: Record<string, string>;
  /** The whole body, for answers that are not streams. */
  body?: Buffer;
  /** The wire events of a stream, in order. */
  events?: Buffer[];
  /** When each event was sent, in ms from the request (recorded timing). */
  offsets?: number[];
  headMs?: number;
  /** The whole answer as sent at once: the body, or the events joined (made on first use). */
  wire?: Buffer;
  /** The error a stream ends in (its name): replayed, it is a frozen failure the log names. */
  failure?: string;
}

const SSE_TYPE = 'text/event-stream; charset=utf-8';
const NDJSON_TYPE = 'application/x-ndjson';
const JSON_TYPE = 'application/json';

/** What a recording that does not describe its stream must have looked like on the wire. */
export function inferFraming(endpoint: string, chunks: JsonValue[]): StreamFraming {
  if (/^\/api\/(chat|generate|pull|push|create)$/.test(endpoint)) return { format: 'ndjson' };
  const framing: StreamFraming = { format: 'sse' };
  if (/\/completions$/.test(endpoint)) framing.done = true;
  // The Responses and Messages APIs name each event after the chunk's type.
  const typed = chunks.map(unwrapTyped);
  if (typed.length > 0 && typed.every((chunk) => isJsonObject(chunk) && typeof chunk['type'] === 'string')) {
    framing.events = typed.map((chunk) => ({ event: (chunk as { type: string }).type }));
  }
  return framing;
}

function errorBodyFromException(recording: Recording): { status: number; body: JsonValue } {
  const data = isJsonObject(recording.response.exception_data) ? recording.response.exception_data : {};
  const status = typeof data['status_code'] === 'number' ? data['status_code'] : 500;
  const message = String(data['message'] ?? recording.response.exception_message ?? 'recorded exception');
  const recordedBody = data['body'];
  const error = isJsonObject(recordedBody)
    ? isJsonObject(recordedBody['error'])
      ? recordedBody['error']
      : recordedBody
    : { message, type: String(data['type'] ?? 'error'), param: null, code: null };
  return { status, body: { error } };
}

/**
 * Bytes in memory of their own. Buffer.from puts small buffers into shared 8 KB
 * slabs, and a slab lives as long as any answer in it: with cached answers evicted
 * here and there, nearly every slab stayed (300 MB of slabs behind a 64 MiB cache).
 */
function ownBytes(text: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  bytes.write(text);
  return bytes;
}

function unpooled(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length) return bytes;
  const own = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(own);
  return own;
}

/** A stream's events as views into one buffer of their own, which is also the whole answer at once. */
function joinedEvents(texts: string[]): { events: Buffer[]; wire: Buffer } {
  const wire = ownBytes(texts.join(''));
  const events: Buffer[] = [];
  let offset = 0;
  for (const text of texts) {
    const length = Buffer.byteLength(text);
    events.push(wire.subarray(offset, offset + length));
    offset += length;
  }
  return { events, wire };
}

function streamEvents(chunks: JsonValue[], framing: StreamFraming, json: (value: JsonValue) => string): string[] {
  const eol = framing.line_ending ?? '\n';
  const out: string[] = [];
  if (framing.format === 'ndjson') {
    for (const chunk of chunks) out.push(json(unwrapTyped(chunk)) + '\n');
    return out;
  }
  const metas: StreamEventMeta[] = framing.events ?? chunks.map(() => ({}));
  let next = 0;
  for (const meta of metas) {
    const event: SseEvent = { comments: meta.comments ?? [] };
    if (meta.event !== undefined) event.event = meta.event;
    if (meta.id !== undefined) event.id = meta.id;
    if (meta.retry !== undefined) event.retry = meta.retry;
    if (meta.order) event.order = meta.order;
    if (meta.data !== false) {
      const chunk = unwrapTyped(chunks[next++] ?? null);
      event.data = meta.text && typeof chunk === 'string' ? chunk : json(chunk);
    }
    out.push(formatSseEvent(event, eol));
  }
  // Chunks beyond the described events (hand-edited files) still go out.
  for (; next < chunks.length; next++) {
    out.push(formatSseEvent({ comments: [], data: json(unwrapTyped(chunks[next] ?? null)) }, eol));
  }
  if (framing.done) out.push(formatSseEvent({ comments: [], data: '[DONE]' }, eol));
  return out;
}

/** Header names and values seen so far, each one copy: recordings share a handful of them. */
const ownedStrings = new Map<string, string>();
const MAX_OWNED = 10_000;

/**
 * A string of its own. The JSON parser hands out slices of a file's text, and a
 * slice keeps the whole text alive: a cached answer holding one of its header values
 * held its entire recording (100,000 cached answers held 1.3 GB instead of 200 MB).
 */
function owned(text: string): string {
  let copy = ownedStrings.get(text);
  if (copy === undefined) {
    copy = Buffer.from(text, 'utf8').toString('utf8');
    if (ownedStrings.size < MAX_OWNED) ownedStrings.set(copy, copy);
  }
  return copy;
}

/**
 * Headers a recording may hold that replay never sends: they describe one connection
 * or the framing of the bytes as they were sent then (a length, a chunked or
 * compressed encoding), not the answer; fastify frames what is actually sent.
 */
const NOT_REPLAYED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length', 'content-encoding']);

function ownedHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (!NOT_REPLAYED.has(lower)) out[owned(lower)] = owned(value);
  }
  return out;
}

const NO_BODY = Buffer.alloc(0);

/**
 * An answer with no body (to HEAD, a 204, a 304): none is sent, and no length of its
 * recorded `null` is claimed (a client reading a 304 that says 4 bytes fails). An
 * answer to HEAD gets the content-length the upstream gave, when recorded: the length
 * of what a GET would get, which fastify keeps on a HEAD reply; without it, fastify's own (0).
 */
function bodilessAnswer(method: string, status: number, headers: Record<string, string>, recorded: Record<string, string> | undefined): PreparedResponse {
  if (method === 'HEAD') for (const [name, value] of Object.entries(recorded ?? {})) if (name.toLowerCase() === 'content-length') headers['content-length'] = owned(value);
  return { status, headers, body: NO_BODY };
}

/** JSON text of a recording's values: JSON.stringify's own when its numbers are plain (the same text, several times faster). */
function jsonWriter(recording: Recording): (value: JsonValue) => string {
  return hasPlainNumbers(recording) ? (value) => JSON.stringify(value) : (value) => stringifyLossless(value);
}

export function prepareResponse(recording: Recording): PreparedResponse {
  const { response } = recording;
  const json = jsonWriter(recording);
  const headers = ownedHeaders(response.headers);
  if (response.is_exception) {
    const { status, body } = errorBodyFromException(recording);
    return { status, headers: { ...headers, 'content-type': JSON_TYPE }, body: ownBytes(json(body)) };
  }
  const status = response.status ?? 200;
  if (hasNoBody(recording.request.method, status)) return bodilessAnswer(recording.request.method, status, headers, response.headers);
  if (response.is_streaming && Array.isArray(response.body)) {
    const framing = response.stream ?? inferFraming(recording.request.endpoint, response.body);
    headers['content-type'] ??= framing.format === 'ndjson' ? NDJSON_TYPE : SSE_TYPE;
    const prepared: PreparedResponse = { status, headers, ...joinedEvents(streamEvents(response.body, framing, json)) };
    const failure = endingErrorOf(response.body.map(unwrapTyped), framing.format)?.name;
    if (failure !== undefined) prepared.failure = failure;
    if (framing.timing) {
      prepared.offsets = framing.timing.offsets_ms;
      prepared.headMs = framing.timing.head_ms;
    }
    return prepared;
  }
  if (response.body_encoding === 'base64' && typeof response.body === 'string') {
    headers['content-type'] ??= 'application/octet-stream';
    return { status, headers, body: unpooled(Buffer.from(response.body, 'base64')) };
  }
  headers['content-type'] ??= JSON_TYPE;
  return { status, headers, body: ownBytes(json(unwrapTyped(response.body))) };
}

/** llama-stack's model-list files: one answer from the union of all of them, sorted by id. */
export function prepareModelList(recordings: Recording[]): PreparedResponse {
  const byId = new Map<string, JsonValue>();
  let ollama = false;
  for (const recording of recordings) {
    const body = unwrapTyped(recording.response.body);
    const items = Array.isArray(body) ? body : isJsonObject(body) && Array.isArray(body['models']) ? ((ollama = true), body['models']) : isJsonObject(body) && Array.isArray(body['data']) ? body['data'] : [];
    for (const item of items) {
      const model = unwrapTyped(item);
      const id = isJsonObject(model) ? model[ollama ? 'model' : 'id'] ?? model['id'] ?? model['name'] : undefined;
      if (typeof id === 'string') byId.set(id, model);
    }
  }
  const sorted = [...byId.keys()].sort(compareCodePoints).map((id) => byId.get(id) as JsonValue);
  const body: JsonValue = ollama ? { models: sorted } : { object: 'list', data: sorted };
  return { status: 200, headers: { 'content-type': JSON_TYPE }, body: ownBytes(stringifyLossless(body)) };
}
