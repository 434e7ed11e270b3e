// Sends a recorded request to the live API with the user's own key (read from the
// environment, never written), and reads the answer into the recording's form, a
// stream through the same capture record mode uses, so both compare alike.
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { DriftCheckError } from '../errors.js';
import { isJsonObject, parseLossless, stringifyLossless, type JsonValue } from '../json/lossless.js';
import { statusOf, type Recording, type RecordedResponse } from '../recordings/recording.js';
import { StreamCapture, streamFormatOf, type CapturedStream } from '../proxy/capture.js';

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
  return `${recording.request.endpoint}${searchOf(recording)}`;
}

function searchOf(recording: Recording): string {
  return new URL(recording.request.url, 'http://recording.invalid').search;
}

/** Where to send it: the upstream (its base path kept), then the endpoint and query. */
export function liveUrl(recording: Recording, upstream: URL | undefined): URL {
  const base = upstreamOf(recording, upstream);
  return new URL(`${base.origin}${base.pathname.replace(/\/$/, '')}${pathOf(recording)}`);
}

/** A route of the server's: paths under `prefix` go to its upstream's URL (`base`, no trailing slash), the prefix taken off (config/options.ts). */
export interface LiveRoute {
  prefix: string;
  base: string;
}

/** Where the recordings go: -u (the default route's upstream), and the route an endpoint takes, if any. */
export interface Routing {
  upstream?: URL;
  routeOf?: (endpoint: string) => LiveRoute | undefined;
}

export interface Destination {
  url: URL;
  /** The user named this host with -u: any key may go there. */
  chosen: boolean;
}

/**
 * Where the server would forward the recording: under a route, the route's upstream (its
 * base path kept) with the endpoint less the prefix, as record mode sent it; otherwise
 * -u, else the recorded origin. -u is the default upstream only, as `serve --upstream`
 * is: a routed recording's key never goes to it.
 */
export function destinationOf(recording: Recording, routing: Routing): Destination {
  const route = routing.routeOf?.(recording.request.endpoint);
  if (route === undefined) return { url: liveUrl(recording, routing.upstream), chosen: routing.upstream !== undefined };
  const rest = recording.request.endpoint.slice(route.prefix.length) || '/';
  return { url: new URL(`${route.base}${rest}${searchOf(recording)}`), chosen: false };
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

/** How often a 429 or 5xx is asked again, and the longest Retry-After waited for. */
export const RETRIES = 2;
const LONGEST_RETRY_WAIT_MS = 60_000;

/** Retry-After in ms (seconds or an HTTP date), else a doubling backoff from 1 s. */
function retryWaitMs(header: string | string[] | undefined, attempt: number): number {
  const text = Array.isArray(header) ? header[0] : header;
  if (text !== undefined && text.trim() !== '') {
    const seconds = Number(text);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  return 1000 * 2 ** attempt;
}

const ok = (status: number) => status >= 200 && status < 300;

export interface SendOptions {
  /** The recording's file, named in every failure. */
  file: string;
  timeoutMs: number;
  /** Set when the run stops: no retry starts after it. */
  stop?: AbortSignal;
}

/**
 * The live answer, in the form a recording keeps. Where the recording had a 2xx, a
 * 401/403 is the key refused (the check's failure, and no later request can do
 * better: `stopsRun`), a 429/5xx the API unable to answer now (asked again after its
 * Retry-After, a few times at most, then the check's failure for this recording), not
 * drift. So is a connection that fails or an answer cut short.
 */
export async function sendLive(recording: Recording, url: URL, auth: Record<string, string>, options: SendOptions): Promise<RecordedResponse> {
  const { file, timeoutMs } = options;
  const { body, contentType } = requestBody(recording);
  const method = liveMethod(recording);
  const recordedOk = ok(statusOf(recording.response));
  for (let attempt = 0; ; attempt++) {
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
      throw new DriftCheckError(`${file}: the upstream ${url.origin} could not be reached: ${(error as Error).message}`);
    }
    const status = answer.statusCode;
    if (recordedOk && (status === 401 || status === 403)) {
      await answer.body.dump().catch(() => undefined);
      throw new DriftCheckError(`${file}: the upstream ${url.origin} refused the key (${status}); check the key's variable and that it is valid there`, true);
    }
    if (recordedOk && (status === 429 || status >= 500)) {
      await answer.body.dump().catch(() => undefined);
      const wait = retryWaitMs(answer.headers['retry-after'], attempt);
      if (attempt < RETRIES && wait <= LONGEST_RETRY_WAIT_MS && !options.stop?.aborted) {
        await sleep(wait, undefined, { signal: options.stop }).catch(() => undefined);
        if (!options.stop?.aborted) continue;
      }
      throw new DriftCheckError(`${file}: the upstream ${url.origin} answered ${status} ${attempt + 1} time${attempt === 0 ? '' : 's'} (${status === 429 ? 'rate limited' : 'a server error'}); not drift: try again later or with a lower --rate`);
    }
    try {
      return await readAnswer(answer.statusCode, answer.headers['content-type'], answer.body);
    } catch (error) {
      throw new DriftCheckError(`${file}: reading the answer from ${url.origin} failed: ${(error as Error).message}`);
    }
  }
}

async function readAnswer(status: number, type: string | string[] | undefined, stream: Dispatcher.ResponseData['body']): Promise<RecordedResponse> {
  const media = Array.isArray(type) ? type[0] : type;
  const headers: Record<string, string> = media ? { 'content-type': media } : {};
  const format = streamFormatOf(media);
  if (format && status < 400) {
    let captured: CapturedStream | undefined;
    const capture = new StreamCapture(format, 0, 0, async (done) => void (captured = done), undefined, false);
    await pipeline(stream, capture, async function* (source: AsyncIterable<unknown>) {
      for await (const _ of source) yield* [];
    });
    return { body: captured?.chunks ?? [], is_streaming: true, status, headers, stream: captured?.framing };
  }
  const bytes = Buffer.from(await stream.arrayBuffer());
  let parsed: JsonValue;
  try {
    parsed = parseLossless(bytes.toString('utf8'));
  } catch {
    return { body: bytes.toString('base64'), body_encoding: 'base64', is_streaming: false, status, headers };
  }
  return { body: parsed, is_streaming: false, status, headers };
}
