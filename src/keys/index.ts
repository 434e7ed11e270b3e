// Recording keys: the SHA-256 of a normalised view of the request. Two schemes:
// the project's own (json-stable-stringify, number spelling does not matter) and
// llama-stack's (Python json.dumps, byte for byte). README "Keys" documents both.
import { createHash } from 'node:crypto';
import stableStringify from 'json-stable-stringify';
import type { ClientRequest, RequestBody } from '../request/client-request.js';
import { losslessBody } from '../request/client-request.js';
import { pythonDumps } from '../json/python-dumps.js';
import { toPlainJson, type JsonValue } from '../json/lossless.js';
import type { Recording } from '../recordings/recording.js';
import { canonicalQuery } from '../secrets/redact.js';
import { normalizeLosslessBody, normalizePlainBody } from './normalize.js';
import { applyRules, rulesApply, type CompiledRules } from './rules.js';
import { canonicalBody } from './canonical.js';
import type { MultipartPart } from '../request/multipart.js';
import { llamaStackEndpoint, MODEL_LIST_ENDPOINTS, SHARED_ENDPOINTS } from './llama-stack-paths.js';

export const KEY_SCHEMES = ['default', 'llama-stack'] as const;
export type KeyScheme = (typeof KEY_SCHEMES)[number];

export interface KeyContext {
  /** The upstream's host: llama-stack drops stream_options for Bedrock. */
  upstreamHost: string;
  /** The user's normalisation rules, if any. */
  rules?: CompiledRules;
}

