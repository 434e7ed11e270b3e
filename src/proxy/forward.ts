// Record and live modes: the request goes to the upstream through
// @fastify/reply-from; the answer streams back to the client as it arrives and,
// when recording, is captured and written once it has ended completely.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type {} from '@fastify/reply-from';
import { StreamCapture, streamFormatOf, type CapturedStream } from './capture.js';
import type { ClientRequest } from '../request/client-request.js';
import { isJsonObject, parseLossless, type JsonValue } from '../json/lossless.js';
import type { RequestKey } from '../keys/index.js';
import type { Recording, RecordedResponse } from '../recordings/recording.js';
import { normalizeResponseObject } from './response-normalize.js';
import { canonicalQuery } from '../secrets/redact.js';
import type { IdSession } from './ids.js';
import { CONTROL_HEADERS } from '../request/control-headers.js';
import { errorBody } from '../wire/error-body.js';

export interface Exchange {
  client: ClientRequest;
  /** Absent in live mode, where nothing is keyed or written. */
  key?: RequestKey;
  upstreamUrl: URL;
  /** The body to send upstream when it differs from the client's (real ids swapped in). */
  upstreamBody?: Buffer;
  /** Rewrites the upstream's ids into deterministic ones (stateful-id mode). */
  ids?: IdSession;
  /** Keep when each stream event arrived. */
  recordTiming?: boolean;
  /** performance.now() when the request arrived. */
  startedAt: number;
}

export type ForwardOutcome = { kind: 'recorded' } | { kind: 'not-recorded'; reason: string } | { kind: 'passed-through' };

/** Writes a recording; rejects with a message when it cannot. */
export type Persist = (recording: Recording) => Promise<void>;

/** Headers the proxy keeps for itself or must not pass on as they came. */
function forwardedHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out = { ...headers };
  for (const name of CONTROL_HEADERS) delete out[name];
  // The proxy has to read what it records; compressed answers would have to be undone anyway.
  out['accept-encoding'] = 'identity';
  return out;
}

function decompressor(encoding: string | undefined): NodeJS.ReadWriteStream | undefined {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

function contentTypeOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['content-type'];
  return Array.isArray(value) ? value[0] : value;
}

/** The upstream URL as a recording stores it: no credentials, no base path (a gateway's account id). */
function storedUrl(exchange: Exchange, key: RequestKey): string {
  const query = canonicalQuery(exchange.client.query);
  return `${exchange.upstreamUrl.origin}${key.keyedPath}${query ? `?${query}` : ''}`;
}

function buildRecording(exchange: Exchange, key: RequestKey, response: RecordedResponse): Recording {
  const { client } = exchange;
  const body = key.storedBody();
  const request: Recording['request'] = {
    method: key.method,
    url: storedUrl(exchange, key),
    headers: {},
    body: client.body.kind === 'bytes' ? client.body.bytes.toString('base64') : body,
    endpoint: key.endpoint,
    model: isJsonObject(body) && typeof body['model'] === 'string' ? body['model'] : '',
  };
  if (client.body.kind === 'bytes') {
    request['body_encoding'] = 'base64';
    request['content_type'] = client.body.contentType;
  }
  return { test_id: client.testId, request, response, id_normalization_mapping: {} };
}

function keptHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const type = contentTypeOf(headers);
  return type ? { 'content-type': type } : {};
}

function streamResponse(exchange: Exchange, key: RequestKey, status: number, headers: IncomingHttpHeaders, captured: CapturedStream): RecordedResponse {
  return {
    body: captured.chunks.map((chunk) => normalizeResponseObject(chunk, key.key, !exchange.ids)),
    is_streaming: true,
    status,
    headers: keptHeaders(headers),
    stream: captured.framing,
  };
}

/** A whole (non-stream) answer: its ids rewritten for the client, and what to store. */
function bodyResponse(exchange: Exchange, key: RequestKey, status: number, headers: IncomingHttpHeaders, upstreamBytes: Buffer): { bytes: Buffer; response: RecordedResponse } {
  const type = contentTypeOf(headers) ?? '';
  let body: JsonValue | undefined;
  let bytes = upstreamBytes;
  if (/json/i.test(type) || type === '') {
    try {
      let text = bytes.toString('utf8');
      let value = parseLossless(text);
      const replace = exchange.ids?.replacer(value);
      if (replace) {
        text = replace(text);
        bytes = Buffer.from(text);
        value = parseLossless(text);
      }
      body = normalizeResponseObject(value, key.key, !exchange.ids);
    } catch {
      body = undefined;
    }
  }
  return { bytes, response: bodyResponseOf(body, bytes, status, headers) };
}

