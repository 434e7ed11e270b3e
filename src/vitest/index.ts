// Vitest integration. In a globalSetup file:
//
//   import { globalSetup } from 'llm-replay/vitest';
//   export default globalSetup({ recordings: './recordings' });
//
// and in vitest.config: setupFiles: ['llm-replay/vitest/setup']. The server starts
// once for the run; clients find it through OPENAI_BASE_URL and friends; each test's
// requests carry its name as the test id; a replay miss fails the test that caused it.
import type { ServerOptions } from '../config/options.js';

export { ADMIN_TOKEN_VARIABLE, ROOT_VARIABLE, RUN_VARIABLE, URL_VARIABLE, testIdFor } from '../request/runner-env.js';
export { injectFaults } from './faults.js';

/**
 * A vitest globalSetup: starts llm-replay (llm-replay.config.json, then these options,
 * then the LLM_REPLAY_* variables of the CLI, but on a free port) and points the SDKs'
 * base URLs at it.
 */
export function globalSetup(options: ServerOptions = {}) {
  return async function setup(project?: { config?: { root?: string } }): Promise<() => Promise<void>> {
    // Loaded here, not at the top: test files import this module for injectFaults and need none of the server.
    const { startSuiteServer } = await import('../server/suite-server.js');
    const server = await startSuiteServer(options, project?.config?.root ?? process.cwd());
    return () => server.close();
  };
}
