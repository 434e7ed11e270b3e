// The recording file (RECORDINGS.md section 1): llama-stack's shape plus the few
// fields this project adds under `response` (status, headers, stream framing,
// timing, binary bodies). Files are validated once, when they are read.
import { RecordingFileError } from '../errors.js';
import { isJsonObject, parseLossless, toPlainJson, stringifyLossless, type JsonObject, type JsonValue } from '../json/lossless.js';
import { parseProblem } from '../json/parse-problem.js';
import { jsonTextFacts } from '../json/text-facts.js';
import type { LineEnding, SseField } from '../wire/sse.js';
import { originProblem, type RecordingOrigin } from './origin.js';

/** One wire event of a stream that carried more than a plain `data:` line. */
export interface StreamEventMeta {
  event?: string;
  id?: string;
  retry?: number;
  comments?: string[];
  /** The order its fields came in, when not comments, event, id, retry, data. */
  order?: SseField[];
  /** The event carried no data (a comment or keep-alive): it takes no chunk. */
  data?: false;
  /** The data was not JSON: the chunk is its text. */
  text?: true;
}

export interface StreamFraming {
  format: 'sse' | 'ndjson';
  /** The SSE stream closed with `data: [DONE]`. */
  done?: boolean;
  line_ending?: LineEnding;
  events?: StreamEventMeta[];
  /** Milliseconds from the request to the response head and to each wire event. */
  timing?: { head_ms: number; offsets_ms: number[] };
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, never>;
  body: JsonValue;
  endpoint: string;
  model: string;
  [extra: string]: JsonValue | undefined;
}

export interface RecordedResponse {
  body: JsonValue;
  is_streaming: boolean;
  status?: number;
  headers?: Record<string, string>;
  /** The body is the base64 of bytes that were not JSON. */
  body_encoding?: 'base64';
  stream?: StreamFraming;
  is_exception?: boolean;
  exception_data?: JsonValue;
  exception_message?: string;
  /** When and against what it was recorded; absent in older files and llama-stack's. */
  origin?: RecordingOrigin;
}

export interface Recording {
  test_id: string | null;
  /** Which time the test sent this request (2, 3, ...): set on every occurrence but the first, in `<key>.<n>.json`. */
  occurrence?: number;
  request: RecordedRequest;
  response: RecordedResponse;
  id_normalization_mapping: Record<string, string>;
}

/** llama-stack stores SDK objects as {"__type__": class path, "__data__": object}. */
export function unwrapTyped(value: JsonValue): JsonValue {
  if (isJsonObject(value) && typeof value['__type__'] === 'string' && '__data__' in value) {
    return value['__data__'] as JsonValue;
  }
  return value;
}

/** llama-stack's load step: every original id in the text becomes its normalised id. */
function applyIdMapping(text: string): string {
  // Nearly every file has the field, empty: only a mapping with entries needs a second parse.
  if (!text.includes('"id_normalization_mapping"') || /"id_normalization_mapping"\s*:\s*\{\s*\}/.test(text)) return text;
  const probe = JSON.parse(text) as { id_normalization_mapping?: unknown };
  const mapping = probe.id_normalization_mapping;
  if (!isJsonObject(mapping) || Object.keys(mapping).length === 0) return text;
  let out = text;
  for (const [normalized, original] of Object.entries(mapping)) {
    if (typeof original === 'string' && original !== '') out = out.split(original).join(normalized);
  }
  return out;
}

function fail(file: string, message: string): never {
  throw new RecordingFileError(file, message);
}

/** Recordings with no LosslessNumber in them: read with JSON.parse (their numbers are written as JSON.stringify writes them), or made from bodies JSON.parse read. */
const plainNumbers = new WeakSet<Recording>();

/** The recording's numbers are plain numbers that JSON.stringify writes as they were recorded (no LosslessNumber inside). */
export function hasPlainNumbers(recording: Recording): boolean {
  return plainNumbers.has(recording);
}

/** Says that a recording holds no LosslessNumber (its bodies came from JSON.parse): it is written without looking for one. */
export function withPlainNumbers(recording: Recording): Recording {
  plainNumbers.add(recording);
  return recording;
}

/**
 * Parses and validates a recording file's text. `exactNumbers` false reads numbers
 * as JSON.parse does, some thirty times faster, for callers that only look.
 * `forAnswer` (replay, which only writes the answer back out): JSON.parse whenever
 * that gives every number back as written, exact parsing otherwise.
 */
