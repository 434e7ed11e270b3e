// Applying a fault to an answer, whichever mode made it (a recording, or the
// upstream's stream passed through). The answer is written to the raw response
// event by event, so a fault can act between two events: wait, corrupt one, cut the
// connection after it, or fall silent without closing. A whole (non-stream) body
// counts as one event.
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { NdjsonSplitter } from '../wire/ndjson.js';
import { SseSplitter } from '../wire/sse.js';
import { withAnswerHeaders } from '../wire/answer-headers.js';
import type { Fault } from './spec.js';

type EventFormat = 'sse' | 'ndjson';

export interface AnswerToFault {
  status: number;
  headers: Record<string, string | number | string[]>;
  /** The answer's wire events in order (a whole body: one). */
  events: Iterable<Buffer> | AsyncIterable<Buffer>;
  format: EventFormat | undefined;
}

/** Waits; false when the signal ended the wait first. */
export async function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  if (ms <= 0) return !signal.aborted;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** A signal that ends when the server closes or the client goes away. */
export function answerSignal(raw: ServerResponse, closed: AbortSignal): AbortSignal {
  // Not AbortSignal.any: its signal is held weakly by its sources, and a stalled
  // answer that only waits on it could be collected and never hear the close.
  const ended = new AbortController();
  const end = () => ended.abort();
  closed.addEventListener('abort', end, { once: true });
  raw.once('close', () => {
    closed.removeEventListener('abort', end);
    end();
  });
  return ended.signal;
}

/** JSON text made invalid: cut in half, as a broken proxy or a torn write would leave it. */
function broken(text: string): string {
  const half = text.slice(0, Math.floor(text.length / 2));
  try {
    JSON.parse(half);
  } catch {
    return half;
  }
  // A half that still parses (a short number, ''): an object that never closes cannot.
  return `{${half}`;
}

function lineEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10 || ch === 13) return i;
  }
  return text.length;
}

/** The event with invalid JSON in its data: its `data:` line halved, or one added. */
export function corrupt(event: Buffer, format: EventFormat | undefined): Buffer {
  const text = event.toString('utf8');
  if (format === 'ndjson') {
    const end = lineEnd(text, 0);
    return Buffer.from(broken(text.slice(0, end)) + text.slice(end));
  }
  if (format !== 'sse') return Buffer.from(broken(text));
  const at = text.startsWith('data:') ? 0 : [text.indexOf('\ndata:'), text.indexOf('\rdata:')].filter((i) => i >= 0).map((i) => i + 1).sort((a, b) => a - b)[0];
  if (at === undefined) {
    const eol = text.includes('\r\n') ? '\r\n' : text.includes('\r') ? '\r' : '\n';
    return Buffer.from(`data: {"${eol}${text}`);
  }
  const valueStart = text.charCodeAt(at + 5) === 32 ? at + 6 : at + 5;
  const end = lineEnd(text, valueStart);
  return Buffer.from(text.slice(0, valueStart) + broken(text.slice(valueStart, end)) + text.slice(end));
}

/** An upstream byte stream as wire events (a body that is no stream: one event). */
export async function* eventsOf(source: AsyncIterable<Buffer>, format: EventFormat | undefined): AsyncGenerator<Buffer> {
  if (format === undefined) {
    const parts: Buffer[] = [];
    for await (const part of source) parts.push(part);
    yield Buffer.concat(parts);
    return;
  }
  if (format === 'sse') {
    const splitter = new SseSplitter();
    for await (const chunk of source) for (const { raw } of splitter.push(chunk)) yield Buffer.from(raw);
    for (const { raw } of splitter.end()) yield Buffer.from(raw);
    return;
  }
  const splitter = new NdjsonSplitter();
  for await (const chunk of source) for (const line of splitter.push(chunk)) yield Buffer.from(line);
  for (const line of splitter.end()) yield Buffer.from(line);
}

async function write(raw: ServerResponse, bytes: Buffer, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (raw.write(bytes)) return true;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      raw.off('drain', drained);
      signal.removeEventListener('abort', aborted);
      resolve(ok);
    };
    const drained = () => done(true);
    const aborted = () => done(false);
    raw.once('drain', drained);
    signal.addEventListener('abort', aborted, { once: true });
  });
}

/** Ends the connection mid-answer: what was written still reaches the client, then the socket closes. */
function cut(raw: ServerResponse): void {
  if (raw.socket) raw.socket.destroySoon();
  else raw.destroy();
}

/** Silence, with the connection open, until the client gives up or the server closes. */
async function stall(raw: ServerResponse, signal: AbortSignal): Promise<void> {
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  raw.destroy();
}

function headersOf(answer: AnswerToFault): Record<string, string | number | string[]> {
  const headers = withAnswerHeaders({ ...answer.headers });
  // The answer is sent in pieces (and may be cut): let Node frame it as chunks.
  delete headers['content-length'];
  delete headers['transfer-encoding'];
  return headers;
}

/**
 * Writes the answer with the fault's latency, event latency, corrupted event, cut or
 * stall. The caller has taken the response over from fastify (reply.hijack()).
 */
export async function writeFaulted(raw: ServerResponse, answer: AnswerToFault, fault: Fault, signal: AbortSignal): Promise<void> {
  try {
    raw.writeHead(answer.status, headersOf(answer));
    raw.flushHeaders();
    let sent = 0;
    for await (const event of answer.events) {
      if (fault.cutAfter !== undefined && sent >= fault.cutAfter) return cut(raw);
      if (fault.stallAfter !== undefined && sent >= fault.stallAfter) return await stall(raw, signal);
      if (sent > 0 && fault.eventLatencyMs && !(await delay(fault.eventLatencyMs, signal))) return void raw.destroy();
      sent++;
      if (!(await write(raw, sent === fault.malformedAt ? corrupt(event, answer.format) : event, signal))) return void raw.destroy();
    }
    if (fault.cutAfter !== undefined) return cut(raw);
    if (fault.stallAfter !== undefined) return await stall(raw, signal);
    raw.end();
  } catch {
    // The source broke off (an upstream that failed mid-stream): the client sees a cut too.
    raw.destroy();
  }
}
