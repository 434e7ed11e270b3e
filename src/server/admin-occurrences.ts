// POST /_llm-replay/occurrences/reset {"test_id"?, "run"?}: the occurrence counts of a
// test (and/or of a run, or all) start again, so the test's next request is its first
// occurrence, and so do its miss counts (GET /misses?test_id=&run=). The vitest
// helper calls it at each test's start; other runners call it from a per-test fixture. Registered inside the admin plugin, so its rules apply.
import type { FastifyPluginAsync } from 'fastify';
import { AnswerError } from '../errors.js';

interface ResetFilter {
  testId?: string | null;
  run?: string;
}

/** The filter a reset body names, or a message saying what is wrong with it. */
function filterOf(body: Buffer | undefined): ResetFilter | string {
  const text = body?.toString('utf8').trim() ?? '';
  if (text === '') return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return 'the body is not JSON';
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'the body must be a JSON object';
  const { test_id: testId, run, ...rest } = data as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return `unknown field(s) ${Object.keys(rest).join(', ')}`;
  if (testId !== undefined && testId !== null && typeof testId !== 'string') return '"test_id" must be a string (or null: requests without a test id)';
  if (run !== undefined && typeof run !== 'string') return '"run" must be a string';
  return { ...(testId !== undefined ? { testId } : {}), ...(run !== undefined ? { run } : {}) };
}

export const occurrencesAdmin: FastifyPluginAsync = async (app) => {
  const { occurrences, usage } = app.llmReplay;
  app.post<{ Body: Buffer }>('/occurrences/reset', async (request) => {
    const filter = filterOf(request.body);
    if (typeof filter === 'string') {
      throw new AnswerError('llm_replay_bad_reset', `${filter}; send {"test_id": "...", "run": "..."} (either or both, or nothing to reset every count)`);
    }
    // The test starts again: its misses, which the vitest helper checks after it, count from here too.
    usage.resetMisses(filter);
    return { reset: occurrences.reset(filter) };
  });
};
