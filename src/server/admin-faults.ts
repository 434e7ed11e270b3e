// Admin routes for fault injection, registered inside the admin plugin:
//   GET    /faults[?test_id=[&run=]]   the rules in force (for a test: those that apply to it) and the faults injected
//   PUT    /faults {"faults", "test_id"?, "run"?}   set the rules of a test (in one run, with both), a run, or the server
//   DELETE /faults[?test_id=][&run=]   clear them (no scope: every rule, server-wide too)
import type { FastifyPluginAsync } from 'fastify';
import { FaultSpecError, parseFaultRules } from '../faults/spec.js';
import type { FaultScope } from '../faults/registry.js';
import { AnswerError } from '../errors.js';

interface ScopeQuery {
  test_id?: string;
  run?: string;
}

function badRequest(message: string, param: string | null = null): never {
  throw new AnswerError('llm_replay_bad_fault', message, param);
}

/** The scope named by test_id and/or run (a test in one run when both); an error message when one is not a string. */
function scopeOf(source: Record<string, unknown>): FaultScope | string {
  const { test_id: testId, run } = source;
  if (testId !== undefined && (typeof testId !== 'string' || testId === '')) return 'test_id must be a non-empty string';
  if (run !== undefined && (typeof run !== 'string' || run === '')) return 'run must be a non-empty string';
  return { ...(testId !== undefined ? { testId: testId as string } : {}), ...(run !== undefined ? { run: run as string } : {}) };
}

function describeScope(scope: FaultScope): Record<string, string> {
  if (scope.testId === undefined && scope.run === undefined) return { server: 'all requests' };
  return { ...(scope.testId !== undefined ? { test_id: scope.testId } : {}), ...(scope.run !== undefined ? { run: scope.run } : {}) };
}

export const faultsAdmin: FastifyPluginAsync = async (app) => {
  const { faults } = app.llmReplay;

  app.get<{ Querystring: ScopeQuery }>('/faults', async (request) => {
    const { test_id: testId, run } = request.query;
    if (testId === undefined) return { in_force: faults.inForce(), injected: faults.injections() };
    const injected = faults.injections(testId).tests[testId] ?? { count: 0, recent: [] };
    // What decides for this test's requests: its own rules, else its run's, else the server's (a request's header aside).
    const applying = faults.applying(testId, run);
    return { test_id: testId, ...(run !== undefined ? { run } : {}), in_force: applying?.rules ?? [], from: applying?.source ?? null, injected };
  });

  const hint = 'send {"faults": "status=429;on=1"} (a string or a list), with "test_id" and/or "run" to limit them to one test or run';
  app.put<{ Body: unknown }>('/faults', { config: { invalid: { code: 'llm_replay_bad_fault', hint } } }, async (request) => {
    const { body } = request;
    if (typeof body !== 'object' || body === null || Array.isArray(body) || !('faults' in body)) {
      return badRequest(hint, 'faults');
    }
    const scope = scopeOf(body as Record<string, unknown>);
    if (typeof scope === 'string') return badRequest(scope);
    try {
      const rules = parseFaultRules((body as { faults: unknown }).faults);
      faults.set(scope, rules);
      app.log.info({ ...describeScope(scope), faults: rules.map((rule) => rule.text) }, 'llm-replay: faults set');
      return { ...describeScope(scope), faults: rules.map((rule) => rule.text) };
    } catch (error) {
      if (error instanceof FaultSpecError) return badRequest(`faults: ${error.message}`, 'faults');
      throw error;
    }
  });

  app.delete<{ Querystring: ScopeQuery }>('/faults', async (request) => {
    const scope = scopeOf(request.query as Record<string, unknown>);
    if (typeof scope === 'string') return badRequest(scope);
    faults.clear(scope);
    return { cleared: describeScope(scope) };
  });
};
