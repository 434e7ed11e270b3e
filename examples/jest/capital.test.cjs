const { OpenAI } = require('openai');

// Made inside each test: its base URL (from OPENAI_BASE_URL) carries the test's id.
const ask = (question) =>
  new OpenAI({ maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] });

describe('capitals', () => {
  test('knows the capital of France', async () => {
    const answer = await ask('What is the capital of France?');
    expect(answer.choices[0].message.content).toContain('Paris');
  });

  test('keeps going when the API fails', async () => {
    let text = 'no answer';
    try {
      text = (await ask('What is the capital of Italy?')).choices[0].message.content;
    } catch {
      // swallowed: the llm-replay environment still fails this test on a miss
    }
    expect(typeof text).toBe('string');
  });
});
