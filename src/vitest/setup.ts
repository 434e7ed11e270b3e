// Vitest setupFiles entry: every request to the llm-replay server carries the current
// test as X-Test-Id and this run's scope as x-llm-replay-run; each test starts its
// occurrence counts again (a retried test replays from its first answer); and a test
// whose requests missed a recording fails with the miss's diagnostic, even when the
// code under test swallowed the error.
import { afterEach, beforeEach } from 'vitest';
import { ADMIN_PREFIX, RUN_HEADER, TEST_ID_HEADER } from '../request/control-headers.js';
import { currentRun as run, currentTestId } from './current-test.js';
import { adminHeaders, URL_VARIABLE } from '../request/runner-env.js';

const base = process.env[URL_VARIABLE];

if (base) {
  const original = globalThis.fetch;
  const admin = (path: string, init: RequestInit = {}) => original(`${base}${ADMIN_PREFIX}${path}`, { ...init, headers: { ...adminHeaders(), ...(init.headers as Record<string, string>) } });

  globalThis.fetch = function fetchWithTestId(input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const testId = currentTestId();
    if (!testId || !url.startsWith(base)) return original(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has(TEST_ID_HEADER)) headers.set(TEST_ID_HEADER, testId);
    if (!headers.has(RUN_HEADER)) headers.set(RUN_HEADER, run);
    return original(input, { ...init, headers });
  } as typeof fetch;

  beforeEach(async () => {
    const testId = currentTestId();
    if (!testId) return;
    const response = await admin('/occurrences/reset', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ test_id: testId, run }) });
    if (!response.ok) throw new Error(`llm-replay: resetting this test's occurrence counts failed: ${response.status} ${await response.text()}`);
  });

  afterEach(async () => {
    const testId = currentTestId();
    if (!testId) return;
    const response = await admin(`/misses?${new URLSearchParams({ test_id: testId, run })}`);
    if (!response.ok) throw new Error(`llm-replay: reading this test's misses failed: ${response.status} ${await response.text()}`);
    const { count, misses } = (await response.json()) as { count: number; misses: Array<{ message: string }> };
    // The test is over: a server that outlives the run (shared, started elsewhere) keeps nothing of it.
    await admin('/occurrences/reset', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ test_id: testId, run }) });
    if (count === 0) return;
    const more = count > misses.length ? `\n\n(and ${count - misses.length} more: see the server's log)` : '';
    const shown = misses.map((m) => m.message).join('\n\n') + more;
    throw new Error(`llm-replay: this test made ${count} request(s) with no recording:\n\n${shown}`);
  });
}
