// Sends a recorded request to the live API with the user's own key (read from the
// environment, never written), and reads the answer into the recording's form, a
// stream through the same capture record mode uses, so both compare alike.
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { DriftCheckError } from '../errors.js';
import { isJsonObject, parseLossless, stringifyLossless, type JsonValue } from '../json/lossless.js';
import type { Recording, RecordedResponse } from '../recordings/recording.js';
import { StreamCapture, streamFormatOf, type CapturedStream } from '../proxy/capture.js';

export type Dialect = 'openai' | 'anthropic' | 'gemini' | 'ollama';

export function dialectOf(endpoint: string): Dialect {
  if (/^\/api\//.test(endpoint)) return 'ollama';
  if (/\/messages(\/|$)/.test(endpoint) && !/\/threads\//.test(endpoint)) return 'anthropic';
  if (/:(stream)?[gG]enerateContent$|^\/v1beta\//.test(endpoint)) return 'gemini';
  return 'openai';
}

const KEY_VARIABLES: Record<Dialect, string[]> = {
  openai: ['OPENAI_API_KEY'],
  anthropic: ['ANTHROPIC_API_KEY'],
  gemini: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
  ollama: [],
};

/** The headers that carry the user's key for a dialect, from the environment; throws when the key is not set. */
export function authHeaders(dialect: Dialect, env: NodeJS.ProcessEnv, recorded: Recording): Record<string, string> {
  const names = KEY_VARIABLES[dialect];
  if (names.length === 0) return {};
  const key = names.map((name) => env[name]).find((value) => value !== undefined && value !== '');
  if (key === undefined) throw new DriftCheckError(`no key for ${recorded.request.endpoint}: set ${names.join(' or ')}`);
  if (dialect === 'anthropic') return { 'x-api-key': key, 'anthropic-version': recorded.response.origin?.version_headers?.['anthropic-version'] ?? '2023-06-01' };
  if (dialect === 'gemini') return { 'x-goog-api-key': key };
  return { authorization: `Bearer ${key}` };
}

/**
 * The API it goes to: the given upstream, or the origin it was recorded from. Only the
 * origin: a recording keeps no base path (a gateway's account id), and llama-stack's
 * URL is its client's base URL plus the endpoint again (`.../v1/v1/chat/completions`).
 */
export function upstreamOf(recording: Recording, upstream: URL | undefined): URL {
  return upstream ?? new URL(new URL(recording.request.url, 'http://recording.invalid').origin);
}

/** The endpoint and the recorded query: the path to ask for under an upstream (or a proxy). */
export function pathOf(recording: Recording): string {
  return `${recording.request.endpoint}${new URL(recording.request.url, 'http://recording.invalid').search}`;
}

/** Where to send it: the upstream (its base path kept), then the endpoint and query. */
export function liveUrl(recording: Recording, upstream: URL | undefined): URL {
  const base = upstreamOf(recording, upstream);
  return new URL(`${base.origin}${base.pathname.replace(/\/$/, '')}${pathOf(recording)}`);
}

/** llama-stack records model lists as POST; the API answers GET. */
export function liveMethod(recording: Recording): string {
  return /\/models$/.test(recording.request.endpoint) ? 'GET' : recording.request.method;
}

/** The body to send again, as it was recorded. */
export function requestBody(recording: Recording): { body?: Buffer; contentType?: string } {
  const { request: sent } = recording;
  if (sent.method === 'GET' || sent.method === 'HEAD' || sent.method === 'DELETE') return {};
  if (sent['body_encoding'] === 'base64' && typeof sent.body === 'string') return { body: Buffer.from(sent.body, 'base64'), contentType: String(sent['content_type'] ?? 'application/octet-stream') };
  if (isJsonObject(sent.body) && Object.keys(sent.body).length === 0 && /\/models$/.test(sent.endpoint)) return {};
  return { body: Buffer.from(stringifyLossless(sent.body)), contentType: 'application/json' };
}

/** The live answer, in the form a recording keeps. A connection that fails is the check's failure, not drift. */
export async function sendLive(recording: Recording, url: URL, auth: Record<string, string>, timeoutMs: number): Promise<RecordedResponse> {
  const { body, contentType } = requestBody(recording);
  const method = liveMethod(recording);
  let answer;
  try {
    answer = await request(url, {
      method: method as 'POST',
      headers: { ...auth, ...(contentType ? { 'content-type': contentType } : {}), accept: '*/*' },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (error) {
    throw new DriftCheckError(`the upstream ${url.origin} could not be reached: ${(error as Error).message}`);
  }
  const type = answer.headers['content-type'];
  const media = Array.isArray(type) ? type[0] : type;
  const headers: Record<string, string> = media ? { 'content-type': media } : {};
  const format = streamFormatOf(media);
  if (format && answer.statusCode < 400) {
    let captured: CapturedStream | undefined;
    const capture = new StreamCapture(format, 0, 0, async (done) => void (captured = done), undefined, false);
    await pipeline(answer.body, capture, async function* (source: AsyncIterable<unknown>) {
      for await (const _ of source) yield* [];
    });
    return { body: captured?.chunks ?? [], is_streaming: true, status: answer.statusCode, headers, stream: captured?.framing };
  }
  const bytes = Buffer.from(await answer.body.arrayBuffer());
  let parsed: JsonValue;
  try {
    parsed = parseLossless(bytes.toString('utf8'));
  } catch {
    return { body: bytes.toString('base64'), body_encoding: 'base64', is_streaming: false, status: answer.statusCode, headers };
  }
  return { body: parsed, is_streaming: false, status: answer.statusCode, headers };
}

