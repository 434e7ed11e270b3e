// The client's request as the rest of the proxy sees it: built once at the edge,
// with the body read as bytes and parsed lazily (JSON when it is JSON).
import { isUtf8 } from 'node:buffer';
import { parseLossless, type JsonValue } from '../json/lossless.js';
import type { MultipartPart } from './multipart.js';

export type RequestBody =
  | { kind: 'none' }
  | { kind: 'json'; text: string; bytes: Buffer; value: unknown }
  | { kind: 'bytes'; bytes: Buffer; contentType: string; parts?: MultipartPart[] };

export interface ClientRequest {
  method: string;
  /** The path the client called, without the query. */
  path: string;
  /** The raw query string without '?', '' when none. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: RequestBody;
  testId: string | null;
}

/** Deeper JSON would overflow the stack of every recursive step after parsing (Python's json stops near 1000). */
const MAX_DEPTH = 512;

/** How deeply arrays and objects nest in valid JSON text. */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92) i++; // backslash: skip the escaped character
      else if (ch === 34) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 91 || ch === 123) max = Math.max(max, ++depth);
    else if (ch === 93 || ch === 125) depth--;
  }
  return max;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

/** A body is JSON when it says so (or says nothing) and parses; anything else is kept as bytes. */
export function classifyBody(bytes: Buffer | undefined, contentType: string | undefined): RequestBody {
  if (!bytes || bytes.length === 0) return { kind: 'none' };
  const type = contentType ?? '';
  if (type === '' || JSON_TYPE.test(type)) {
    try {
      // Invalid UTF-8, malformed JSON or absurd nesting: keyed and stored by its bytes instead.
      const text = bytes.toString('utf8');
      // Decoding replaces invalid bytes with U+FFFD: only then is the full check needed.
      if (text.includes('\uFFFD') && !isUtf8(bytes)) throw new TypeError('not UTF-8');
      const value: unknown = JSON.parse(text);
      if (text.length < 2 * MAX_DEPTH || nestingDepth(text) <= MAX_DEPTH) return { kind: 'json', text, bytes, value };
    } catch {
      // not JSON after all
    }
  }
  return { kind: 'bytes', bytes, contentType: type || 'application/octet-stream' };
}

const losslessCache = new WeakMap<RequestBody, JsonValue>();

/** The JSON body with number lexemes kept (for llama-stack keys and for storing). */
export function losslessBody(body: RequestBody & { kind: 'json' }): JsonValue {
  let value = losslessCache.get(body);
  if (value === undefined) {
    try {
      value = parseLossless(body.text);
    } catch {
      // lossless-json refuses duplicate keys that JSON.parse accepts; Python keeps the last too
      value = body.value as JsonValue;
    }
    losslessCache.set(body, value);
  }
  return value;
}
