// Vitest integration. In a globalSetup file:
//
//   import { globalSetup } from 'llm-replay/vitest';
//   export default globalSetup({ recordings: './recordings' });
//
// and in vitest.config: setupFiles: ['llm-replay/vitest/setup']. The server starts
// once for the run; clients find it through OPENAI_BASE_URL and friends; each test's
// requests carry its name as the test id; a replay miss fails the test that caused it.
import { DEFAULT_CONFIG_FILE, readConfigFile } from '../config/config-file.js';
import { optionsFromEnv, type ServerOptions } from '../config/options.js';
import { randomUUID } from 'node:crypto';
import { ADMIN_TOKEN_VARIABLE, ROOT_VARIABLE, RUN_VARIABLE, URL_VARIABLE } from './test-id.js';

export { ADMIN_TOKEN_VARIABLE, ROOT_VARIABLE, RUN_VARIABLE, URL_VARIABLE, testIdFor } from './test-id.js';
export { injectFaults } from './faults.js';

function routeUrl(base: string, routes: Record<string, string> | undefined, prefix: string): string {
  return routes && prefix in routes ? `${base}${prefix}` : base;
}

/**
 * A vitest globalSetup: starts llm-replay (llm-replay.config.json, then these options,
 * then the LLM_REPLAY_* variables of the CLI, but on a free port) and points the SDKs'
 * base URLs at it.
 */
export function globalSetup(options: ServerOptions = {}) {
  return async function setup(project?: { config?: { root?: string } }): Promise<() => Promise<void>> {
    // Loaded here, not at the top: test files import this module for injectFaults and need none of the server.
    const { startServer } = await import('../server/app.js');
    const fromFile = readConfigFile(DEFAULT_CONFIG_FILE, false);
    const env = process.env;
    const server = await startServer({
      // A miss fails its test with the diagnostic; the log need not say it again.
      logLevel: 'error',
      ...fromFile,
      ...options,
      ...optionsFromEnv(env, ['port', 'host']),
      port: 0,
    });
    if (server.adminToken) env[ADMIN_TOKEN_VARIABLE] = server.adminToken;
    const routes = { ...fromFile.routes, ...options.routes };
    env[URL_VARIABLE] = server.url;
    // One scope per vitest run: two runs sharing a server keep their own occurrence counts.
    env[RUN_VARIABLE] ||= `vitest-${randomUUID()}`;
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
