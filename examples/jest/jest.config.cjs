// Replays ./recordings (LLM_REPLAY_RECORDINGS names another); LLM_REPLAY_MODE=record-if-missing
// with a real OPENAI_API_KEY records what is missing.
module.exports = {
  globalSetup: 'llm-replay/jest/global-setup',
  globalTeardown: 'llm-replay/jest/global-teardown',
  testEnvironment: 'llm-replay/jest/environment',
  testMatch: ['<rootDir>/*.test.cjs'],
};
