// The examples/jest project, run with Jest as its users run it: recorded against a fake
// upstream, replayed with it stopped; a missing recording fails the test that needed it
// with the diagnostic, even though the test swallowed the SDK's error.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FakeUpstream, sendJson } from '../support/fake-upstream.js';
import { recordingsIn, removeDir, tempDir } from '../support/harness.js';

const EXAMPLE = new URL('../../examples/jest/', import.meta.url).pathname;
const JEST = new URL('../../node_modules/jest/bin/jest.js', import.meta.url).pathname;

let dir: string;
let upstream: FakeUpstream;

beforeEach(async () => {
  dir = await tempDir();
  upstream = await new FakeUpstream()
    .on('POST', '/v1/chat/completions', (request, res) => {
      const question = (JSON.parse(request.body) as { messages: Array<{ content: string }> }).messages[0]!.content;
      const city = question.includes('France') ? 'Paris' : 'Rome';
      sendJson(res, 200, { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: `It is ${city}.` }, finish_reason: 'stop' }] });
    })
    .start();
});
afterEach(async () => {
  await upstream.stop();
  await removeDir(dir);
});

/** Not spawnSync: the fake upstream answers from this process while Jest runs. */
function runJest(env: Record<string, string>): Promise<{ status: number | null; output: string }> {
  const child = spawn(process.execPath, [JEST, '--ci'], {
    cwd: EXAMPLE,
    env: { ...process.env, LLM_REPLAY_RECORDINGS: dir, LLM_REPLAY_STATE_DIR: `${dir}.state`, NO_COLOR: '1', OPENAI_API_KEY: '', OPENAI_BASE_URL: '', ...env },
    timeout: 120_000,
  });
  let output = '';
  child.stdout.on('data', (part: Buffer) => (output += part.toString()));
  child.stderr.on('data', (part: Buffer) => (output += part.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output })));
}

it('records each test under its own id, replays with the upstream gone, and fails a swallowed miss', { timeout: 300_000 }, async () => {
  const recorded = await runJest({ LLM_REPLAY_MODE: 'record', LLM_REPLAY_UPSTREAM: upstream.url, OPENAI_API_KEY: 'sk-test-recording-key-0123456789' });
  expect(recorded.output).toMatch(/Tests:\s+2 passed, 2 total/);
  expect(recorded.status).toBe(0);
  const files = await recordingsIn(dir);
  expect(files.map((f) => f.data.test_id).sort()).toEqual(['capital.test.cjs::capitals keeps going when the API fails', 'capital.test.cjs::capitals knows the capital of France']);
  // The path prefix never reaches the upstream.
  expect(upstream.received.map((r) => r.url)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
  await upstream.stop();

  const replayed = await runJest({});
  expect(replayed.output).toMatch(/Tests:\s+2 passed, 2 total/);
  expect(replayed.status).toBe(0);

  const italy = files.find((f) => f.data.test_id.includes('keeps going'))!;
  await rm(path.join(dir, italy.file));
  const missed = await runJest({});
  expect(missed.status).not.toBe(0);
  expect(missed.output).toMatch(/Tests:\s+1 failed, 1 passed, 2 total/);
  expect(missed.output).toContain('this test made 1 request(s) with no recording');
  expect(missed.output).toContain('test id: "capital.test.cjs::capitals keeps going when the API fails"');
});
