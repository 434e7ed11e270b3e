// Which provider's API a request speaks, from the path the client called: the shape of
// errors made for it (faults, llm-replay's own), and which of the user's keys it takes.
export type Dialect = 'openai' | 'anthropic' | 'ollama' | 'gemini';

/** Messages: /anthropic-routed or not; Ollama's native /api/<verb>; Gemini's model methods and v1beta. */
export function dialectOf(path: string): Dialect {
  if (/\/v1\/(messages|complete)(\/|$)/.test(path)) return 'anthropic';
  // Gemini's OpenAI-compatible endpoints (/v1beta/openai/...) answer as OpenAI does.
  if (path.includes('/openai/')) return 'openai';
  if (/\/v1(beta|alpha)\//.test(path) || /\/models\/[^/]+:[A-Za-z]+$/.test(path)) return 'gemini';
  if (/\/api\/[a-z]+$/.test(path)) return 'ollama';
  return 'openai';
}

/** The environment variables the official SDKs read a dialect's key from, first the one they prefer (none: Ollama takes no key). */
export const KEY_VARIABLES: Record<Dialect, string[]> = {
  openai: ['OPENAI_API_KEY'],
  anthropic: ['ANTHROPIC_API_KEY'],
  gemini: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
  ollama: [],
};
