// Server-sent events, parsed as the WHATWG spec reads them and written back the
// way the upstream framed them (line endings, comments, event names, ids).

export interface SseEvent {
  /** Comment lines (after the ':'), e.g. " ping" keep-alives. */
  comments: string[];
  event?: string;
  id?: string;
  retry?: number;
  /** The data lines joined with '\n'; undefined when the event had no data field. */
  data?: string;
  /** The order the fields came in, when it was not comments, event, id, retry, data. */
  order?: SseField[];
}

export type SseField = 'comment' | 'event' | 'id' | 'retry' | 'data';
const CANONICAL_ORDER: SseField[] = ['comment', 'event', 'id', 'retry', 'data'];

export type LineEnding = '\n' | '\r\n' | '\r';

/**
 * Splits a byte stream into complete events. Each event comes with the exact bytes
 * it arrived as, so a recording proxy can forward them untouched, event by event.
 */
export class SseSplitter {
  private buffer = '';
  private readonly decoder = new TextDecoder('utf-8');
  /** The line ending of the first line seen. */
  lineEnding: LineEnding | undefined;

  /** Feeds bytes; returns the events completed by them. */
  push(chunk: Uint8Array): Array<{ raw: string; event: SseEvent }> {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    return this.drain(false);
  }

  /** Ends the stream; returns a trailing event that had no closing blank line. */
  end(): Array<{ raw: string; event: SseEvent }> {
    this.buffer += this.decoder.decode();
    return this.drain(true);
  }

  /** True when bytes of an unfinished event are still held. */
  get pending(): boolean {
    return this.buffer.length > 0;
  }

  private drain(final: boolean): Array<{ raw: string; event: SseEvent }> {
    const out: Array<{ raw: string; event: SseEvent }> = [];
    let start = 0;
    let lineStart = 0;
    let i = 0;
    const text = this.buffer;
    while (i < text.length) {
      const ch = text.charCodeAt(i);
      if (ch !== 10 && ch !== 13) {
        i++;
        continue;
      }
      // A CR at the very end may be the first half of a CRLF still in flight.
      if (ch === 13 && i + 1 === text.length && !final) break;
      const terminatorLength = ch === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      this.lineEnding ??= terminatorLength === 2 ? '\r\n' : ch === 13 ? '\r' : '\n';
      const blank = i === lineStart;
      i += terminatorLength;
      lineStart = i;
      if (blank) {
        const raw = text.slice(start, i);
        const event = parseEventBlock(raw);
        if (event) out.push({ raw, event });
        start = i;
      }
    }
    this.buffer = text.slice(start);
    if (final && this.buffer.trim() !== '') {
      const raw = this.buffer;
      const event = parseEventBlock(raw);
      if (event) out.push({ raw, event });
      this.buffer = '';
    }
    return out;
  }
}

function parseEventBlock(block: string): SseEvent | undefined {
  const event: SseEvent = { comments: [] };
  const dataLines: string[] = [];
  const order: SseField[] = [];
  const saw = (field: SseField) => {
    if (!order.includes(field)) order.push(field);
  };
  let any = false;
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line === '') continue;
    any = true;
    if (line.startsWith(':')) {
      event.comments.push(line.slice(1));
      saw('comment');
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') dataLines.push(value);
    else if (field === 'event') event.event = value;
    else if (field === 'id') event.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) event.retry = Number(value);
    else continue;
    saw(field as SseField);
  }
  if (!any) return undefined;
  if (dataLines.length > 0) event.data = dataLines.join('\n');
  const canonical = CANONICAL_ORDER.filter((field) => order.includes(field));
  if (order.some((field, i) => field !== canonical[i])) event.order = order;
  return event;
}

/** Writes one event (comments, event, id, retry, data lines unless it came in another order), then the blank line. */
export function formatSseEvent(event: SseEvent, eol: LineEnding = '\n'): string {
  let out = '';
  for (const field of event.order ?? CANONICAL_ORDER) {
    if (field === 'comment') for (const comment of event.comments) out += `:${comment}${eol}`;
    else if (field === 'event' && event.event !== undefined) out += `event: ${event.event}${eol}`;
    else if (field === 'id' && event.id !== undefined) out += `id: ${event.id}${eol}`;
    else if (field === 'retry' && event.retry !== undefined) out += `retry: ${event.retry}${eol}`;
    else if (field === 'data' && event.data !== undefined) for (const line of event.data.split('\n')) out += `data: ${line}${eol}`;
  }
  return out + eol;
}