export function parseRecording(text: string, file: string, exactNumbers = true, forAnswer = false): Recording {
  if (text.trim() === '') fail(file, 'the file is empty');
  let data: JsonValue;
  let plain = !exactNumbers;
  let parsed = text;
  try {
    parsed = applyIdMapping(text);
    plain ||= forAnswer && jsonTextFacts(parsed).plainNumbers;
    data = plain ? (JSON.parse(parsed) as JsonValue) : parseLossless(parsed);
  } catch (error) {
    // The parsers quote the text, which may hold a credential: the reason is shown and logged.
    fail(file, `not valid JSON (${parseProblem(error, parsed)})`);
  }
  if (!isJsonObject(data)) fail(file, 'not a recording: the top level is not an object');
  const request = data['request'];
  const response = data['response'];
  if (!isJsonObject(request)) fail(file, 'not a recording: no "request" object');
  if (!isJsonObject(response)) fail(file, 'not a recording: no "response" object');
  if (typeof request['method'] !== 'string') fail(file, '"request.method" must be a string');
  if (!('body' in response)) fail(file, 'no "response.body"');
  const testId = data['test_id'];
  if (testId !== undefined && testId !== null && typeof testId !== 'string') fail(file, '"test_id" must be a string or null');
  const occurrence = data['occurrence'] === undefined ? undefined : numberField(data, 'occurrence');
  if (data['occurrence'] !== undefined && (occurrence === undefined || !Number.isInteger(occurrence) || occurrence < 1)) fail(file, '"occurrence" must be a whole number from 1');
  if (response['is_streaming'] === true && !Array.isArray(response['body']) && response['is_exception'] !== true) {
    fail(file, 'a streaming recording must have a list of chunks as "response.body"');
  }
  const status = response['status'] === undefined ? undefined : numberField(response, 'status');
  if (response['status'] !== undefined && (status === undefined || !Number.isInteger(status) || status < 100 || status > 599)) {
    fail(file, '"response.status" must be an HTTP status code');
  }
  const recording = data as unknown as Recording;
  if (status !== undefined) recording.response.status = status;
  // Only bodies need exact number spelling; the project's own metadata is plain JSON.
  const badOrigin = originProblem(response['origin']);
  if (badOrigin) fail(file, badOrigin);
  for (const field of ['stream', 'exception_data', 'headers', 'origin'] as const) {
    if (response[field] !== undefined) (recording.response as unknown as JsonObject)[field] = toPlainJson(response[field] as JsonValue) as JsonValue;
  }
  checkHeaders(recording.response.headers, file);
  recording.test_id = (testId as string | null | undefined) ?? null;
  if (occurrence !== undefined) recording.occurrence = occurrence;
  recording.request.endpoint = typeof request['endpoint'] === 'string' ? request['endpoint'] : pathOf(String(request['url'] ?? ''));
  recording.response.is_streaming = response['is_streaming'] === true;
  recording.id_normalization_mapping = {};
  if (plain && exactNumbers) plainNumbers.add(recording);
  return recording;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Headers replay can send: names that are HTTP tokens, values that are strings with no control characters. */
function checkHeaders(headers: unknown, file: string): void {
  if (headers === undefined) return;
  if (!isJsonObject(headers)) fail(file, '"response.headers" must be an object of header names to strings');
  let place = 0;
  for (const [name, value] of Object.entries(headers)) {
    place++;
    // Named by its place, not quoted: a name that is not a header name may be a whole "Authorization: Bearer ..." line.
    if (!HEADER_NAME.test(name)) fail(file, `"response.headers" has a name that is not a header name (its member ${place}, of ${name.length} characters)`);
    // Its kind, not the value: a list of cookies or a token the reason would show and log.
    if (typeof value !== 'string') fail(file, `"response.headers.${name}" must be a string, not ${Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value === 'object' ? 'an object' : `a ${typeof value}`}`);
    if (!HEADER_VALUE.test(value)) fail(file, `"response.headers.${name}" holds a character a header value cannot (a line break or other control character)`);
  }
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** Pretty-printed like llama-stack's files (two-space indent, trailing newline). */
export function serializeRecording(recording: Recording): string {
  // A walk of the whole recording for LosslessNumbers is spared when none can be in it.
  return (plainNumbers.has(recording) ? JSON.stringify(recording, undefined, 2) : stringifyLossless(recording, 2)) + '\n';
}

export function numberField(object: JsonObject, field: string): number | undefined {
  const value = object[field];
  if (typeof value === 'number') return value;
  if (value !== null && typeof value === 'object' && 'isLosslessNumber' in value) return Number((value as { value: string }).value);
  return undefined;
}

/** The HTTP status a recording answers with (an llama-stack exception: its recorded status code). */
export function statusOf(response: RecordedResponse): number {
  if (response.status !== undefined) return response.status;
  if (!response.is_exception) return 200;
  const data = response.exception_data;
  return (isJsonObject(data) ? numberField(data, 'status_code') : undefined) ?? 500;
}
