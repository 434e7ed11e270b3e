// Vitest integration. In a globalSetup file:
//
//   import { globalSetup } from 'llm-replay/vitest';
//   export default globalSetup({ recordings: './recordings' });
//
// and in vitest.config: setupFiles: ['llm-replay/vitest/setup']. The server starts
// once for the run; clients find it through OPENAI_BASE_URL and friends; each test's
// requests carry its name as the test id; a replay miss fails the test that caused it.
import path from 'node:path';
import { DEFAULT_CONFIG_FILE, readConfigFile } from '../config/config-file.js';
import type { ServerOptions } from '../config/options.js';
import { startServer } from '../server/app.js';

export const URL_VARIABLE = 'LLM_REPLAY_URL';
/** The project root test files are named from, so test ids do not depend on the working directory. */
export const ROOT_VARIABLE = 'LLM_REPLAY_TEST_ROOT';

function routeUrl(base: string, routes: Record<string, string> | undefined, prefix: string): string {
  return routes && prefix in routes ? `${base}${prefix}` : base;
}

/**
 * A vitest globalSetup: starts llm-replay (options, then llm-replay.config.json, then
 * LLM_REPLAY_* variables for mode and recordings) and points the SDKs' base URLs at it.
 */
export function globalSetup(options: ServerOptions = {}) {
  return async function setup(project?: { config?: { root?: string } }): Promise<() => Promise<void>> {
    const fromFile = readConfigFile(DEFAULT_CONFIG_FILE, false);
    const env = process.env;
    const server = await startServer({
      // A miss fails its test with the diagnostic; the log need not say it again.
      logLevel: 'error',
      ...fromFile,
      ...options,
      ...(env['LLM_REPLAY_MODE'] ? { mode: env['LLM_REPLAY_MODE'] as ServerOptions['mode'] } : {}),
      ...(env['LLM_REPLAY_RECORDINGS'] ? { recordings: env['LLM_REPLAY_RECORDINGS'] } : {}),
      ...(env['LLM_REPLAY_UPSTREAM'] ? { upstream: env['LLM_REPLAY_UPSTREAM'] } : {}),
      port: 0,
    });
    const routes = { ...fromFile.routes, ...options.routes };
    env[URL_VARIABLE] = server.url;
    env[ROOT_VARIABLE] = project?.config?.root ?? process.cwd();
    env['OPENAI_BASE_URL'] = `${server.url}/v1`;
    env['ANTHROPIC_BASE_URL'] = routeUrl(server.url, routes, '/anthropic');
    env['OLLAMA_HOST'] = routeUrl(server.url, routes, '/ollama');
    env['GEMINI_BASE_URL'] = routeUrl(server.url, routes, '/gemini');
    // Replay needs no key, but the SDKs refuse to start without one.
    env['OPENAI_API_KEY'] ||= 'llm-replay';
    env['ANTHROPIC_API_KEY'] ||= 'llm-replay';
    return () => server.close();
  };
}

/** The test id llm-replay keys a request with: "<test file>::<test name>", header-safe. */
export function testIdFor(testPath: string | undefined, testName: string | undefined, root = process.env[ROOT_VARIABLE] ?? process.cwd()): string | undefined {
  if (!testName) return undefined;
  const file = testPath ? path.relative(root, testPath).split(path.sep).join('/') : '';
  // Header values are Latin-1: anything else is percent-encoded.
  return `${file}::${testName}`.replace(/[^\x20-\x7e]/gu, (ch) => encodeURIComponent(ch));
}
