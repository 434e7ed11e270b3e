// The finish reasons each API documents: a live answer that ends for another of them
// than its recording (`length` where it said `stop`) says nothing about the API's
// shape; a value none of them names is new.
import { dialectOf, type Dialect } from '../request/dialect.js';

export const FINISH_REASONS: Record<Dialect, readonly string[]> = {
  openai: ['stop', 'length', 'tool_calls', 'content_filter', 'function_call'],
  anthropic: ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded'],
  gemini: ['FINISH_REASON_UNSPECIFIED', 'STOP', 'MAX_TOKENS', 'SAFETY', 'RECITATION', 'LANGUAGE', 'OTHER', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'MALFORMED_FUNCTION_CALL', 'IMAGE_SAFETY', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS'],
  ollama: ['stop', 'length', 'load', 'unload'],
};

/** The finish reasons an endpoint's answers may give without drift: its API's own, and any a recording of it has. */
export function knownFinishReasons(endpoint: string, recorded: Iterable<string>): Set<string> {
  return new Set([...FINISH_REASONS[dialectOf(endpoint)], ...recorded]);
}
