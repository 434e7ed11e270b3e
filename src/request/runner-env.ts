// The test id the test-runner helpers (vitest, Jest) send, and where their global
// setup leaves the server's URL and the run's scope for the test workers. Nothing here
// loads the server.
import path from 'node:path';

/** The server's URL, for the test workers. */
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
  // fetch sends a header's characters as Latin-1 bytes and refuses any past U+00FF, and the
  // server reads them as UTF-8 when they are: anything but printable ASCII is percent-encoded.
  return `${file}::${testName}`.replace(/[^\x20-\x7e]/gu, (ch) => encodeURIComponent(ch));
}

/** The SDKs' base-URL variables, and the route prefix each takes when one is configured ('' for OpenAI's /v1). */
const SDK_BASE_URLS: ReadonlyArray<readonly [variable: string, routePrefix: string]> = [
  ['OPENAI_BASE_URL', ''],
  ['ANTHROPIC_BASE_URL', '/anthropic'],
  ['OLLAMA_HOST', '/ollama'],
  ['GEMINI_BASE_URL', '/gemini'],
];

/** The route prefixes the SDKs are pointed through when a server has them. */
export const SDK_ROUTE_PREFIXES: readonly string[] = SDK_BASE_URLS.map(([, prefix]) => prefix).filter((prefix) => prefix !== '');

/** Each SDK's base URL on the server at `base`, through its route when the server has one. */
export function sdkBaseUrls(base: string, routePrefixes: readonly string[]): Record<string, string> {
  return Object.fromEntries(SDK_BASE_URLS.map(([variable, prefix]) => [variable, prefix === '' ? `${base}/v1` : routePrefixes.includes(prefix) ? `${base}${prefix}` : base]));
}

/** The SDK base URLs of `env` that point at `server`, pointed at `to` instead (a test's prefixed URL), path kept. */
export function rebasedSdkUrls(env: Record<string, string | undefined>, server: string, to: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [variable] of SDK_BASE_URLS) {
    const value = env[variable];
    if (value?.startsWith(server)) out[variable] = `${to}${value.slice(server.length)}`;
  }
  return out;
}
