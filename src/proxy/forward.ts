// Record and live modes: the request goes to the upstream in one call on the server's
// undici agent (upstreamAgent, a resource of the server's; upstream-call.ts), and what
// comes back is handed to the recorder (recorder.ts), which streams it to the client or
// takes it whole, and writes it once complete.
import type { IncomingHttpHeaders } from 'node:http';
import { finished, pipeline, type Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { Agent, type Dispatcher } from 'undici';
import { CONTROL_HEADERS } from '../request/control-headers.js';
import { Recorder, type Exchange, type ForwardOutcome, type Persist } from './recorder.js';
import { UpstreamCall, type CallHead, type UpstreamBody } from './upstream-call.js';
import { decodersFor } from './content-coding.js';
import { hasNoBody } from '../wire/bodiless.js';

export type { Exchange, ForwardOutcome, Persist } from './recorder.js';

/** Headers of one hop (RFC 9110 7.6.1), and those the proxy frames itself. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length', 'http2-settings'];

const NAMES_NONE: readonly string[] = [];

/** The headers `drop` names are left out, with those of one hop and those the Connection header names. */
function withoutHopHeaders(headers: IncomingHttpHeaders, drop: ReadonlySet<string>): IncomingHttpHeaders {
  const connection = headers['connection'];
  // The usual values name no header to drop but their own (every request and answer has one).
  const named = !connection || connection === 'keep-alive' || connection === 'close' ? NAMES_NONE : String(connection).toLowerCase().split(',').map((name) => name.trim());
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !drop.has(name) && !named.includes(name)) out[name] = value;
  }
  return out;
}

/** `expect`: Node already answered "100 Continue" and read the body (undici refuses the header). */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, ...CONTROL_HEADERS, 'expect']);
/** The body may be re-framed: fastify frames what is actually sent. */
const NOT_ANSWERED = new Set(HOP_BY_HOP);
/** A body decompressed here is sent without its coding. */
const NOT_ANSWERED_DECODED = new Set([...HOP_BY_HOP, 'content-encoding']);
/** A HEAD answer's length is the length of what a GET would get, not the framing of a body sent: passed on (fastify keeps a HEAD reply's own). */
const NOT_ANSWERED_HEAD = new Set(HOP_BY_HOP.filter((name) => name !== 'content-length'));

/** What the upstream is sent: the client's headers less the proxy's own and the hop's. */
function forwardedHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out = withoutHopHeaders(headers, NOT_FORWARDED);
  // The proxy has to read what it records; compressed answers would have to be undone anyway.
  out['accept-encoding'] = 'identity';
  return out;
}

/**
 * Forwards the request. With a key and `persist`, a complete answer is recorded
 * before the client's response ends, so a recording exists once the client has its answer.
 */
export async function forward(reply: FastifyReply, exchange: Exchange, persist?: Persist): Promise<ForwardOutcome> {
  const { client, upstreamUrl } = exchange;
  const recorder = new Recorder(exchange, persist);
  const call = new UpstreamCall(exchange.signal);
  exchange.dispatcher.dispatch(
    {
      origin: upstreamUrl.origin,
      path: `${upstreamUrl.pathname}${upstreamUrl.search}`,
      method: client.method as Dispatcher.HttpMethod,
      headers: forwardedHeaders(client.headers),
      body: client.body.kind === 'none' ? null : (exchange.upstreamBody ?? client.body.bytes),
    },
    call,
  );
  let head: CallHead;
  try {
    head = await call.head;
  } catch (error) {
    // Nobody is left to answer.
    if (exchange.signal?.aborted) return { kind: 'not-recorded', reason: 'the client hung up before the upstream answered: the upstream call was ended' };
    // The agent is destroyed only when the server closes, which waits for no exchange whose client has gone.
    if ((error as { code?: string }).code === 'UND_ERR_DESTROYED') return { kind: 'not-recorded', reason: 'llm-replay was shutting down, its client already gone, before the upstream answered: the upstream call was ended' };
    return (error as Error).name === 'InvalidArgumentError' ? recorder.refused(error as Error) : recorder.upstreamFailed(error as Error);
  }
  const { status, headers } = head;
  // An answer with no body (to HEAD, a 204, a 304) has nothing to undo: its coding names what a body would have been.
  const bodiless = hasNoBody(client.method, status);
  // A coding llm-replay cannot undo stays on the answer, which is passed on as it came (the failure policy does not write it).
  const decoders = bodiless ? [] : decodersFor(headers);
  reply.code(status).headers(withoutHopHeaders(headers, client.method === 'HEAD' ? NOT_ANSWERED_HEAD : decoders && decoders.length > 0 ? NOT_ANSWERED_DECODED : NOT_ANSWERED));
  return recorder.headersReceived(reply, { status, headers, bodiless }, decoders ? decoded(call, decoders) : call);
}

/** The body as the client is to get it: undone when the upstream compressed it. */
function decoded(call: UpstreamCall, decoders: ReadonlyArray<() => NodeJS.ReadWriteStream>): UpstreamBody {
  if (decoders.length === 0) return call;
  // pipeline, not pipe: a client hanging up destroys what it was given, and that must reach the upstream's body, or its socket waits out the body timeout.
  const stream = () => (pipeline as (...streams: unknown[]) => Readable)(call.stream(), ...decoders.map((decoder) => decoder()), () => {});
  return { stream, whole: () => collect(stream()) };
}

/** The whole of a stream; rejects when it breaks off. Events, not an async iterator: one promise per body instead of one per chunk. */
function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (part: Buffer) => parts.push(part));
    finished(stream, (error) => (error ? reject(error) : resolve(Buffer.concat(parts))));
  });
}

/** The agent every forwarded request goes through: TLS verified, never retried, silent past `timeoutMs` is a timeout. */
export function upstreamAgent(timeoutMs: number): Agent {
  return new Agent({ connect: { rejectUnauthorized: true }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
}
