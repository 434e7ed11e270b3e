// POST /_llm-replay/occurrences/reset {"test_id"?, "run"?}: the occurrence counts of a
// test (and/or of a run, or all) start again, so the test's next request is its first
// occurrence, and so do its miss counts (GET /misses?test_id=&run=). The vitest
// helper calls it at each test's start; other runners call it from a per-test fixture. Registered inside the admin plugin, so its rules apply.
import type { FastifyPluginAsync } from 'fastify';
import { invalidRequest } from './admin-body.js';

interface ResetFilter {
  testId?: string | null;
  run?: string;
}

/** The filter a reset body names (none: every count), or a message saying what is wrong with it. */
function filterOf(data: unknown): ResetFilter | string {
  if (data === undefined) return {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'the body must be a JSON object';
  const { test_id: testId, run, ...rest } = data as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return `unknown field(s) ${Object.keys(rest).join(', ')}`;
  if (testId !== undefined && testId !== null && typeof testId !== 'string') return '"test_id" must be a string (or null: requests without a test id)';
  if (run !== undefined && typeof run !== 'string') return '"run" must be a string';
  return { ...(testId !== undefined ? { testId } : {}), ...(run !== undefined ? { run } : {}) };
}

export const occurrencesAdmin: FastifyPluginAsync = async (app) => {
  const { occurrences, usage } = app.llmReplay;
  const invalid = { code: 'llm_replay_bad_reset', hint: 'send {"test_id": "...", "run": "..."} (either or both, or nothing to reset every count)' } as const;
  app.post<{ Body: unknown }>('/occurrences/reset', { config: { invalid } }, async (request) => {
    const filter = filterOf(request.body);
    if (typeof filter === 'string') throw invalidRequest(invalid, filter);
    // The test starts again: its misses, which the vitest helper checks after it, count from here too.
    usage.resetMisses(filter);
    return { reset: occurrences.reset(filter) };
  });
};
