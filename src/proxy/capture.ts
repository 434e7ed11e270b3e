// Record mode's view of an upstream stream: every event is passed to the client
// the moment it is complete (never held back for the whole stream) and kept, with
// its framing and timing, for the recording; the API's closing event only once the
// recording is written. A stream that breaks off, or ends without the closing event
// its API always sends, is reported as incomplete.
import { Transform, type TransformCallback } from 'node:stream';
import { isJsonObject, parseKeepingNumbers, type JsonValue } from '../json/lossless.js';
import type { StreamEventMeta, StreamFraming } from '../recordings/recording.js';
import type { IdReplacement, IdSession } from './ids.js';
import { NdjsonSplitter } from '../wire/ndjson.js';
import { SseSplitter, type SseEvent } from '../wire/sse.js';
import { endingErrorOf, type StreamError } from '../recordings/stream-errors.js';
import { errorInFraming, framingOf, isClosingEvent, isFinalEvent, missingTerminator, type Framing, type StreamFormat } from '../recordings/stream-framing.js';

export { streamFormatOf, type StreamFormat } from '../recordings/stream-framing.js';

export interface CapturedStream {
  chunks: JsonValue[];
  framing: StreamFraming;
  /** Why the stream cannot be recorded as complete, if it cannot. */
  incomplete?: string;
  /** The error the stream ended with, if it ended in one (its status, when llm-replay knows the name). */
  error?: StreamError;
}

function parseJson(text: string): JsonValue | undefined {
  try {
    return parseKeepingNumbers(text);
  } catch {
    return undefined;
  }
}

export class StreamCapture extends Transform {
  private readonly sse = new SseSplitter();
  private readonly ndjson = new NdjsonSplitter();
  private readonly chunks: JsonValue[] = [];
  private readonly metas: StreamEventMeta[] = [];
  private readonly offsets: number[] = [];
  private plainEvents = true;
  private sawDone = false;
  private sawFinal = false;
  private result: CapturedStream | undefined;
  /**
   * The closing event and what followed it in its chunk, once it has arrived: held back
   * until the stream is written, so that a client that stops at the closing event (the
   * Python SDKs) has a recording on disk, or sees the stream break, when it stops.
   */
  private held: string[] | undefined;
  /** Whether the stream's first JSON object has come, and which API's framing it shows. */
  private framed = false;
  private framing: Framing;

  constructor(
    private readonly format: StreamFormat,
    private readonly startedAt: number,
    private readonly headMs: number,
    /**
     * Called once, at the API's closing event (before it is passed on) or else once the
     * upstream has ended (before the client's response ends): the recording is on disk
     * by the time the client has seen the whole stream.
     */
    private readonly onEnd: (captured: CapturedStream) => Promise<void>,
    /** Rewrites the ids of each event before it reaches the client and the recording. */
    private readonly ids?: IdSession,
    /** Whether to keep when each event arrived. */
    private readonly keepTiming = true,
  ) {
    super();
  }

  /** Whether the stream is whole: its API's closing event has arrived (what follows is passed on, unrecorded), or its end has been captured. */
  get whole(): boolean {
    return this.held !== undefined || this.result !== undefined;
  }

  /** Whether the API's final event has passed: what follows it cannot make the stream incomplete. */
  get finalEventSeen(): boolean {
    return this.sawFinal;
  }

  /** What has been captured so far, as a stream that ended here (`unterminated`: inside an event or line). */
  snapshot(unterminated = false): CapturedStream {
    const framing: StreamFraming = { format: this.format };
    if (this.format === 'sse') {
      if (this.sawDone) framing.done = true;
      if (this.sse.lineEnding && this.sse.lineEnding !== '\n') framing.line_ending = this.sse.lineEnding;
      if (!this.plainEvents) framing.events = this.metas;
    }
    if (this.keepTiming) framing.timing = { head_ms: this.headMs, offsets_ms: this.offsets };
    const captured: CapturedStream = { chunks: this.chunks, framing };
    // Read as replay reads the recording: the same chunks, the same rule.
    const error = endingErrorOf(this.chunks, this.format);
    if (error) captured.error = error;
    const missing = missingTerminator(this.framing, this.chunks[this.chunks.length - 1], this.sawDone, this.sawFinal);
    if (missing) captured.incomplete = `the stream ended early: ${missing}`;
    else if (unterminated && this.format === 'ndjson') captured.incomplete = 'the stream ended inside a line';
    return captured;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const closedBefore = this.whole;
    try {
      if (this.format === 'sse') for (const { raw, event } of this.sse.push(chunk)) this.sseEvent(raw, event);
      else for (const line of this.ndjson.push(chunk)) this.ndjsonLine(line);
    } catch (error) {
      callback(error as Error);
      return;
    }
    if (closedBefore || this.held === undefined) return callback();
    // The closing event came in this chunk: the stream is whole, written now; the upstream's next bytes wait.
    this.writeThenRelease(this.snapshot(), callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.result !== undefined) {
      // Written at its closing event: what trails it goes to the client as it came.
      if (this.format === 'sse') for (const { raw } of this.sse.end()) this.push(raw);
      else for (const line of this.ndjson.end()) this.push(line);
      return callback();
    }
    let unterminated = false;
    if (this.format === 'sse') {
      unterminated = this.sse.pending;
      for (const { raw, event } of this.sse.end()) this.sseEvent(raw, event);
    } else {
      const rest = this.ndjson.end();
      for (const line of rest) this.ndjsonLine(line);
      // A last line without its newline that closes the stream ("done": true) ended it all the same.
      unterminated = rest.length > 0 && this.held === undefined;
    }
    this.writeThenRelease(this.snapshot(unterminated), callback);
  }