function bodyResponseOf(body: JsonValue | undefined, bytes: Buffer, status: number, headers: IncomingHttpHeaders): RecordedResponse {
  if (body === undefined && bytes.length > 0) {
    return { body: bytes.toString('base64'), is_streaming: false, status, headers: keptHeaders(headers), body_encoding: 'base64' };
  }
  return { body: body ?? null, is_streaming: false, status, headers: keptHeaders(headers) };
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/**
 * Forwards the request. With a key and `persist`, a complete answer is recorded
 * before the client's response ends, so a recording exists once the client has its answer.
 */
export function forward(request: FastifyRequest, reply: FastifyReply, exchange: Exchange, persist?: Persist): Promise<ForwardOutcome> {
  const { client, key } = exchange;
  return new Promise<ForwardOutcome>((resolve) => {
    try {
      sendUpstream(resolve);
    } catch (error) {
      // reply-from refuses some URLs outright (malformed percent-encoding, '..' segments).
      const message = `llm-replay: cannot forward ${client.method} ${exchange.upstreamUrl.pathname}: ${(error as Error).message}`;
      reply.code(400).send(errorBody(message, 'invalid_request_error', 'llm_replay_bad_url'));
      resolve({ kind: 'not-recorded', reason: message });
    }
  });

  function sendUpstream(resolve: (outcome: ForwardOutcome) => void): void {
    const upstreamHref = exchange.upstreamUrl.href;
    reply.from(upstreamHref, {
      body: client.body.kind === 'none' ? null : (exchange.upstreamBody ?? client.body.bytes),
      ...(client.body.kind === 'none' ? {} : { contentType: String(request.headers['content-type'] ?? 'application/octet-stream') }),
      rewriteRequestHeaders: (_request, headers) => forwardedHeaders(headers as IncomingHttpHeaders),
      rewriteHeaders: (headers) => {
        const out = { ...(headers as IncomingHttpHeaders) };
        // The body may be decompressed or re-framed: let fastify frame what is actually sent.
        delete out['content-length'];
        delete out['content-encoding'];
        return out;
      },
      onError: (errorReply, { error }) => {
        // reply-from says 504 for timeouts; anything else the upstream did wrong is a bad gateway.
        const status = (error as { statusCode?: number }).statusCode === 504 ? 504 : 502;
        const cause = (error.cause as Error | undefined)?.message;
        const message = `llm-replay: the upstream ${exchange.upstreamUrl.origin} failed: ${error.message}${cause && cause !== error.message ? ` (${cause})` : ''}`;
        errorReply.code(status).send(errorBody(message, 'upstream_error', 'llm_replay_upstream_error'));
        resolve({ kind: 'not-recorded', reason: error.message });
      },
      onResponse: (_request, upstreamReply, raw) => {
        // reply-from hands over {statusCode, headers, stream}; its typings describe a ServerResponse.
        const response = raw as unknown as { statusCode: number; headers: IncomingHttpHeaders; stream: Readable };
        const headers = response.headers;
        const status = response.statusCode ?? 502;
        const decode = decompressor(headers['content-encoding'] as string | undefined);
        const source: Readable = decode ? (response.stream.pipe(decode) as unknown as Readable) : (response.stream as unknown as Readable);
        if (decode) response.stream.on('error', (error) => (decode as unknown as Readable).destroy(error));
        const format = streamFormatOf(contentTypeOf(headers));
        if (!key || !persist) {
          upstreamReply.send(source);
          resolve({ kind: 'passed-through' });
          return;
        }
        const save = async (recording: Recording) => {
          try {
            await persist(recording);
            resolve({ kind: 'recorded' });
          } catch (error) {
            resolve({ kind: 'not-recorded', reason: (error as Error).message });
            throw error;
          }
        };
        if (format) {
          const onEnd = (captured: CapturedStream) =>
            captured.incomplete
              ? Promise.resolve(resolve({ kind: 'not-recorded', reason: captured.incomplete }))
              : save(buildRecording(exchange, key, streamResponse(exchange, key, status, headers, captured)));
          const headMs = Math.round(performance.now() - exchange.startedAt);
          const capture = new StreamCapture(format, exchange.startedAt, headMs, onEnd, exchange.ids, exchange.recordTiming ?? true);
          upstreamReply.send(capture);
          pipeline(source, capture).catch((error: Error) => resolve({ kind: 'not-recorded', reason: `the stream broke off: ${error.message}` }));
          return;
        }
        collect(source).then(
          async (upstreamBytes) => {
            const { bytes, response } = bodyResponse(exchange, key, status, headers, upstreamBytes);
            try {
              await persist(buildRecording(exchange, key, response));
            } catch (error) {
              // Recording is the point of record mode: say it failed rather than answer as if all were well.
              const message = `llm-replay: the answer could not be recorded: ${(error as Error).message}`;
              upstreamReply.code(500).send(errorBody(message, 'llm_replay_error', 'llm_replay_write_failed'));
              resolve({ kind: 'not-recorded', reason: (error as Error).message });
              return;
            }
            upstreamReply.send(bytes);
            resolve({ kind: 'recorded' });
          },
          (error: Error) => {
            const message = `llm-replay: the upstream ${exchange.upstreamUrl.origin} broke off its answer: ${error.message}`;
            upstreamReply.code(502).send(errorBody(message, 'upstream_error', 'llm_replay_upstream_error'));
            resolve({ kind: 'not-recorded', reason: error.message });
          },
        );
      },
    });
  }
}
