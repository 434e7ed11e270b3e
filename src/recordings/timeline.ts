// A recorded stream's wire events over time: when each arrived (the recorded timing,
// when there is one), what kind of event it was, and the text it carried.
import type { JsonValue } from '../json/lossless.js';
import { toPlainJson } from '../json/lossless.js';
import { assembleStream } from './assemble.js';
import type { Timeline, TimelineEvent } from './conversation.js';
import { unwrapTyped, type StreamEventMeta, type StreamFraming } from './recording.js';

function labelOf(chunk: unknown, event: string | undefined): string {
  if (event) return event;
  const plain = toPlainJson(unwrapTyped(chunk as JsonValue)) as Record<string, unknown> | null;
  if (plain && typeof plain === 'object' && typeof plain['type'] === 'string') return plain['type'];
  if (plain && typeof plain === 'object' && plain['done'] === true) return 'done';
  return typeof plain === 'string' ? 'text' : 'chunk';
}

/** The events of a stream recording, in order, with the recorded offsets when there are some. */
export function streamTimeline(chunks: JsonValue[], framing: StreamFraming | undefined): Timeline {
  const offsets = framing?.timing?.offsets_ms ?? [];
  const events: TimelineEvent[] = [];
  let chunk = 0;
  const wire: StreamEventMeta[] = framing?.events ?? chunks.map(() => ({}));
  for (const meta of wire) {
    const at = offsets[events.length];
    if (meta.data === false) {
      events.push({ ...(at !== undefined ? { ms: at } : {}), label: meta.event ?? (meta.comments ? `: ${meta.comments.join(' ').trim()}` : 'empty'), text: '' });
      continue;
    }
    const body = chunks[chunk++];
    if (body === undefined) break;
    const { text, toolCalls } = assembleStream([body]);
    events.push({ ...(at !== undefined ? { ms: at } : {}), label: labelOf(body, meta.event), text: text || toolCalls.map((call) => call.arguments || call.name || '').join('') });
  }
  if (framing?.done) {
    const at = offsets[events.length];
    events.push({ ...(at !== undefined ? { ms: at } : {}), label: '[DONE]', text: '' });
  }
  return { ...(framing?.timing ? { headMs: framing.timing.head_ms } : {}), events };
}
