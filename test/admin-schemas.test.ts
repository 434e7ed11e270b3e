// Every admin and inspector route that reads a body, a query or a path parameter has a
// route schema: a bad one gets 400 with the route's own code, the field named in the
// message and as the error's param, and the server answers the next request as before.
import { describe, expect, it } from 'vitest';
import { workspace } from './support/harness.js';
import type { RunningServer } from '../src/index.js';

const ws = workspace();

interface Refused {
  method: string;
  url: string;
  body?: string;
  code: string;
  /** Null when the whole part is at fault. */
  field: string | null;
  /** What the message says is wrong, after the field's name. */
  says: RegExp;
}

async function refusal(server: RunningServer, { method, url, body }: Pick<Refused, 'method' | 'url' | 'body'>) {
  const response = await server.app.inject({ method: method as 'GET', url: `/_llm-replay${url}`, ...(body !== undefined ? { payload: body, headers: { 'content-type': 'application/json' } } : {}) });
  return { status: response.statusCode, error: (response.json() as { error: { code: string; param: string | null; message: string } }).error };
}

const cases: Refused[] = [
  // Bodies, checked as sent: no coercion of 5 into "5".
  { method: 'PUT', url: '/faults', body: '{"test_id": "t"}', code: 'llm_replay_bad_fault', field: 'faults', says: /faults: missing/ },
  { method: 'PUT', url: '/faults', body: '{"faults": 5}', code: 'llm_replay_bad_fault', field: 'faults', says: /faults: must be a fault string such as "status=429;on=1", or a list of them/ },
  { method: 'PUT', url: '/faults', body: '{"faults": "status=500", "test_id": ""}', code: 'llm_replay_bad_fault', field: 'test_id', says: /test_id: must be a non-empty string/ },
  { method: 'PUT', url: '/faults', body: '{"faults": "status=500", "test-id": "t"}', code: 'llm_replay_bad_fault', field: 'test-id', says: /the body has a field "test-id" this endpoint does not read/ },
  { method: 'PUT', url: '/faults', body: '{"faults": "status=500", "run": 7}', code: 'llm_replay_bad_fault', field: 'run', says: /run: must be a non-empty string/ },
  { method: 'POST', url: '/occurrences/reset', body: '{"run": 7}', code: 'llm_replay_bad_reset', field: 'run', says: /run: must be a string/ },
  { method: 'POST', url: '/occurrences/reset', body: '{"tests": "t"}', code: 'llm_replay_bad_reset', field: 'tests', says: /the body has a field "tests"/ },
  { method: 'PUT', url: '/mode', body: '{"mode": "sometimes"}', code: 'llm_replay_bad_mode', field: 'mode', says: /mode: must be one of "replay", "record"/ },
  { method: 'PUT', url: '/mode', body: '[]', code: 'llm_replay_bad_mode', field: null, says: /the body must be an object/ },
  { method: 'PUT', url: '/mode', body: '{}', code: 'llm_replay_bad_mode', field: 'mode', says: /mode: missing/ },
  { method: 'PUT', url: '/mode', body: '{"mode": "replay", "test-id": "x"}', code: 'llm_replay_bad_mode', field: 'test-id', says: /the body has a field "test-id" this endpoint does not read/ },
  // Query strings and path parameters, coerced: "2" is a number, "true" a boolean.
  { method: 'GET', url: '/faults?test_id=', code: 'llm_replay_bad_fault', field: 'test_id', says: /test_id: must be a non-empty string/ },
  { method: 'DELETE', url: '/faults?run=', code: 'llm_replay_bad_fault', field: 'run', says: /run: must be a non-empty string/ },
  { method: 'GET', url: '/api/recordings?status=abc', code: 'llm_replay_bad_inspector_query', field: 'status', says: /status: must be a status code \(404\) or a class \(4xx\)/ },
  { method: 'GET', url: '/api/recordings?used=maybe', code: 'llm_replay_bad_inspector_query', field: 'used', says: /used: must be true or false/ },
  { method: 'GET', url: '/api/recordings?limit=501', code: 'llm_replay_bad_inspector_query', field: 'limit', says: /limit: must be at most 500/ },
  { method: 'GET', url: '/api/recording', code: 'llm_replay_bad_inspector_query', field: 'file', says: /file: missing/ },
  { method: 'GET', url: '/api/journal?after=-1', code: 'llm_replay_bad_inspector_query', field: 'after', says: /after: must be at least 0/ },
  { method: 'GET', url: '/api/journal/first', code: 'llm_replay_bad_inspector_query', field: 'seq', says: /seq: must be a whole number/ },
  { method: 'GET', url: '/api/journal/events?after=soon', code: 'llm_replay_bad_inspector_query', field: 'after', says: /after: must be a whole number/ },
];

describe('admin and inspector route schemas', () => {
  it('refuse a bad body, query or path parameter naming the field, with the route family\'s code', async () => {
    const server = await ws.start({ mode: 'replay' });
    for (const refused of cases) {
      const { status, error } = await refusal(server, refused);
      const seen = { url: refused.url, body: refused.body, status, code: error.code, param: error.param };
      expect(seen).toEqual({ url: refused.url, body: refused.body, status: 400, code: refused.code, param: refused.field });
      expect(error.message).toMatch(refused.says);
    }
    expect(server.config.mode).toBe('replay');
    expect((await server.app.inject({ method: 'GET', url: '/_llm-replay/health' })).json()).toMatchObject({ status: 'ok' });
  });

  it('coerce a good query string and fill its defaults', async () => {
    const server = await ws.start({ mode: 'replay' });
    const page = await server.app.inject({ method: 'GET', url: '/_llm-replay/api/recordings?streaming=true&limit=2&occurrence=1' });
    expect(page.statusCode).toBe(200);
    expect(page.json()).toMatchObject({ rows: [], next: null, total: 0 });
    const journal = await server.app.inject({ method: 'GET', url: '/_llm-replay/api/journal?after=0' });
    expect(journal.json()).toMatchObject({ items: [], next: 1, mode: 'replay', recordingsDir: ws.dir });
    const faults = await server.app.inject({ method: 'PUT', url: '/_llm-replay/faults', payload: { faults: ['status=500;on=1'], test_id: 't' } });
    expect(faults.json()).toEqual({ test_id: 't', faults: ['status=500;on=1'] });
  });
});
