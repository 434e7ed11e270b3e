// Jest integration. In jest.config.js:
//
//   export default {
//     globalSetup: 'llm-replay/jest/global-setup',
//     globalTeardown: 'llm-replay/jest/global-teardown',
//     testEnvironment: 'llm-replay/jest/environment',
//   };
//
// (or a global setup file of your own: export default globalSetup({ recordings: './recordings' })).
// The server starts once for the run; each test's clients reach it with the test's id
// and the run's scope in their base URL's path; a replay miss fails the test that caused it.
import type { ServerOptions } from '../config/options.js';
import type { RunningServer } from '../server/app.js';

export { ADMIN_TOKEN_VARIABLE, ROOT_VARIABLE, RUN_VARIABLE, URL_VARIABLE, testIdFor } from '../request/runner-env.js';

/** Where the global setup leaves the server for the global teardown: both run in Jest's main process. */
const SERVER = Symbol.for('llm-replay.jest.server');
type WithServer = typeof globalThis & { [SERVER]?: RunningServer };

/**
 * A Jest globalSetup: starts llm-replay (llm-replay.config.json, then these options,
 * then the LLM_REPLAY_* variables of the CLI, but on a free port) and points the SDKs'
 * base URLs at it; the test environment adds each test's id to them.
 */
export function globalSetup(options: ServerOptions = {}) {
  return async function setup(_globalConfig: unknown, projectConfig?: { rootDir?: string }): Promise<void> {
    const { startSuiteServer } = await import('../server/suite-server.js');
    (globalThis as WithServer)[SERVER] = await startSuiteServer(options, projectConfig?.rootDir ?? process.cwd());
  };
}

/** A Jest globalTeardown: stops the server (requests in flight finish; the usage file is written). */
export async function globalTeardown(): Promise<void> {
  const server = (globalThis as WithServer)[SERVER];
  delete (globalThis as WithServer)[SERVER];
  await server?.close();
}
