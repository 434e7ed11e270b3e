// The test id of the test vitest is running now, and the run scope of this worker,
// as the helper sends them.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { RUN_VARIABLE, testIdFor } from '../request/runner-env.js';

export function currentTestId(): string | undefined {
  const state = expect.getState();
  return testIdFor(state.testPath, state.currentTestName);
}

/** The global setup names the run; without it (a server started elsewhere) each worker is a run of its own. */
export const currentRun = process.env[RUN_VARIABLE] || `vitest-${randomUUID()}`;
