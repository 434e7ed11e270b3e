import { defineConfig } from 'vitest/config';

// Two tiers, run in this order by `npm test` (one vitest run, so one report):
// fast: in-process servers and fastify inject, importing src/ (no build, no child
// processes); slow: test/slow/, what needs dist/, child processes, Python or load.
// `npm run test:fast` and `npm run test:slow` run one each.
const shared = { testTimeout: 30_000, hookTimeout: 30_000 };

export default defineConfig({
  test: {
    // Two cores: a few files at once keeps the suite fast without starving servers.
    maxWorkers: 2,
    projects: [
      // Not isolated: a worker loads the SDKs and fastify once for all its files (each file starts its own servers).
      { test: { ...shared, name: 'fast', include: ['test/*.test.ts'], isolate: false, sequence: { groupOrder: 0 } } },
      // Processes, 10 MB bodies and load on two shared cores: more time before a test is called stuck.
      { test: { ...shared, testTimeout: 60_000, name: 'slow', include: ['test/slow/**/*.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
