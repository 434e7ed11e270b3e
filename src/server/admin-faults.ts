// Admin routes for fault injection, registered inside the admin plugin:
//   GET    /faults[?test_id=[&run=]]   the rules in force (for a test: those that apply to it) and the faults injected
//   PUT    /faults {"faults", "test_id"?, "run"?}   set the rules of a test (in one run, with both), a run, or the server
//   DELETE /faults[?test_id=][&run=]   clear them (no scope: every rule, server-wide too)
import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { FaultSpecError, parseFaultRules } from '../faults/spec.js';
import type { FaultScope } from '../faults/registry.js';
import { AnswerError } from '../errors.js';
import { jsonBody } from './admin-body.js';

const nonEmpty = Type.String({ minLength: 1, description: 'a non-empty string' });
const scopeFields = { test_id: Type.Optional(nonEmpty), run: Type.Optional(nonEmpty) };
const scopeQuery = Type.Object(scopeFields);
type ScopeQuery = Static<typeof scopeQuery>;
const faultsBody = Type.Object({ faults: Type.Union([Type.String(), Type.Array(Type.String())], { description: 'a fault string such as "status=429;on=1", or a list of them' }), ...scopeFields }, { additionalProperties: false });
const describedScope = { server: Type.Optional(Type.String()), test_id: Type.Optional(Type.String()), run: Type.Optional(Type.String()) };
const faultsSet = Type.Object({ ...describedScope, faults: Type.Array(Type.String()) });
const faultsCleared = Type.Object({ cleared: Type.Object(describedScope) });

const scopeOf = ({ test_id: testId, run }: ScopeQuery): FaultScope => ({ ...(testId !== undefined ? { testId } : {}), ...(run !== undefined ? { run } : {}) });

function describeScope(scope: FaultScope): Record<string, string> {
  if (scope.testId === undefined && scope.run === undefined) return { server: 'all requests' };
  return { ...(scope.testId !== undefined ? { test_id: scope.testId } : {}), ...(scope.run !== undefined ? { run: scope.run } : {}) };
}

export const faultsAdmin: FastifyPluginAsync = async (app) => {
  const { faults } = app;
  const invalid = { code: 'llm_replay_bad_fault', hint: 'send {"faults": "status=429;on=1"} (a string or a list), with "test_id" and/or "run" to limit them to one test or run' } as const;

  app.get<{ Querystring: ScopeQuery }>('/faults', { schema: { querystring: scopeQuery }, config: { invalid } }, async (request) => {
    const { test_id: testId, run } = request.query;
    if (testId === undefined) return { in_force: faults.inForce(), injected: faults.injections() };
    const injected = faults.injections(testId).tests[testId] ?? { count: 0, recent: [] };
    // What decides for this test's requests: its own rules, else its run's, else the server's (a request's header aside).
    const applying = faults.applying(testId, run);
    return { test_id: testId, ...(run !== undefined ? { run } : {}), in_force: applying?.rules ?? [], from: applying?.source ?? null, injected };
  });

  app.put<{ Body: Static<typeof faultsBody> }>('/faults', jsonBody(faultsBody, invalid, faultsSet), async (request) => {
    const scope = scopeOf(request.body);
    try {
      const rules = parseFaultRules(request.body.faults);
      faults.set(scope, rules);
      app.log.info({ ...describeScope(scope), faults: rules.map((rule) => rule.text) }, 'llm-replay: faults set');
      return { ...describeScope(scope), faults: rules.map((rule) => rule.text) };
    } catch (error) {
      if (error instanceof FaultSpecError) throw new AnswerError('llm_replay_bad_fault', `faults: ${error.message}`, 'faults');
      throw error;
    }
  });

  app.delete<{ Querystring: ScopeQuery }>('/faults', { schema: { querystring: scopeQuery, response: { 200: faultsCleared } }, config: { invalid } }, async (request) => {
    const scope = scopeOf(request.query);
    faults.clear(scope);
    return { cleared: describeScope(scope) };
  });
};
