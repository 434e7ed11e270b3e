// The test id and run scope carried in the path, for clients whose headers cannot be
// set from outside (any SDK reads its base URL from the environment; few read extra
// headers there): http://host:port/_llm-replay/t/<run>/<test id>/v1/chat/completions
// is /v1/chat/completions with x-llm-replay-run: <run> and x-test-id: <test id>,
// keyed and counted exactly as those headers would be. Each of the two is one path
// segment, percent-encoded (encodeURIComponent); a run of '-' names no run scope.
import { ADMIN_PREFIX, RUN_HEADER, TEST_ID_HEADER } from './control-headers.js';
import { wireHeaderValue } from './header-text.js';

const TEST_ID_PATH_PREFIX = `${ADMIN_PREFIX}/t/`;
/** The run segment that names no run scope. */
const NO_RUN = '-';

/** The base-URL prefix that gives requests this test id and run: append the client's own path (/v1 ...). */
export function testIdPathPrefix(testId: string, run = ''): string {
  return `${TEST_ID_PATH_PREFIX}${encodeURIComponent(run || NO_RUN)}/${encodeURIComponent(testId)}`;
}

interface PathTestId {
  testId: string;
  run: string;
  /** The path and query the client called under the prefix. */
  url: string;
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The test id, run and remaining URL of a prefixed URL; undefined when the URL has no (well-formed) prefix. */
export function parseTestIdPath(url: string): PathTestId | undefined {
  if (!url.startsWith(TEST_ID_PATH_PREFIX)) return undefined;
  const rest = url.slice(TEST_ID_PATH_PREFIX.length);
  const runEnd = rest.indexOf('/');
  const idEnd = runEnd < 0 ? -1 : rest.indexOf('/', runEnd + 1);
  if (idEnd < 0) return undefined;
  const run = decoded(rest.slice(0, runEnd));
  const testId = decoded(rest.slice(runEnd + 1, idEnd));
  if (run === undefined || testId === undefined || testId === '' || run === '') return undefined;
  return { testId, run: run === NO_RUN ? '' : run, url: rest.slice(idEnd) };
}

/**
 * Fastify's rewriteUrl: a prefixed request becomes the plain request with the two
 * control headers set (the path's values win over headers the client also sent), before
 * routing, so every later step sees one form. Other URLs pass unchanged.
 */
export function rewriteTestIdPath(raw: { url?: string; headers: Record<string, string | string[] | undefined> }): string {
  const url = raw.url ?? '/';
  const found = parseTestIdPath(url);
  if (!found) return url;
  // As a client would send it in the header: read back as every X-Test-Id is (header-text.ts).
  raw.headers[TEST_ID_HEADER] = wireHeaderValue(found.testId);
  if (found.run) raw.headers[RUN_HEADER] = found.run;
  else delete raw.headers[RUN_HEADER];
  return found.url;
}
