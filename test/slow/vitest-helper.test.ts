// The vitest helper with occurrences: a project whose test polls three times (and is
// repeated) is recorded against an upstream whose answer changes on every call, then
// replayed with it stopped: the helper sends a run scope with every request and
// starts each test's occurrence counts again, so every run of the test sees its
// answers in order.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { counterUpstream } from '../support/counter-upstream.js';
import { listFiles, workspace } from '../support/harness.js';

const PROJECT = new URL('../fixtures/vitest-poll/', import.meta.url).pathname;
const VITEST = new URL('../../node_modules/vitest/vitest.mjs', import.meta.url).pathname;
const ws = workspace();

/** Runs the project's tests (not spawnSync: the fake upstream answering them runs in this process). */
function runProject(env: Record<string, string>): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VITEST, 'run', '--root', PROJECT], { env: { ...process.env, LLM_REPLAY_RECORDINGS: ws.dir, LLM_REPLAY_STATE_DIR: `${ws.dir}.state`, NO_COLOR: '1', OPENAI_API_KEY: 'sk-test', ...env }, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

it('a polling test records its occurrences and replays them in order, run after run', { timeout: 120_000 }, async () => {
  const upstream = await counterUpstream().start();
  ws.cleanup.push(() => upstream.stop());
  const recorded = await runProject({ LLM_REPLAY_MODE: 'record', LLM_REPLAY_UPSTREAM: upstream.url });
  expect(recorded.output).toMatch(/Tests\s+1 passed/);
  // The test ran twice; the second run started from occurrence 1 again and overwrote the first's three.
  expect(upstream.count).toBe(6);
  const files = await listFiles(ws.dir);
  expect(files).toHaveLength(3);
  // The test's name reaches the recording, what a header cannot carry as text percent-encoded (as the Jest environment's).
  const recording = JSON.parse(await readFile(path.join(ws.dir, files[0]!), 'utf8')) as { test_id: string };
  expect(recording.test_id).toBe('poll.spec.ts::polls until the status changes %E2%86%92 three times %E2%9C%85');
  await upstream.stop();
  const replayed = await runProject({ LLM_REPLAY_MODE: 'replay' });
  expect(replayed.output).toMatch(/Tests\s+1 passed/);
  expect(replayed.status).toBe(0);
});
