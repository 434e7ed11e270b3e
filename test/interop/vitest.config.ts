// Checks against data that is not ours to ship (llama-stack's recordings under
// ../shared): run by .ci/run when that folder is there, never by `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The repository, so that paths and node_modules resolve as for the main suite.
  root: new URL('../..', import.meta.url).pathname,
  test: {
    include: ['test/interop/**/*.check.ts'],
    testTimeout: 60_000,
  },
});
