// jest.config: testEnvironment: 'llm-replay/jest/environment'. Jest's node environment,
// plus, for each test: its id ("<test file>::<describe names> <test name>") and the
// run's scope in the SDKs' base URLs (the test's own process.env, which clients made in
// the test or its hooks read), its occurrence counts started again, and a failure with
// the diagnostic when its requests missed a recording, even if the code swallowed the error.
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import { TestEnvironment } from 'jest-environment-node';
import { ADMIN_PREFIX } from '../request/control-headers.js';
import { adminHeaders, rebasedSdkUrls, ROOT_VARIABLE, RUN_VARIABLE, testIdFor, URL_VARIABLE } from '../request/runner-env.js';
import { testIdPathPrefix } from '../request/test-id-path.js';

const ROOT_DESCRIBE_BLOCK = 'ROOT_DESCRIBE_BLOCK';

/** The names of the test and the describe blocks around it, outermost first, as Jest prints them. */
function fullName(test: Circus.TestEntry): string {
  const names = [test.name];
  for (let block: Circus.DescribeBlock | undefined = test.parent; block && block.name !== ROOT_DESCRIBE_BLOCK; block = block.parent) names.unshift(block.name);
  return names.join(' ');
}

export default class LlmReplayEnvironment extends TestEnvironment {
  private readonly testPath: string;
  private readonly rootDir: string;
  private saved: Record<string, string | undefined> = {};

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.testPath = context.testPath;
    this.rootDir = process.env[ROOT_VARIABLE] ?? config.projectConfig.rootDir;
  }

  async handleTestEvent(event: Circus.AsyncEvent | Circus.SyncEvent): Promise<void> {
    const base = process.env[URL_VARIABLE];
    if (!base || (event.name !== 'test_start' && event.name !== 'test_done')) return;
    const testId = testIdFor(this.testPath, fullName(event.test), this.rootDir)!;
    const run = process.env[RUN_VARIABLE] ?? '';
    const env = this.global.process.env;
    if (event.name === 'test_start') {
      await admin(base, '/occurrences/reset', { test_id: testId, run });
      const urls = rebasedSdkUrls(env, base, `${base}${testIdPathPrefix(testId, run)}`);
      this.saved = Object.fromEntries(Object.keys(urls).map((name) => [name, env[name]]));
      Object.assign(env, urls);
      return;
    }
    for (const [name, value] of Object.entries(this.saved)) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    try {
      const { count, misses } = (await admin(base, `/misses?${new URLSearchParams({ test_id: testId, run })}`)) as { count: number; misses: Array<{ message: string }> };
      if (count > 0) {
        const more = count > misses.length ? `\n\n(and ${count - misses.length} more: see the server's log)` : '';
        const error = new Error(`llm-replay: this test made ${count} request(s) with no recording:\n\n${misses.map((m) => m.message).join('\n\n')}${more}`);
        // The frames would point into this environment, not at the test: the diagnostic says where.
        error.stack = error.message;
        event.test.errors.push(error);
      }
    } finally {
      // The test is over: a server that outlives the run keeps nothing of it.
      await admin(base, '/occurrences/reset', { test_id: testId, run });
    }
  }
}

async function admin(base: string, path: string, body?: unknown): Promise<unknown> {
  const init: RequestInit = body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...adminHeaders() } };
  if (body === undefined) init.headers = adminHeaders();
  const response = await fetch(`${base}${ADMIN_PREFIX}${path}`, init);
  if (!response.ok) throw new Error(`llm-replay: ${init.method ?? 'GET'} ${ADMIN_PREFIX}${path}: ${response.status} ${await response.text()}`);
  return response.json();
}
