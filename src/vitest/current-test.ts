// The test id of the test vitest is running now, as the helper sends it.
import { expect } from 'vitest';
import { testIdFor } from './test-id.js';

export function currentTestId(): string | undefined {
  const state = expect.getState();
  return testIdFor(state.testPath, state.currentTestName);
}
