// Record and live modes: the request goes to the upstream through
// @fastify/reply-from, and what comes back is handed to the recorder's steps
// (recorder.ts), which stream it to the client and write it once complete.
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type {} from '@fastify/reply-from';
import { CONTROL_HEADERS } from '../request/control-headers.js';
import { Recorder, type Exchange, type ForwardOutcome, type Persist } from './recorder.js';

export type { Exchange, ForwardOutcome, Persist } from './recorder.js';

/** Headers the proxy keeps for itself or must not pass on as they came. */
function forwardedHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out = { ...headers };
  for (const name of CONTROL_HEADERS) delete out[name];
  // Node already answered "100 Continue" and read the body; undici refuses to send `expect` at all.
  delete out['expect'];
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

/**
 * Forwards the request. With a key and `persist`, a complete answer is recorded
 * before the client's response ends, so a recording exists once the client has its answer.
 */
export function forward(request: FastifyRequest, reply: FastifyReply, exchange: Exchange, persist?: Persist): Promise<ForwardOutcome> {
  const { client } = exchange;
  const recorder = new Recorder(exchange, persist);
  try {
    reply.from(exchange.upstreamUrl.href, {
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
      onError: (errorReply, { error }) => recorder.settle(recorder.upstreamFailed(errorReply as FastifyReply, error)),
      onResponse: (_request, upstreamReply, raw) => {
        // reply-from hands over {statusCode, headers, stream}; its typings describe a ServerResponse.
        const response = raw as unknown as { statusCode: number; headers: IncomingHttpHeaders; stream: Readable };
        const decode = decompressor(response.headers['content-encoding'] as string | undefined);
        if (decode) response.stream.on('error', (error) => (decode as unknown as Readable).destroy(error));
        const body = decode ? (response.stream.pipe(decode) as unknown as Readable) : response.stream;
        recorder.settle(recorder.headersReceived(upstreamReply as FastifyReply, { status: response.statusCode ?? 502, headers: response.headers }, body));
      },
    });
  } catch (error) {
    recorder.settle(recorder.refused(reply, error as Error));
  }
  return recorder.outcome;
}
