// The server a test runner's global setup starts (vitest's, Jest's): llm-replay.config.json,
// then the given options, then the CLI's LLM_REPLAY_* variables, but on a free port;
// and the environment that points the SDKs and the per-test helpers at it.
import { randomUUID } from 'node:crypto';
import { DEFAULT_CONFIG_FILE, readConfigFile } from '../config/config-file.js';
import { optionsFromEnv, type ServerOptions } from '../config/options.js';
import { ADMIN_TOKEN_VARIABLE, ROOT_VARIABLE, RUN_VARIABLE, sdkBaseUrls, URL_VARIABLE } from '../request/runner-env.js';
import { startServer, type RunningServer } from './app.js';

/** Starts the suite's server and sets the environment the test workers inherit (`env`, process.env by default). */
export async function startSuiteServer(options: ServerOptions, root: string, env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const fromFile = readConfigFile(DEFAULT_CONFIG_FILE, false);
  const server = await startServer({
    // A miss fails its test with the diagnostic; the log need not say it again.
    logLevel: 'error',
    ...fromFile,
    ...options,
    ...optionsFromEnv(env, ['port', 'host']),
    port: 0,
  });
  if (server.adminToken) env[ADMIN_TOKEN_VARIABLE] = server.adminToken;
  env[URL_VARIABLE] = server.url;
  // One scope per run: two runs sharing a server keep their own occurrence counts.
  env[RUN_VARIABLE] ||= `run-${randomUUID()}`;
  env[ROOT_VARIABLE] = root;
  Object.assign(env, sdkBaseUrls(server.url, server.config.routes.map((route) => route.prefix)));
  // Replay needs no key, but the SDKs refuse to start without one.
  env['OPENAI_API_KEY'] ||= 'llm-replay';
  env['ANTHROPIC_API_KEY'] ||= 'llm-replay';
  return server;
}
