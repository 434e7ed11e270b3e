// One call to the upstream, through undici's dispatch: its head, then its body either
// taken whole (collected as it arrives) or as a stream for the client. undici's request()
// would make every body a stream with its events and its async scope, which the whole
// answers record mode writes (most of them) only collect again.
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { errors, type Dispatcher } from 'undici';

export interface CallHead {
  status: number;
  headers: IncomingHttpHeaders;
}

/** An upstream body, taken once: whole, or as a stream. */
export interface UpstreamBody {
  /** The whole body; rejects when it breaks off. */
  whole(): Promise<Buffer>;
  /** The body as it arrives; destroying it ends the upstream call. */
  stream(): Readable;
}

type Taker = { whole: true; resolve: (bytes: Buffer) => void; reject: (error: Error) => void } | { whole: false; stream: BodyStream };

export class UpstreamCall implements Dispatcher.DispatchHandler, UpstreamBody {
  /** Resolves with the status and headers; rejects when the call fails before them. */
  readonly head: Promise<CallHead>;
  private headSettled = false;
  private settleHead!: { resolve: (head: CallHead) => void; reject: (error: Error) => void };
  private controller: Dispatcher.DispatchController | undefined;
  /** The body's chunks so far: all of it for a whole taker, what came before it was taken for a stream. */
  private parts: Buffer[] = [];
  private ended = false;
  private failure: Error | undefined;
  private taker: Taker | undefined;

  constructor(private readonly signal?: AbortSignal) {
    this.head = new Promise((resolve, reject) => (this.settleHead = { resolve, reject }));
    // The client hung up (live mode): the upstream call ends, or its body stream is destroyed.
    signal?.addEventListener('abort', () => this.abort(), { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal?.aborted) this.abort();
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    // 1xx answers are informational: the real head follows.
    if (status < 200 || this.headSettled) return;
    this.headSettled = true;
    this.settleHead.resolve({ status, headers });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const taker = this.taker;
    if (taker && !taker.whole) {
      // The client reads slower than the upstream sends: the socket waits until it asks for more.
      if (!taker.stream.push(chunk)) controller.pause();
    } else this.parts.push(chunk);
  }

  onResponseEnd(): void {
    this.ended = true;
    const taker = this.taker;
    if (!taker) return;
    if (taker.whole) taker.resolve(this.joined());
    else taker.stream.push(null);
  }

  /** The whole body, its chunks let go. */
  private joined(): Buffer {
    const { parts } = this;
    this.parts = [];
    // One chunk (most answers of a few KB) is the body already: no copy.
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.failure = error;
    if (!this.headSettled) {
      this.headSettled = true;
      this.settleHead.reject(error);
      return;
    }
    const taker = this.taker;
    if (!taker) return;
    if (taker.whole) taker.reject(error);
    else destroyed(taker.stream, error);
  }

  whole(): Promise<Buffer> {
    if (this.taker) throw new Error('the upstream body was already taken');
    return new Promise((resolve, reject) => {
      this.taker = { whole: true, resolve, reject };
      if (this.failure) reject(this.failure);
      else if (this.ended) resolve(this.joined());
    });
  }

  stream(): Readable {
    if (this.taker) throw new Error('the upstream body was already taken');
    const stream = new BodyStream(this);
    this.taker = { whole: false, stream };
    for (const part of this.parts) stream.push(part);
    this.parts = [];
    if (this.failure) destroyed(stream, this.failure);
    else if (this.ended) stream.push(null);
    return stream;
  }

  /** The body stream asks for more: the socket is read again. */
  readMore(): void {
    this.controller?.resume();
  }

  /** Ends the call, unless its body has all arrived: nothing more is wanted of it. */
  abort(reason?: Error): void {
    if (this.ended || this.failure) return;
    const why = reason ?? (this.signal?.reason instanceof Error ? this.signal.reason : new errors.RequestAbortedError());
    const taker = this.taker;
    // A stream still open is destroyed, and its _destroy comes back here to end the call.
    if (taker && !taker.whole && !taker.stream.destroyed) destroyed(taker.stream, why);
    else this.controller?.abort(why);
  }
}

/** The body as a stream: reading asks the socket for more; destroying it before its end ends the call. */
class BodyStream extends Readable {
  constructor(private readonly call: UpstreamCall) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _read(): void {
    this.call.readMore();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Every stream is destroyed once read to its end: an error (and its stack trace) is made only for a call still going.
    this.call.abort(error ?? undefined);
    callback(error);
  }
}

/**
 * Destroys a body stream with an error of the call's own. It is given a listener that does
 * nothing first, as undici gives its own bodies: an error no one listens for yet (the
 * stream not yet handed on) must not bring the server down.
 */
function destroyed(stream: BodyStream, error: Error): void {
  if (stream.destroyed) return;
  stream.on('error', () => {});
  stream.destroy(error);
}
