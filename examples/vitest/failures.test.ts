import { injectFaults } from 'llm-replay/vitest';
import { describe, expect, it } from 'vitest';
import { explain, explainWithFallback } from './src/explain.js';

const QUESTION = 'What are the three laws of thermodynamics?';

describe('when the API fails', () => {
  it('retries a rate limit and gets the answer', async () => {
    // The first call is refused with OpenAI's 429; the SDK waits retry-after (0 s here) and retries.
    await injectFaults('status=429;retry-after=0;on=1');
    expect(await explain(QUESTION)).toContain('entropy');
  });

  it('falls back to the second model while the first is overloaded', async () => {
    await injectFaults('status=503;retry-after=0;model=openai/gpt-5.1-chat');
    const { model, answer } = await explainWithFallback(QUESTION);
    expect(model).toBe('openai/gpt-5.5');
    expect(answer).toContain('entropy');
  });
});
