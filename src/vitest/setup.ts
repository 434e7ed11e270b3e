// Vitest setupFiles entry: every request to the llm-replay server carries the current
// test as X-Test-Id, and a test whose requests missed a recording fails with the
// miss's diagnostic, even when the code under test swallowed the error.
import { afterEach } from 'vitest';
import { TEST_ID_HEADER } from '../request/control-headers.js';
import { currentTestId } from './current-test.js';
import { URL_VARIABLE } from './test-id.js';

const base = process.env[URL_VARIABLE];

if (base) {
  const original = globalThis.fetch;
  globalThis.fetch = function fetchWithTestId(input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const testId = currentTestId();
    if (!testId || !url.startsWith(base)) return original(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has(TEST_ID_HEADER)) headers.set(TEST_ID_HEADER, testId);
    return original(input, { ...init, headers });
  } as typeof fetch;

  afterEach(async () => {
    const testId = currentTestId();
    if (!testId) return;
    const response = await globalThis.fetch(`${base}/_llm-replay/misses?test_id=${encodeURIComponent(testId)}`);
    const { misses } = (await response.json()) as { misses: Array<{ message: string }> };
    if (misses.length > 0) throw new Error(`llm-replay: this test made ${misses.length} request(s) with no recording:\n\n${misses.map((m) => m.message).join('\n\n')}`);
  });
}
