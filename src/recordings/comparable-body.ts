// A request body as the nearest-recording search and its diff compare it, so like is
// compared with like: JSON as JSON, including a JSON body sent without a JSON
// content type (curl -d sends application/x-www-form-urlencoded), which is keyed by
// its bytes but reads as the JSON it is; any other body as a description of its
// bytes (media type, size, SHA-256) rather than as base64 text.
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { JsonValue } from '../json/lossless.js';
import { jsonTextFacts, MAX_JSON_DEPTH } from '../json/text-facts.js';
import type { RecordedRequest } from './recording.js';

export interface BytesDescription {
  bytes: { type: string; size: number; sha256: string };
}

/** The JSON a body of bytes holds, if it holds JSON (an object or a list: a bare string or number is no request) nested no deeper than a request's may be. */
export function jsonInBytes(bytes: Buffer): JsonValue | undefined {
  if (!isUtf8(bytes)) return undefined;
  const text = bytes.toString('utf8');
  try {
    const value = JSON.parse(text) as JsonValue;
    return typeof value === 'object' && value !== null && jsonTextFacts(text).depth <= MAX_JSON_DEPTH ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A body of bytes, as compared: the JSON it holds, or what its bytes are. */
export function comparableBytes(bytes: Buffer, contentType: string): JsonValue {
  const json = jsonInBytes(bytes);
  if (json !== undefined) return json;
  const description: BytesDescription = {
    bytes: { type: (contentType.split(';')[0] ?? '').trim().toLowerCase(), size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
  };
  return description as unknown as JsonValue;
}

/** A stored request's body, as compared. */
export function comparableBody(request: RecordedRequest): JsonValue {
  if (request['body_encoding'] !== 'base64' || typeof request.body !== 'string') return request.body;
  return comparableBytes(Buffer.from(request.body, 'base64'), typeof request['content_type'] === 'string' ? request['content_type'] : '');
}
