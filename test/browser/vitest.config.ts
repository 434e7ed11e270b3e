// The browser suite: the inspector page in Debian's Chromium, driven by playwright-core
// (npm run test:browser; .ci/run runs it too). Never part of `npm test`, which needs no browser.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: new URL('../..', import.meta.url).pathname,
  test: {
    include: ['test/browser/**/*.browser.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One browser at a time on two cores.
    fileParallelism: false,
    // The page fetches and re-renders as requests arrive: give it a few seconds.
    expect: { poll: { timeout: 10_000, interval: 50 } },
  },
});
