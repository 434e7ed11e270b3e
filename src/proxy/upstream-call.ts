// One call to the upstream, through undici's dispatch: its head, then its body either
// taken whole (collected as it arrives) or as a stream for the client. undici's request()
// would make every body a stream with its events and its async scope, which the whole
// answers record mode writes (most of them) only collect again: some 5 µs an exchange here.
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
  /** What arrived before the body was taken. */
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
    if (taker.whole) taker.resolve(Buffer.concat(this.parts));
    else taker.stream.push(null);
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
    else if (!taker.stream.destroyed) taker.stream.destroy(error);
  }

  whole(): Promise<Buffer> {
    if (this.taker) throw new Error('the upstream body was already taken');
    return new Promise((resolve, reject) => {
      this.taker = { whole: true, resolve, reject };
      if (this.failure) reject(this.failure);
      else if (this.ended) resolve(Buffer.concat(this.parts));
    });
  }

  stream(): Readable {
    if (this.taker) throw new Error('the upstream body was already taken');
    const stream = new BodyStream(this);
    this.taker = { whole: false, stream };
    for (const part of this.parts) stream.push(part);
    this.parts = [];
    if (this.failure) stream.destroy(this.failure);
    else if (this.ended) stream.push(null);
    return stream;
  }

  /** @internal The stream asks for more. */
  resume(): void {
    this.controller?.resume();
  }

  /** Ends the call, unless its body has all arrived: nothing more is wanted of it. */
  abort(reason?: Error): void {
    if (this.ended || this.failure) return;
    const why = reason ?? (this.signal?.reason instanceof Error ? this.signal.reason : new errors.RequestAbortedError());
    const taker = this.taker;
    if (taker && !taker.whole && !taker.stream.destroyed) taker.stream.destroy(why);
    else this.controller?.abort(why);
  }
}

/** The body as a stream: reading asks the socket for more; destroying it before its end ends the call. */
class BodyStream extends Readable {
  constructor(private readonly call: UpstreamCall) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _read(): void {
    this.call.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Every stream is destroyed once read to its end: an error (and its stack trace) is made only for a call still going.
    this.call.abort(error ?? undefined);
    callback(error);
  }
}
