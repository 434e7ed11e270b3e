import { globalSetup } from 'llm-replay/vitest';

// Replays ./recordings by default; LLM_REPLAY_MODE=record-if-missing (with a real
// OPENAI_API_KEY) records what is missing.
export default globalSetup({ recordings: new URL('./recordings', import.meta.url).pathname });