  /**
   * Writes the stream, then passes on the closing event and what followed it; a
   * recording that cannot be written errors the stream instead (an error event its SDK
   * raises with, where its API has one, then the cut), so the client never sees it end
   * as if complete.
   */
  private writeThenRelease(captured: CapturedStream, callback: TransformCallback): void {
    this.result = captured;
    this.onEnd(captured).then(
      () => {
        for (const text of this.held ?? []) this.push(text);
        this.held = undefined;
        callback();
      },
      (error: Error) => {
        // A stream the upstream left incomplete is cut as it was; one of ours that could not be recorded says why.
        const event = captured.incomplete ? undefined : errorInFraming(this.framing, `llm-replay: the stream could not be recorded: ${error.message}`);
        if (event !== undefined) this.push(event);
        callback(error);
      },
    );
  }

  private elapsed(): number {
    return Math.round(performance.now() - this.startedAt);
  }

  /** The id replacements an event's JSON needs, if any; the ids it brings are journaled before it goes on. */
  private replacer(value: JsonValue | undefined): IdReplacement | undefined {
    if (!this.ids || value === undefined) return undefined;
    const replace = this.ids.replacer(value);
    this.ids.journaled();
    return replace;
  }

  /** The stream's framing, told by its first JSON object (`value`, when it is that first one). */
  private framingWith(value: JsonValue | undefined): Framing {
    if (!this.framed && isJsonObject(value)) {
      this.framed = true;
      this.framing = framingOf(value, this.format);
    }
    return this.framing;
  }

  /** Passes text on to the client, after the closing event if that is held back. */
  private pass(text: string): void {
    if (this.held) this.held.push(text);
    else this.push(text);
  }

  private sseEvent(raw: string, event: SseEvent): void {
    if (this.whole) return this.pass(raw);
    const data = event.data;
    const parsed = data === undefined || data === '[DONE]' ? undefined : parseJson(data);
    const replace = this.replacer(parsed);
    const text = replace ? replace.inText(raw) : raw;
    const framing = this.framingWith(parsed);
    const closing = data === '[DONE]' || isClosingEvent(parsed, framing);
    if (closing) this.held = [text];
    else this.push(text);
    this.offsets.push(this.elapsed());
    // What is kept of the data is its parsed value when it has one: replaced there, not parsed again.
    if (replace) replace.inValue(parsed!);
    if (data === '[DONE]') {
      this.sawDone = this.sawFinal = true;
      return;
    }
    if (closing || isFinalEvent(parsed, framing)) this.sawFinal = true;
    const meta: StreamEventMeta = {};
    if (event.comments.length > 0) meta.comments = event.comments;
    if (event.event !== undefined) meta.event = event.event;
    if (event.id !== undefined) meta.id = event.id;
    if (event.retry !== undefined) meta.retry = event.retry;
    if (event.order) meta.order = event.order;
    if (data === undefined) {
      meta.data = false;
    } else {
      if (parsed === undefined) meta.text = true;
      this.chunks.push(parsed ?? data);
    }
    if (Object.keys(meta).length > 0) this.plainEvents = false;
    this.metas.push(meta);
  }

  private ndjsonLine(line: string): void {
    if (this.whole) return this.pass(line);
    const value = line.trim() === '' ? undefined : parseJson(line);
    const replace = this.replacer(value);
    const text = replace ? replace.inJson(line) : line;
    if (replace) replace.inValue(value!);
    const framing = this.framingWith(value);
    const closing = isClosingEvent(value, framing);
    if (closing) this.held = [text];
    else this.push(text);
    if (line.trim() === '') return;
    this.chunks.push(value ?? text.replace(/\r?\n$/, ''));
    if (closing) this.sawFinal = true;
    this.offsets.push(this.elapsed());
  }
}
