// The test id the vitest helper sends, and where the global setup leaves the
// server's URL and the run's scope for the test workers. Nothing here loads the server.
import path from 'node:path';

export const URL_VARIABLE = 'LLM_REPLAY_URL';
/** The project root test files are named from, so test ids do not depend on the working directory. */
export const ROOT_VARIABLE = 'LLM_REPLAY_TEST_ROOT';
/** The run scope every request carries (x-llm-replay-run): occurrence counts are kept per run. Set by the global setup unless given. */
export const RUN_VARIABLE = 'LLM_REPLAY_RUN';
/** The admin token the helper sends to the admin endpoints, when the server wants one. */
export const ADMIN_TOKEN_VARIABLE = 'LLM_REPLAY_ADMIN_TOKEN';

/** Headers for a request to the admin endpoints: the token, when there is one. */
export function adminHeaders(): Record<string, string> {
  const token = process.env[ADMIN_TOKEN_VARIABLE];
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The test id llm-replay keys a request with: "<test file>::<test name>", header-safe. */
export function testIdFor(testPath: string | undefined, testName: string | undefined, root = process.env[ROOT_VARIABLE] ?? process.cwd()): string | undefined {
  if (!testName) return undefined;
  const file = testPath ? path.relative(root, testPath).split(path.sep).join('/') : '';
  // Header values are Latin-1: anything else is percent-encoded.
  return `${file}::${testName}`.replace(/[^\x20-\x7e]/gu, (ch) => encodeURIComponent(ch));
}
