// The examples/vitest project, run as its users run it: with the vitest helper, its
// tests replay from its recordings (and inject faults with injectFaults); a missing
// recording fails the test that needed it with the diagnostic, even when the code
// under test swallowed the error.
import { spawnSync } from 'node:child_process';
import { cp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { removeDir, tempDir } from '../support/harness.js';

const EXAMPLE = new URL('../../examples/vitest/', import.meta.url).pathname;
const VITEST = new URL('../../node_modules/vitest/vitest.mjs', import.meta.url).pathname;

let copy: string;
beforeEach(async () => {
  copy = await tempDir();
  await cp(path.join(EXAMPLE, 'recordings'), copy, { recursive: true });
});
afterEach(async () => {
  await removeDir(copy);
});

function runExample(env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [VITEST, 'run', '--root', EXAMPLE], {
    encoding: 'utf8',
    env: { ...process.env, LLM_REPLAY_RECORDINGS: copy, LLM_REPLAY_STATE_DIR: `${copy}.state`, NO_COLOR: '1', ...env },
    timeout: 120_000,
  });
}

it('the example project passes, replaying its recordings with no API key, its failure tests included', () => {
  const result = runExample({ OPENAI_API_KEY: '' });
  expect(result.stdout + result.stderr).toMatch(/Tests\s+5 passed/);
  expect(result.stdout).toContain('failures.test.ts (2 tests)');
  expect(result.status).toBe(0);
});

it('a missing recording fails the test that needed it, with the diagnostic, even if the code swallowed the error (admin token set)', async () => {
  for (const file of await readdir(copy)) {
    if ((await readFile(path.join(copy, file), 'utf8')).includes('keeps going when the API fails')) await rm(path.join(copy, file));
  }
  // With a token the helper's admin calls (misses, injectFaults) must carry it.
  const result = runExample({ LLM_REPLAY_ADMIN_TOKEN: 'a-token-for-the-example' });
  const output = result.stdout + result.stderr;
  expect(result.status).not.toBe(0);
  expect(output).toMatch(/Tests\s+1 failed \| 4 passed/);
  expect(output).toContain('this test made 1 request(s) with no recording');
  expect(output).toContain('test id: "explain.test.ts::explain > keeps going when the API fails"');
  expect(output).toContain('--mode record-if-missing');
});
