// What each streaming API's framing says about a stream's end: which API a stream is
// (told by its first object), the event that closes it, the event after which nothing
// that matters follows, what it lacks when it ends early, and how an error is said in it.
import { isJsonObject, type JsonValue } from '../json/lossless.js';

export type StreamFormat = 'sse' | 'ndjson';

export function streamFormatOf(contentType: string | undefined): StreamFormat | undefined {
  if (contentType === undefined) return undefined;
  // Asked of every answer: the media type without an array made to find it.
  const semicolon = contentType.indexOf(';');
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (type === 'text/event-stream') return 'sse';
  if (type === 'application/x-ndjson' || type === 'application/jsonl') return 'ndjson';
  return undefined;
}

/**
 * The known streaming APIs whose streams end with an event of their own, told by a
 * stream's first object: OpenAI's chat and completions (`data: [DONE]`), Anthropic's
 * (`message_stop`), Responses (`response.completed` ...) and Ollama's (`"done": true`).
 * Others (Gemini, unknown APIs) end with the body.
 */
export type Framing = 'chat' | 'anthropic' | 'responses' | 'ollama' | undefined;

export function framingOf(first: JsonValue | undefined, format: StreamFormat): Framing {
  if (!isJsonObject(first)) return undefined;
  if (format === 'ndjson') return 'done' in first ? 'ollama' : undefined;
  const object = first['object'];
  if (object === 'chat.completion.chunk' || object === 'text_completion') return 'chat';
  const type = first['type'];
  if (type === 'message_start') return 'anthropic';
  return typeof type === 'string' && type.startsWith('response.') ? 'responses' : undefined;
}

/** The event that closes a stream in its API's framing (chat's `[DONE]` aside, which the splitter reports as such): nothing the API sends after it belongs to the answer. */
export function isClosingEvent(value: JsonValue | undefined, framing: Framing): boolean {
  if (!isJsonObject(value)) return false;
  const type = value['type'];
  switch (framing) {
    case 'ollama':
      return value['done'] === true;
    case 'anthropic':
      return type === 'message_stop';
    case 'responses':
      return type === 'response.completed' || type === 'response.failed' || type === 'response.incomplete';
    default:
      return false;
  }
}

/**
 * The event after which a known streaming API sends nothing more that matters: a
 * stream cut after it (the Python SDKs close the connection right after `[DONE]`)
 * is complete. A closing event; an Anthropic or Responses error event (the SDKs raise
 * and hang up there); or Gemini's last chunk, which carries the candidate's
 * finishReason (its stream closes with the end of its body).
 */
export function isFinalEvent(value: JsonValue | undefined, framing: Framing): boolean {
  if (!isJsonObject(value)) return false;
  if (isClosingEvent(value, framing) || (value['type'] === 'error' && (framing === 'anthropic' || framing === 'responses'))) return true;
  // A chat stream's error object: OpenAI (and servers like it) end the stream there, without [DONE].
  if (framing === 'chat' && isJsonObject(value['error'])) return true;
  const candidates = value['candidates'];
  return Array.isArray(candidates) && candidates.some((candidate) => isJsonObject(candidate) && typeof candidate['finishReason'] === 'string');
}

/** What a stream lacks of the end its API always sends (`last`: its last chunk), if anything. */
export function missingTerminator(framing: Framing, last: JsonValue | undefined, sawDone: boolean, sawFinal: boolean): string | undefined {
  switch (framing) {
    case 'ollama':
      return isClosingEvent(last, framing) ? undefined : 'the last line did not say "done": true';
    case 'chat':
      return sawDone || sawFinal ? undefined : 'no closing "data: [DONE]"';
    case 'anthropic':
      return sawFinal ? undefined : 'no closing message_stop event';
    case 'responses':
      return sawFinal ? undefined : 'no closing response.completed event';
    default:
      return undefined;
  }
}

/**
 * An error in the stream's own framing, sent before a stream is cut for a reason of
 * llm-replay's own (its recording could not be written), so that its SDK raises with
 * the reason instead of a bare broken connection: OpenAI's chat, completions and Responses
 * streams, Anthropic's and Ollama's carry errors this way. Others (Gemini's) get the cut alone.
 */
export function errorInFraming(framing: Framing, message: string): string | undefined {
  switch (framing) {
    case 'ollama':
      return `${JSON.stringify({ error: message })}\n`;
    case 'anthropic':
      return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message } })}\n\n`;
    case 'chat':
      return `data: ${JSON.stringify({ error: { message, type: 'llm_replay_error', param: null, code: 'llm_replay_write_failed' } })}\n\n`;
    case 'responses':
      // The Responses API's own error event, with the `error` member the OpenAI SDKs raise an APIError on.
      return `event: error\ndata: ${JSON.stringify({ type: 'error', code: 'llm_replay_write_failed', message, param: null, error: { message, type: 'llm_replay_error', param: null, code: 'llm_replay_write_failed' } })}\n\n`;
    default:
      return undefined;
  }
}
