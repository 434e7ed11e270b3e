// The README's snippets run as written: every code block whose first line names a file
// (`// proxy.mjs`, `# tests/test_chat.py: ...`) is written under that name into a scratch
// project inside this repository (so 'llm-replay' resolves to it, as for a user who
// installed it) and run: the startServer example with node, the vitest and Jest
// configurations with their runners, the pytest example with the plugin installed by
// pip. The SDK calls are recorded from a fake upstream first, then replayed without it.
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, sendJson } from '../support/fake-upstream.js';
import { removeDir } from '../support/harness.js';

const root = new URL('../..', import.meta.url).pathname;
const runFile = promisify(execFile);
const NAMED = /^(?:\/\/|#) ([\w./-]+\.(?:mjs|cjs|ts|py))\b/;

/** The README's code blocks that name their file: name -> text. */
async function namedSnippets(): Promise<Map<string, string>> {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const out = new Map<string, string>();
  for (const [, body] of readme.matchAll(/^```\w*\n([\s\S]*?)^```$/gm)) {
    const name = NAMED.exec(body!)?.[1];
    if (name) out.set(name, body!);
  }
  return out;
}

/**
 * Runs a command to its end (async: the fake upstream answers from this process meanwhile).
 * Its temp folder is the scratch project's: the snippets give no state dir, so the
 * default one (under the OS temp folder) goes there and is removed with it.
 */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ status: number | null; output: string }> {
  const child = spawn(command, args, { cwd, env: { ...process.env, TMPDIR: path.join(scratch, 'tmp'), NO_COLOR: '1', OPENAI_BASE_URL: '', OPENAI_API_KEY: '', ...env }, timeout: 180_000 });
  let output = '';
  child.stdout.on('data', (part: Buffer) => (output += part.toString()));
  child.stderr.on('data', (part: Buffer) => (output += part.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output })));
}

let scratch: string;
let snippets: Map<string, string>;
let upstream: FakeUpstream;

async function project(name: string, files: string[]): Promise<string> {
  const dir = path.join(scratch, name);
  for (const file of files) {
    const text = snippets.get(file);
    if (text === undefined) throw new Error(`the README has no snippet named ${file}`);
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  return dir;
}

beforeAll(async () => {
  scratch = path.join(root, `.readme-snippets-${process.pid}`);
  await mkdir(path.join(scratch, 'tmp'), { recursive: true });
  snippets = await namedSnippets();
  upstream = await new FakeUpstream()
    .on('POST', '/v1/chat/completions', (_request, res) => {
      sendJson(res, 200, { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'The capital of France is Paris.' }, finish_reason: 'stop' }] });
    })
    .start();
});

afterAll(async () => {
  await upstream.stop();
  await removeDir(scratch);
});

const recordEnv = () => ({ LLM_REPLAY_MODE: 'record-if-missing', LLM_REPLAY_UPSTREAM: upstream.url, OPENAI_API_KEY: 'sk-test-a-recording-key-0123456789' });

describe("the README's snippets", { timeout: 600_000 }, () => {
  it('startServer from test code runs as an ES module', async () => {
    const dir = await project('node', ['proxy.mjs']);
    await mkdir(path.join(dir, 'recordings'));
    const result = await run(process.execPath, ['proxy.mjs'], dir);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it("vitest: the global setup and the config (which imports defineConfig) start the server for a test", async () => {
    const dir = await project('vitest', ['vitest.global-setup.ts', 'vitest.config.ts']);
    await writeFile(path.join(dir, 'proxy.test.ts'), "import { expect, it } from 'vitest';\nit('reaches llm-replay', () => expect(process.env.OPENAI_BASE_URL).toMatch(/^http:\\/\\/127\\.0\\.0\\.1:\\d+\\/v1$/));\n");
    await mkdir(path.join(dir, 'recordings'));
    const result = await run(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir], dir);
    expect(result.output).toMatch(/Tests\s+1 passed/);
    expect(result.status).toBe(0);
  });

  it('Jest: records its test, then replays it', async () => {
    const dir = await project('jest', ['jest.config.cjs', 'capital.test.cjs']);
    const jest = path.join(root, 'node_modules/jest/bin/jest.js');
    const recorded = await run(process.execPath, [jest, '--ci'], dir, recordEnv());
    expect(recorded.output).toMatch(/Tests:\s+1 passed/);
    const replayed = await run(process.execPath, [jest, '--ci'], dir);
    expect(replayed.output).toMatch(/Tests:\s+1 passed/);
    expect(replayed.status).toBe(0);
  });

  it('pytest: with the plugin installed, records the test, then replays it', async () => {
    const dir = await project('pytest', ['tests/test_chat.py']);
    const python = (await runFile('bash', [path.join(root, 'test/support/python-venv.sh')])).stdout.trim();
    await runFile(python, ['-m', 'pip', 'install', '--quiet', '--retries', '0', '--disable-pip-version-check', path.join(root, 'python')]);
    const env = { LLM_REPLAY_BIN: path.join(root, 'bin/llm-replay.js') };
    const recorded = await run(python, ['-m', 'pytest', '-p', 'no:cacheprovider', `--llm-replay-mode=record-if-missing`, `--llm-replay-upstream=${upstream.url}`], dir, { ...env, OPENAI_API_KEY: recordEnv().OPENAI_API_KEY });
    expect(recorded.output).toMatch(/1 passed/);
    const replayed = await run(python, ['-m', 'pytest', '-p', 'no:cacheprovider'], dir, env);
    expect(replayed.output).toMatch(/1 passed/);
    expect(replayed.status).toBe(0);
  });
});
