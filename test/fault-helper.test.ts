// The vitest helper: injectFaults sets faults for the running test only, through the
// admin API of the server the global setup would have started, and clears them when
// the test finishes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/index.js';
import { injectFaults, URL_VARIABLE } from '../src/vitest/index.js';
import { currentRun, currentTestId } from '../src/vitest/current-test.js';
import { json, removeDir, serve, tempDir } from './support/harness.js';

let server: RunningServer;
let dir: string;
const previousUrl = process.env[URL_VARIABLE];

beforeAll(async () => {
  dir = await tempDir();
  server = await serve({ mode: 'replay', recordings: dir });
  process.env[URL_VARIABLE] = server.url;
});
afterAll(async () => {
  if (previousUrl === undefined) delete process.env[URL_VARIABLE];
  else process.env[URL_VARIABLE] = previousUrl;
  await server.close();
  await removeDir(dir);
});

// As the helper's setup sends them: the test id and this worker's run.
const models = (testId: string, run = currentRun) => fetch(`${server.url}/v1/models`, { headers: { 'x-test-id': testId, 'x-llm-replay-run': run } });
let firstTestId = '';

describe('injectFaults', () => {
  it('faults the requests of the current test, and no other test', async () => {
    firstTestId = currentTestId()!;
    expect(firstTestId).toBe('test/fault-helper.test.ts::injectFaults > faults the requests of the current test, and no other test');
    await injectFaults(['status=503;on=1', 'status=500;on=2']);
    expect((await models(firstTestId)).status).toBe(503);
    expect((await models(firstTestId)).status).toBe(500);
    expect((await models(firstTestId)).status).toBe(404);
    expect((await models('another.test.ts::test')).status).toBe(404);
    // The same test in another run sharing the server (a CI matrix) is not faulted.
    expect((await models(firstTestId, 'another-run')).status).toBe(404);
  });

  it('cleared them when that test finished; the injections stay listed', async () => {
    const listing = await json(await fetch(`${server.url}/_llm-replay/faults`));
    expect(listing.in_force.tests).toEqual({});
    expect(listing.injected.tests[firstTestId].count).toBe(2);
    expect((await models(firstTestId)).status).toBe(404);
  });

  it('a bad rule fails the call with the server\'s message', async () => {
    await expect(injectFaults('status=700')).rejects.toThrow('PUT /_llm-replay/faults: 400 llm-replay: faults: "status=700": expected an HTTP error status from 400 to 599');
  });

  it('without the global setup it says what is missing', async () => {
    delete process.env[URL_VARIABLE];
    try {
      await expect(injectFaults('reset')).rejects.toThrow(`injectFaults needs the server of llm-replay's globalSetup (${URL_VARIABLE} is not set)`);
    } finally {
      process.env[URL_VARIABLE] = server.url;
    }
  });
});
