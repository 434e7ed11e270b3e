// POST /_llm-replay/occurrences/reset {"test_id"?, "run"?}: the occurrence counts of a
// test (and/or of a run, or all) start again, so the test's next request is its first
// occurrence, and so do its miss counts (GET /misses?test_id=&run=). The vitest
// helper calls it at each test's start; other runners call it from a per-test fixture. Registered inside the admin plugin, so its rules apply.
import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { jsonBody } from './admin-body.js';

const resetBody = Type.Union([
  Type.Object({ test_id: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'a string (or null: requests without a test id)' })), run: Type.Optional(Type.String()) }, { additionalProperties: false }),
  Type.Null(),
]);
const resetCount = Type.Object({ reset: Type.Integer() });

export const occurrencesAdmin: FastifyPluginAsync = async (app) => {
  const { occurrences, usage } = app;
  const invalid = { code: 'llm_replay_bad_reset', hint: 'send {"test_id": "...", "run": "..."} (either or both, or nothing to reset every count)' } as const;
  app.post<{ Body: Static<typeof resetBody> }>('/occurrences/reset', jsonBody(resetBody, invalid, resetCount), async (request) => {
    const { test_id: testId, run } = request.body ?? {};
    const filter = { ...(testId !== undefined ? { testId } : {}), ...(run !== undefined ? { run } : {}) };
    // The test starts again: its misses, which the vitest helper checks after it, count from here too.
    usage.resetMisses(filter);
    return { reset: occurrences.reset(filter) };
  });
};
