// Recording keys: the SHA-256 of a normalised view of the request. Two schemes:
// the project's own (json-stable-stringify, number spelling does not matter) and
// llama-stack's (Python json.dumps, byte for byte). README "Keys" documents both.
import { createHash } from 'node:crypto';
import stableStringify from 'json-stable-stringify';
import type { ClientRequest } from '../exchange.js';
import { losslessBody } from '../exchange.js';
import { pythonDumps } from '../json/python-dumps.js';
import type { JsonValue } from '../json/lossless.js';
import { canonicalQuery } from '../secrets.js';
import { normalizeLosslessBody, normalizePlainBody } from './normalize.js';
import { llamaStackEndpoint, MODEL_LIST_ENDPOINTS, SHARED_ENDPOINTS } from './llama-stack-paths.js';

export const KEY_SCHEMES = ['default', 'llama-stack'] as const;
export type KeyScheme = (typeof KEY_SCHEMES)[number];

export interface KeyContext {
  /** The upstream's host: llama-stack drops stream_options for Bedrock. */
  upstreamHost: string;
}

export interface RequestKey {
  key: string;
  /** What request.endpoint holds in the recording. */
  endpoint: string;
  /** The path the key hashes (request.url's path in llama-stack files). */
  keyedPath: string;
  /** The method as keyed and stored. */
  method: string;
  /** The body as stored in the recording (lossless JSON, or null for none/bytes). */
  storedBody: JsonValue;
  /** True for model-list endpoints, answered from the union of their recordings. */
  modelList: boolean;
  /** The normalised object that was hashed, for diagnostics. */
  normalized: Record<string, unknown>;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

function bytesDescriptor(bytes: Buffer): Record<string, string> {
  return { bytes_sha256: sha256Hex(bytes) };
}

function defaultKey(request: ClientRequest, context: KeyContext): RequestKey {
  const dropStreamOptions = context.upstreamHost.includes('bedrock');
  const { body } = request;
  const keyedBody =
    body.kind === 'json'
      ? normalizePlainBody(body.value as JsonValue, { dropStreamOptions })
      : body.kind === 'bytes'
        ? bytesDescriptor(body.bytes)
        : null;
  const normalized: Record<string, unknown> = { method: request.method, endpoint: request.path, body: keyedBody };
  const query = canonicalQuery(request.query);
  if (query !== '') normalized['query'] = query;
  if (request.testId !== null) normalized['test_id'] = request.testId;
  return {
    key: sha256Hex(stableStringify(normalized) ?? ''),
    endpoint: request.path,
    keyedPath: request.path,
    method: request.method,
    storedBody: body.kind === 'json' ? losslessBody(body) : null,
    modelList: false,
    normalized,
  };
}

function llamaStackKey(request: ClientRequest, context: KeyContext): RequestKey {
  const dropStreamOptions = context.upstreamHost.includes('bedrock');
  const { endpoint, keyedPath, recorded } = llamaStackEndpoint(request.path);
  const { body } = request;
  // llama-stack records SDK calls as POST with the call's arguments as the body: {} for a listing.
  const storedBody: JsonValue = body.kind === 'json' ? losslessBody(body) : recorded ? {} : null;
  const keyedBody: JsonValue =
    body.kind === 'bytes' ? bytesDescriptor(body.bytes) : storedBody === null ? null : normalizeLosslessBody(storedBody, { dropStreamOptions });
  const method = recorded ? 'POST' : request.method;
  const normalized: Record<string, JsonValue> = { method, endpoint: keyedPath, body: keyedBody };
  // llama-stack keys the url's path only; calls it never records keep their query apart.
  const query = recorded ? '' : canonicalQuery(request.query);
  if (query !== '') normalized['query'] = query;
  if (!SHARED_ENDPOINTS.has(keyedPath)) normalized['test_id'] = request.testId;
  return {
    key: sha256Hex(pythonDumps(normalized)),
    endpoint,
    keyedPath,
    method,
    storedBody,
    modelList: MODEL_LIST_ENDPOINTS.has(endpoint),
    normalized,
  };
}

export function computeKey(scheme: KeyScheme, request: ClientRequest, context: KeyContext): RequestKey {
  return scheme === 'llama-stack' ? llamaStackKey(request, context) : defaultKey(request, context);
}
