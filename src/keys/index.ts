// Recording keys: the SHA-256 of a view of the request. Two schemes: the project's
// own (exact: strings as sent, numbers by value, canonical JSON) and llama-stack's
// (its normalisation and Python's json.dumps, byte for byte). README "Keys"
// documents both. The server and `verify` key through the same functions.
import { hash } from 'node:crypto';
import { clientRequest, losslessBody, readMultipartParts, type ClientRequest, type RequestBody } from '../request/client-request.js';
import { pythonDumps } from '../json/python-dumps.js';
import { toPlainJson, type JsonValue } from '../json/lossless.js';
import type { Recording } from '../recordings/recording.js';
import { canonicalQuery } from '../secrets/redact.js';
import { normalizeLosslessBody } from './normalize.js';
import { applyRules, rulesApply, type CompiledRules } from './rules.js';
import { canonicalJson } from './canonical.js';
import { isMultipart, multipartParts, type MultipartPart } from '../request/multipart.js';
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

/** One call, no Hash object: every request is hashed once, where createHash's object costs a third of the hashing. */
function sha256Hex(text: string | Buffer): string {
  return hash('sha256', text, 'hex');
}

/** What a key is computed from, whether it comes from a live request or a stored one. */
interface KeyParts {
  method: string;
  keyedPath: string;
  /** The JSON body with every number's exact value: JSON.parse's when it rounded none, else the lossless tree (default scheme). */
  exactBody: () => JsonValue;
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
  return { ...parts, exactBody: ruled(parts.exactBody), losslessBody: ruled(parts.losslessBody), rules: rules.fingerprint };
}

function bytesDescriptor(bytes: Buffer, parts: MultipartPart[] | undefined): JsonValue {
  return parts ? { multipart: parts as unknown as JsonValue[] } : { bytes_sha256: sha256Hex(bytes) };
}

/** The body the default scheme keys: exactly what was sent, numbers by value. */
function defaultBody(parts: KeyParts): JsonValue {
  return parts.bytes ? bytesDescriptor(parts.bytes, parts.parts) : parts.hasBody ? parts.exactBody() : null;
}

/** The object the default scheme keys (for diagnostics and tests: the key hashes its canonical text). */
function defaultNormalized(parts: KeyParts): Record<string, unknown> {
  const normalized: Record<string, unknown> = { method: parts.method, endpoint: parts.keyedPath, body: toPlainJson(defaultBody(parts)) };
  if (parts.query !== '') normalized['query'] = parts.query;
  if (parts.testId !== null) normalized['test_id'] = parts.testId;
  if (parts.rules) normalized['rules'] = parts.rules;
  return normalized;
}

/**
 * The default scheme's keyed text: the canonical JSON (canonical.ts) of
 * {body, endpoint, method, query?, rules?, test_id?}, written directly. The one
 * function behind every default key, the server's and `verify`'s.
 */
function defaultKeyText(parts: KeyParts): string {
  let text = `{"body":${canonicalJson(defaultBody(parts))},"endpoint":${JSON.stringify(parts.keyedPath)},"method":${JSON.stringify(parts.method)}`;
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
function clientParts(request: ClientRequest, context: KeyContext, method: string, keyedPath: string, exactBody: () => JsonValue, lossless: () => JsonValue, hasBody: boolean): KeyParts {
  const parts: KeyParts = {
    method,
    keyedPath,
    exactBody,
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

function defaultKey(request: ClientRequest, context: KeyContext, known?: string): RequestKey {
  const { body } = request;
  const ruled = clientParts(
    request,
    context,
    request.method,
    request.path,
    () => {
      const json = body as RequestBody & { kind: 'json' };
      return json.roundedNumbers ? losslessBody(json) : (json.value as JsonValue);
    },
    () => losslessBody(body as RequestBody & { kind: 'json' }),
    body.kind !== 'none',
  );
  return {
    key: known ?? sha256Hex(defaultKeyText(ruled)),
    normalized: () => defaultNormalized(ruled),
    endpoint: request.path,
    keyedPath: request.path,
    method: request.method,
    // Only recording and miss reports need the lossless body: replay never parses it.
    storedBody: () => (body.kind === 'json' ? (body.plainNumbers ? (body.value as JsonValue) : losslessBody(body)) : null),
    modelList: false,
  };
}

function llamaStackKey(request: ClientRequest, context: KeyContext, known?: string): RequestKey {
  const { endpoint, keyedPath, recorded } = llamaStackEndpoint(request.path);
  const { body } = request;
  // llama-stack records SDK calls as POST with the call's arguments as the body: {} for a listing.
  // Parsed when first needed: with a key computed elsewhere, replay may never need it.
  let stored: JsonValue | undefined;
  const storedBody = (): JsonValue => (stored ??= body.kind === 'json' ? losslessBody(body) : recorded ? {} : null);
  const method = recorded ? 'POST' : request.method;
  const parts = clientParts(request, context, method, keyedPath, storedBody, storedBody, body.kind === 'json' || recorded);
  let normalized = known === undefined ? llamaStackNormalized(parts, recorded) : undefined;
  return {
    key: known ?? sha256Hex(pythonDumps(normalized!)),
    normalized: () => (normalized ??= llamaStackNormalized(parts, recorded)),
    endpoint,
    keyedPath,
    method,
    storedBody,
    modelList: MODEL_LIST_ENDPOINTS.has(endpoint),
  };
}

/** The key a recording file should be named by, recomputed from its stored request. */
export async function keyOfRecording(scheme: KeyScheme, recording: Recording, rules?: CompiledRules): Promise<string> {
  const { request } = recording;
  const contentType = typeof request['content_type'] === 'string' ? request['content_type'] : undefined;
  const encoded = request['body_encoding'] === 'base64' && typeof request.body === 'string' ? request.body : undefined;
  const multipart = encoded !== undefined && isMultipart(contentType) ? await multipartParts(Buffer.from(encoded, 'base64'), contentType as string) : undefined;
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
    exactBody: () => request.body,
    losslessBody: () => request.body,
    ...(bytes ? { bytes } : {}),
    ...(multipart ? { parts: multipart } : {}),
    hasBody: request.body !== null && request.body !== undefined,
    query: canonicalQuery(url?.search.slice(1) ?? ''),
    testId: recording.test_id,
    bedrock: url?.host.includes('bedrock') ?? false,
  };
  const ruled = withRules(parts, rules, request.endpoint);
  if (scheme === 'default') return sha256Hex(defaultKeyText(ruled));
  return sha256Hex(pythonDumps(llamaStackNormalized(ruled, llamaStackEndpoint(request.endpoint).recorded || SHARED_ENDPOINTS.has(request.endpoint))));
}

/** A request's key; `known`: the key already computed elsewhere (the keying thread), which is not hashed again. */
export function computeKey(scheme: KeyScheme, request: ClientRequest, context: KeyContext, known?: string): RequestKey {
  return scheme === 'llama-stack' ? llamaStackKey(request, context, known) : defaultKey(request, context, known);
}

/** An HTTP request as a server reads it, for keying outside the server (benchmarks, tools). */
export interface RawRequest {
  method: string;
  /** Path and query, as on the request line. */
  url: string;
  headers?: Record<string, string | string[] | undefined>;
  body?: Buffer;
}

/** The key the server gives a request: the same steps as the server, from the bytes up. */
export async function keyRequest(scheme: KeyScheme, raw: RawRequest, context: KeyContext = { upstreamHost: '' }): Promise<RequestKey> {
  const client = clientRequest(raw.method, raw.url, raw.headers ?? {}, raw.body);
  await readMultipartParts(client);
  return computeKey(scheme, client, context);
}
