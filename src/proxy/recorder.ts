// One forwarded exchange as a small state machine. The upstream fails, or its head
// arrives; then either a stream (each event passed on by StreamCapture the moment it
// is complete, then ended or broken) or a whole body. A complete answer is written
// before the client's response ends. Each step is one method returning the outcome,
// which forward() awaits.
import { finished, type Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { Dispatcher } from 'undici';
import type { RequestKey } from '../keys/index.js';
import type { Recording } from '../recordings/recording.js';
import type { ClientRequest } from '../request/client-request.js';
import { AnswerError, RecordingFileError } from '../errors.js';
import { onHangUp } from '../wire/hang-up.js';
import { payloadFor } from '../wire/bodiless.js';
import { requestSecrets, scrubBytes } from '../secrets/redact.js';
import { recordingOf, streamedResponse, wholeResponse, contentTypeOf, type UpstreamHead } from './build-recording.js';
import { StreamCapture, streamFormatOf, type CapturedStream, type StreamFormat } from './capture.js';
import type { IdSession } from './ids.js';
import { keptHeaders, notWritten, streamNotWritten, type FailedAnswer, type FailurePolicy, type NotWritten } from './failure-policy.js';
import type { UpstreamBody } from './upstream-call.js';

export interface Exchange extends FailurePolicy {
  client: ClientRequest;
  /** The server's undici agent for the upstream. */
  dispatcher: Dispatcher;
  /** Absent in live mode, where nothing is keyed or written. */
  key?: RequestKey;
  /** Shared by the requests to the same URL: read, never changed. */
  upstreamUrl: Readonly<URL>;
  /** The body to send upstream when it differs from the client's (real ids swapped in). */
  upstreamBody?: Buffer;
  /** Rewrites the upstream's ids into deterministic ones (stateful-id mode). */
  ids?: IdSession;
  /** Keep when each stream event arrived. */
  recordTiming?: boolean;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** Aborts the upstream call (live mode: the client hung up, and nothing is recorded that it could still be for). */
  signal?: AbortSignal;
  /** Passes an unrecorded answer on itself (its status and headers are set on the reply) instead of sending it as it came: fault injection. */
  deliver?: (body: Readable, contentType: string | undefined) => void;
}

export type ForwardOutcome =
  /** `status`: the answer's, written with it (an error the failure policy writes is told apart in the log); `failure`: the error a written stream ends in. */
  | { kind: 'recorded'; status: number; failure?: string }
  /**
   * `cut`: a stream's client connection is ended with an error, never as if the answer were complete.
   * `answer`: the whole answer the client got, for requests that waited on this one (none when its bytes could not be read).
   * `error`: llm-replay's own error for the client, not yet sent: the server sends it in the caller's dialect.
   * `unwritable`: the recordings directory refused the file.
   */
  | { kind: 'not-recorded'; reason: string; cut?: boolean; answer?: FailedAnswer; cause?: NotWritten['cause']; what?: string; error?: AnswerError; unwritable?: true }
  | { kind: 'passed-through' };

/** Writes a recording with `secrets` (the request's credentials) scrubbed from it; rejects with a message when it cannot. */
export type Persist = (recording: Recording, secrets: readonly string[]) => Promise<void>;

export class Recorder {
  constructor(
    private readonly exchange: Exchange,
    /** Absent in live mode. */
    private readonly persist?: Persist,
  ) {}

  /** The request cannot be sent as it is (undici refuses its method, path or a header). */
  refused(error: Error): ForwardOutcome {
    const message = `cannot forward ${this.exchange.client.method} ${this.exchange.upstreamUrl.pathname}: ${error.message}`;
    return { kind: 'not-recorded', reason: `llm-replay: ${message}`, error: new AnswerError('llm_replay_bad_url', message) };
  }

  /** No answer: the upstream could not be reached, or stayed silent too long. */
  upstreamFailed(error: Error & { code?: string }): ForwardOutcome {
    // Silent past --upstream-timeout (or never connected) is a gateway timeout; anything else the upstream did wrong is a bad gateway.
    const status = error.code === 'UND_ERR_HEADERS_TIMEOUT' || error.code === 'UND_ERR_CONNECT_TIMEOUT' ? 504 : 502;
    const cause = (error.cause as Error | undefined)?.message;
    // undici's words for a silent upstream ("Headers Timeout Error") do not name the setting that decides it.
    const what = error.code === 'UND_ERR_HEADERS_TIMEOUT' ? 'sent no answer within --upstream-timeout' : 'failed';
    const message = `the upstream ${this.exchange.upstreamUrl.origin} ${what}: ${error.message}${cause && cause !== error.message ? ` (${cause})` : ''}`;
    return { kind: 'not-recorded', reason: error.message, error: new AnswerError('llm_replay_upstream_error', message, null, { status }) };
  }

  /** The upstream's head arrived: pass the body through, capture a stream, or take a whole body. */
  headersReceived(reply: FastifyReply, head: UpstreamHead, body: UpstreamBody): ForwardOutcome | Promise<ForwardOutcome> {
    const { key } = this.exchange;
    if (!key || !this.persist) {
      if (this.exchange.deliver) this.exchange.deliver(body.stream(), contentTypeOf(head.headers));
      else reply.send(body.stream());
      return { kind: 'passed-through' };
    }
    // No body (HEAD, 204, 304): no stream either, whatever its content type says of the GET.
    const format = head.bodiless ? undefined : streamFormatOf(contentTypeOf(head.headers));
    const passed = notWritten(head, this.exchange, this.exchange.client.path);
    if (passed) return this.passedNotWritten(reply, head, body, format, passed);
    if (format) return this.streamed(reply, key, head, body.stream(), format);
    return body.whole().then(
      (bytes) => this.bodyReceived(reply, key, head, bytes),
      (error: Error) => this.bodyBroken(reply, error),
    );
  }

  /** An answer the failure policy does not write: passed to the client as it came. */
  private passedNotWritten(reply: FastifyReply, head: UpstreamHead, body: UpstreamBody, format: StreamFormat | undefined, { cause, reason }: NotWritten): ForwardOutcome | Promise<ForwardOutcome> {
    if (format) {
      reply.send(body.stream());
      return { kind: 'not-recorded', reason, cause };
    }
    return body.whole().then(
      (bytes) => {
        reply.send(payloadFor(head.status, bytes));
        // Bytes in a coding llm-replay cannot undo cannot be scrubbed of this request's credentials: not
        // offered to the requests that waited on it (other runs, other keys), which ask on their own.
        if (cause === 'unreadable-coding') return { kind: 'not-recorded', reason, cause };
        const headers = keptHeaders(head.headers, head.status, this.exchange.client.method);
        // Those requests never get this request's credentials echoed back.
        const { client } = this.exchange;
        return { kind: 'not-recorded', reason, cause, answer: { status: head.status, headers, body: scrubBytes(bytes, requestSecrets(client.headers, client.query)) } };
      },
      (error: Error) => this.bodyBroken(reply, error),
    );
  }

  private async streamed(reply: FastifyReply, key: RequestKey, head: UpstreamHead, body: Readable, format: StreamFormat): Promise<ForwardOutcome> {
    // Written once: at the API's closing event, else when the upstream ends, or when the stream breaks after its final event.
    let written: Promise<ForwardOutcome> | undefined;
    const write = (captured: CapturedStream) => (written ??= this.streamEnded(key, head, captured));
    const headMs = Math.round(performance.now() - this.exchange.startedAt);
    const onEnd = async (captured: CapturedStream) => {
      const ended = await write(captured);
      if (ended.kind === 'not-recorded' && ended.cut) throw new Error(ended.reason);
    };
    const capture = new StreamCapture(format, this.exchange.startedAt, headMs, onEnd, this.exchange.ids, this.exchange.recordTiming ?? true);
    // Whichever side failed first cut the stream: each failure takes the other side down after it.
    let cutBy: 'client' | 'upstream' | undefined;
    let upstreamError: Error | undefined;
    body.once('error', (error: Error) => {
      cutBy ??= 'upstream';
      upstreamError = error;
    });
    onHangUp(reply.raw, () => (cutBy ??= 'client'));
    reply.send(capture);
    return through(body, capture).then(
      () => {
        // Past the closing event the client had a clean end: an upstream that keeps breaking its connections is still seen in the log.
        if (upstreamError) reply.log.info({ endpoint: this.exchange.client.path }, `llm-replay: the upstream ${this.exchange.upstreamUrl.origin} broke the stream off after its closing event (${upstreamError.message}); the answer was whole and is recorded`);
        return written!;
      },
      // The client hung up (or the upstream broke off) after the final event: the stream is complete all the same.
      (error: Error) => written ?? (capture.finalEventSeen ? write(capture.snapshot()) : this.streamBroken(cutBy ?? 'upstream', error)),
    );
  }

  /** The upstream ended its stream: write it, unless it ended without its API's closing event (then it is cut, and not written). */
  private async streamEnded(key: RequestKey, head: UpstreamHead, captured: CapturedStream): Promise<ForwardOutcome> {
    // Cut, so the client sees a broken stream as its SDK would from the API, never a clean end.
    if (captured.incomplete) return { kind: 'not-recorded', reason: captured.incomplete, cut: true };
    // Ended in an error of the moment (an overloaded_error): the client had it as the API sent it; a recording would replay it for ever.
    const failed = captured.error && streamNotWritten(captured.error, this.exchange, this.exchange.client.path);
    if (failed) return { kind: 'not-recorded', ...failed };
    const outcome = await this.written(recordingOf(this.exchange.client, key, this.exchange.upstreamUrl, { head, response: streamedResponse(key, head, captured, this.exchange.ids), recordTiming: this.exchange.recordTiming ?? true }), head.status);
    // A recording that cannot be written ends the client's stream with an error, not as if complete.
    if (outcome.kind === 'not-recorded') return { ...outcome, cut: true };
    // Written though it ends in an error (one naming the request, or kept by --record-retryable): the log says so.
    return captured.error && outcome.kind === 'recorded' ? { ...outcome, failure: captured.error.name } : outcome;
  }

  /** The client hung up, or the upstream broke the stream off, before its final event: nothing is written. The reason says which. */
  private streamBroken(cutBy: 'client' | 'upstream', error: Error): ForwardOutcome {
    const reason = cutBy === 'client'
      ? `the client hung up before the stream's final event (${error.message}); a test that stops reading a stream before its end leaves it unrecorded`
      : `the upstream ${this.exchange.upstreamUrl.origin} broke the stream off before its final event (${error.message})`;
    return { kind: 'not-recorded', reason };
  }

  /** A whole body arrived: the client gets it once it is written, or a 500 saying it could not be. */
  private async bodyReceived(reply: FastifyReply, key: RequestKey, head: UpstreamHead, upstreamBytes: Buffer): Promise<ForwardOutcome> {
    const { bytes, response, plainNumbers } = wholeResponse(key, head, upstreamBytes, this.exchange.ids);
    const outcome = await this.written(recordingOf(this.exchange.client, key, this.exchange.upstreamUrl, { head, response, recordTiming: this.exchange.recordTiming ?? true, plainNumbers }), head.status);
    if (outcome.kind === 'not-recorded') {
      // Recording is the point of record mode: say it failed rather than answer as if all were well; and when the directory refused the file, that asking again (a paid call) would not help.
      withoutUpstreamHead(reply);
      return { ...outcome, error: new AnswerError('llm_replay_write_failed', `the answer could not be recorded: ${outcome.reason}`, null, { final: outcome.unwritable === true }) };
    }
    // Its new ids are on disk before the client has them (see journaled: the turn-end write may come after this).
    this.exchange.ids?.journaled();
    reply.send(payloadFor(head.status, bytes));
    return outcome;
  }

  private bodyBroken(reply: FastifyReply, error: Error & { code?: string }): ForwardOutcome {
    withoutUpstreamHead(reply);
    // Silent past --upstream-timeout in the middle of its answer is a gateway timeout, as before its head.
    const silent = error.code === 'UND_ERR_BODY_TIMEOUT';
    const message = silent ? `the upstream ${this.exchange.upstreamUrl.origin} went silent in the middle of its answer for longer than --upstream-timeout: ${error.message}` : `the upstream ${this.exchange.upstreamUrl.origin} broke off its answer: ${error.message}`;
    return { kind: 'not-recorded', reason: error.message, error: new AnswerError('llm_replay_upstream_error', message, null, { status: silent ? 504 : 502 }) };
  }

  /** Hands the recording to be written with the request's own credentials (the save scrubs them from all of it): recorded, or not with the write's error. */
  private async written(recording: Recording, status: number): Promise<ForwardOutcome> {
    const { client } = this.exchange;
    try {
      await this.persist!(recording, requestSecrets(client.headers, client.query));
      return { kind: 'recorded', status };
    } catch (error) {
      // The directory refused the file: asking again would not do better. Anything else (a sequence's order) may.
      return { kind: 'not-recorded', reason: (error as Error).message, ...(error instanceof RecordingFileError ? { unwritable: true as const } : {}) };
    }
  }
}

/**
 * The upstream's body through the capture, settled once the capture has taken all of it.
 * Past the API's closing event the answer is whole: an upstream that breaks off then only
 * ends the capture, which still passes the closing event on once it is written (pipeline
 * would destroy it, and the event with it). Before it, the break cuts the capture; and
 * a capture destroyed by its client's hang-up ends the upstream's body, whose socket
 * would otherwise wait out the body timeout.
 */
function through(body: Readable, capture: StreamCapture): Promise<void> {
  body.on('error', (error) => (capture.whole ? capture.end() : capture.destroy(error)));
  capture.once('close', () => body.destroy());
  body.pipe(capture);
  return new Promise((resolve, reject) => finished(capture, { readable: false }, (error) => (error ? reject(error) : resolve())));
}

/**
 * The reply without the upstream's head, for an error of our own after it was set: not
 * its headers (its content type could be audio or HTML, which a JSON body cannot be sent
 * under; its cookies and request id are not this answer's).
 */
function withoutUpstreamHead(reply: FastifyReply): FastifyReply {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
  return reply;
}