export interface RequestKey {
  key: string;
  /** What request.endpoint holds in the recording. */
  endpoint: string;
  /** The path the key hashes (request.url's path in llama-stack files). */
  keyedPath: string;
  /** The method as keyed and stored. */
  method: string;
  /** The body as stored in the recording (lossless JSON, or null for none/bytes); parsed on first use. */
  storedBody(): JsonValue;
  /** True for model-list endpoints, answered from the union of their recordings. */
  modelList: boolean;
  /** The normalised object that was hashed, built on demand (diagnostics, tests). */
  normalized(): Record<string, unknown>;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What a key is computed from, whether it comes from a live request or a stored one. */
interface KeyParts {
  method: string;
  keyedPath: string;
  /** The body as JSON.parse reads it (default scheme). */
  plainBody: () => JsonValue;
  /** The body with number lexemes kept (llama-stack scheme). */
  losslessBody: () => JsonValue;
  /** Set when the body is not JSON: it is keyed by these bytes. */
  bytes?: Buffer;
  /** Set for a multipart body: it is keyed by its parts, not its bytes (whose boundary is random). */
  parts?: MultipartPart[];
  hasBody: boolean;
  /** The canonical query (credentials removed, sorted); '' when none. */
  query: string;
  testId: string | null;
  /** llama-stack drops stream_options for Bedrock hosts. */
  bedrock: boolean;
  /** The fingerprint of the user's rules, when one applied to this request. */
  rules?: string;
}

/** Applies the user's rules for this path (if any) to both views of the body. */
function withRules(parts: KeyParts, rules: CompiledRules | undefined, path: string): KeyParts {
  if (!rules || !parts.hasBody || parts.bytes || !rulesApply(rules, path)) return parts;
  const ruled = (body: () => JsonValue) => () => applyRules(rules, path, body());
  return { ...parts, plainBody: ruled(parts.plainBody), losslessBody: ruled(parts.losslessBody), rules: rules.fingerprint };
}

function bytesDescriptor(bytes: Buffer, parts: MultipartPart[] | undefined): JsonValue {
  return parts ? { multipart: parts as unknown as JsonValue[] } : { bytes_sha256: sha256Hex(bytes) };
}

/** The object the default scheme hashes. */
function defaultNormalized(parts: KeyParts): Record<string, unknown> {
  const body = parts.bytes
    ? bytesDescriptor(parts.bytes, parts.parts)
    : parts.hasBody
      ? normalizePlainBody(parts.plainBody(), { dropStreamOptions: parts.bedrock })
      : null;
  const normalized: Record<string, unknown> = { method: parts.method, endpoint: parts.keyedPath, body };
  if (parts.query !== '') normalized['query'] = parts.query;
  if (parts.testId !== null) normalized['test_id'] = parts.testId;
  if (parts.rules) normalized['rules'] = parts.rules;
  return normalized;
}

/** The default key by its definition: SHA-256 of json-stable-stringify of the normalised object. */
export function defaultKeyByDefinition(normalized: Record<string, unknown>): string {
  return sha256Hex(stableStringify(normalized) ?? '');
}

/** The same text as json-stable-stringify(defaultNormalized(parts)), in one pass (the replay hot path). */
function defaultKeyText(parts: KeyParts): string {
  const body = parts.bytes ? canonicalBody(bytesDescriptor(parts.bytes, parts.parts), false) : parts.hasBody ? canonicalBody(parts.plainBody(), parts.bedrock) : 'null';
  let text = `{"body":${body},"endpoint":${JSON.stringify(parts.keyedPath)},"method":${JSON.stringify(parts.method)}`;
  if (parts.query !== '') text += `,"query":${JSON.stringify(parts.query)}`;
  if (parts.rules) text += `,"rules":${JSON.stringify(parts.rules)}`;
  if (parts.testId !== null) text += `,"test_id":${JSON.stringify(parts.testId)}`;
  return `${text}}`;
}

function llamaStackNormalized(parts: KeyParts, recorded: boolean): Record<string, JsonValue> {
  const body: JsonValue = parts.bytes
    ? bytesDescriptor(parts.bytes, parts.parts)
    : parts.hasBody
      ? normalizeLosslessBody(parts.losslessBody(), { dropStreamOptions: parts.bedrock })
      : null;
  const normalized: Record<string, JsonValue> = { method: parts.method, endpoint: parts.keyedPath, body };
  // llama-stack keys the url's path only; calls it never records keep their query apart.
  if (!recorded && parts.query !== '') normalized['query'] = parts.query;
  if (!SHARED_ENDPOINTS.has(parts.keyedPath)) normalized['test_id'] = parts.testId;
  if (parts.rules) normalized['rules'] = parts.rules;
  return normalized;
}

/** The key parts of a live request, with the user's rules applied. Runs for every request: no object spreads. */
function clientParts(request: ClientRequest, context: KeyContext, method: string, keyedPath: string, plainBody: () => JsonValue, lossless: () => JsonValue, hasBody: boolean): KeyParts {
  const parts: KeyParts = {
    method,
    keyedPath,
    plainBody,
    losslessBody: lossless,
    hasBody,
    query: canonicalQuery(request.query),
    testId: request.testId,
    bedrock: context.upstreamHost.includes('bedrock'),
  };
  const { body } = request;
  if (body.kind === 'bytes') {
    parts.bytes = body.bytes;
    if (body.parts) parts.parts = body.parts;
  }
  return withRules(parts, context.rules, request.path);
}

function defaultKey(request: ClientRequest, context: KeyContext): RequestKey {
  const { body } = request;
  const ruled = clientParts(
    request,
    context,
    request.method,
    request.path,
    () => (body as { value: JsonValue }).value,
    () => losslessBody(body as RequestBody & { kind: 'json' }),
    body.kind !== 'none',
  );
  return {
    key: sha256Hex(defaultKeyText(ruled)),
    normalized: () => defaultNormalized(ruled),
    endpoint: request.path,
    keyedPath: request.path,
    method: request.method,
    // Only recording and miss reports need the lossless body: replay never parses it.
    storedBody: () => (body.kind === 'json' ? losslessBody(body) : null),
    modelList: false,
  };
}

function llamaStackKey(request: ClientRequest, context: KeyContext): RequestKey {
  const { endpoint, keyedPath, recorded } = llamaStackEndpoint(request.path);
  const { body } = request;
  // llama-stack records SDK calls as POST with the call's arguments as the body: {} for a listing.
  const storedBody: JsonValue = body.kind === 'json' ? losslessBody(body) : recorded ? {} : null;
  const method = recorded ? 'POST' : request.method;
  const parts = clientParts(request, context, method, keyedPath, () => toPlainJson(storedBody) as JsonValue, () => storedBody, storedBody !== null);
  const normalized = llamaStackNormalized(parts, recorded);
  return { key: sha256Hex(pythonDumps(normalized)), normalized: () => normalized, endpoint, keyedPath, method, storedBody: () => storedBody, modelList: MODEL_LIST_ENDPOINTS.has(endpoint) };
}

/** The key a recording file should be named by, recomputed from its stored request. */
export function keyOfRecording(scheme: KeyScheme, recording: Recording, rules?: CompiledRules, multipart?: MultipartPart[]): string {
  const { request } = recording;
  let url: URL | undefined;
  try {
    url = new URL(request.url);
  } catch {
    url = undefined;
  }
  const bytes = request['body_encoding'] === 'base64' && typeof request.body === 'string' ? Buffer.from(request.body, 'base64') : undefined;
  const parts: KeyParts = {
    method: request.method.toUpperCase(),
    // llama-stack hashes the path of its url; the default scheme the path the client called.
    keyedPath: scheme === 'llama-stack' ? (url?.pathname ?? request.endpoint) : request.endpoint,
    plainBody: () => toPlainJson(request.body) as JsonValue,
    losslessBody: () => request.body,
    ...(bytes ? { bytes } : {}),
    ...(multipart ? { parts: multipart } : {}),
    hasBody: request.body !== null && request.body !== undefined,
    query: canonicalQuery(url?.search.slice(1) ?? ''),
    testId: recording.test_id,
    bedrock: url?.host.includes('bedrock') ?? false,
  };
  const ruled = withRules(parts, rules, request.endpoint);
  // verify recomputes keys by the definition, a check on the fast path replay uses.
  if (scheme === 'default') return defaultKeyByDefinition(defaultNormalized(ruled));
  return sha256Hex(pythonDumps(llamaStackNormalized(ruled, llamaStackEndpoint(request.endpoint).recorded || SHARED_ENDPOINTS.has(request.endpoint))));
}

export function computeKey(scheme: KeyScheme, request: ClientRequest, context: KeyContext): RequestKey {
  return scheme === 'llama-stack' ? llamaStackKey(request, context) : defaultKey(request, context);
}
