// The command line as a user meets it: the start-up line, --help, and clear
// non-zero exits for bad options.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../support/harness.js';

const BIN = new URL('../../bin/llm-replay.js', import.meta.url).pathname;
let dir: string;

beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await removeDir(dir);
});

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 15_000 });
}

function runAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 25_000 }, (error, _stdout, stderr) =>
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
    );
  });
}

describe('llm-replay serve', () => {
  it('prints one start-up line with mode, directory, count and base URL, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--recordings', new URL('../../recordings', import.meta.url).pathname, '--state-dir', `${dir}.state`, '--port', '0', '--log-level', 'warn']);
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (part: Buffer) => {
        out += part.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    expect(line).toMatch(/^llm-replay: replay mode, 10 recordings in .*recordings, listening on http:\/\/127\.0\.0\.1:\d+ \(clients: OPENAI_BASE_URL=http:\/\/127\.0\.0\.1:\d+\/v1; inspector: http:\/\/127\.0\.0\.1:\d+\/_llm-replay\/ui\/\)$/);
    const url = /listening on (\S+)/.exec(line)![1];
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-5.1-chat', messages: [{ role: 'user', content: 'What are the three laws of thermodynamics?' }] }),
    });
    expect(response.status).toBe(200);
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
  });

  it('takes its options from the environment', () => {
    const result = run(['serve'], { LLM_REPLAY_MODE: 'sideways' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/'sideways' from env 'LLM_REPLAY_MODE' is invalid.*replay, record, record-if-missing, live/);
  });

  it.each([
    [['serve', '--mode', 'bogus'], /argument 'bogus' is invalid/],
    [['serve', '--frobnicate'], /unknown option '--frobnicate'/],
    [['serve', '--record-retryable=yes'], /option '--record-retryable' is a switch and takes no value \(given 'yes'\): '--record-retryable' alone turns it on/],
    [['serve', '--frobnicate=yes'], /unknown option '--frobnicate=yes'/],
    [['serv'], /unknown command 'serv'; the commands are serve, verify, rekey, list, show, diff, prune, drift, help/],
    [['serve', '--port', 'eighty'], /expected a whole number from 0 to 65535/],
    [['serve', '--recordings', '/nonexistent/llm-replay'], /recordings: directory \/nonexistent\/llm-replay does not exist, .*--mode record-if-missing.*mkdir -p \/nonexistent\/llm-replay/],
    [['serve', '--upstream', 'not a url', '--recordings', '.'], /upstream: not a URL/],
    [['serve', '--upstream', 'ftp://example.com', '--recordings', '.'], /must be an http or https URL/],
  ])('exits 2 with a clear message for %j', (args, message) => {
    const result = run(args as string[]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message as RegExp);
  });

  it("exits 2 on a recordings directory it cannot make, with the system's reason, never hanging (Node's recursive mkdir loops for ever under /proc)", () => {
    const made = spawnSync(process.execPath, [BIN, 'serve', '--mode', 'record', '-r', '/proc/llm-replay-nope/recordings', '--port', '0'], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    expect(made.signal).toBeNull();
    expect(made.status).toBe(2);
    expect(made.stderr).toContain('cannot create /proc/llm-replay-nope/recordings (ENOENT)');
  });

  it('exits 2 when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const result = run(['serve', '--recordings', dir, '--port', String(port)]);
    blocker.close();
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`port: ${port} on 127.0.0.1 is already in use`);
  });

  it('reads llm-replay.config.json; flags and environment variables win over it', async () => {
    const { writeFile } = await import('node:fs/promises');
    const configs = {
      badMode: { mode: 'bogus-from-file', recordings: dir },
      unknown: { recordings: dir, colour: 'blue' },
      badRoute: { recordings: dir, routes: { 'no-slash': 'http://127.0.0.1:1' } },
      overridden: { recordings: '/nonexistent/from-file', mode: 'replay' },
    };
    const file = (name: string) => `${dir}/${name}.json`;
    await Promise.all(Object.entries(configs).map(([name, config]) => writeFile(file(name), JSON.stringify(config))));
    // Started together: each is a process start, and there are several.
    const [badMode, unknown, badRoute, flag, env, missing] = await Promise.all([
      runAsync(['serve', '--config', file('badMode')]),
      runAsync(['serve', '--config', file('unknown')]),
      runAsync(['serve', '--config', file('badRoute')]),
      runAsync(['serve', '--config', file('overridden'), '--recordings', '/nonexistent/from-flag']),
      runAsync(['serve', '--config', file('overridden')], { LLM_REPLAY_RECORDINGS: '/nonexistent/from-env' }),
      runAsync(['serve', '--config', file('missing')]),
    ]);
    expect(badMode.status).toBe(2);
    expect(badMode.stderr).toContain('mode: expected one of replay, record, record-if-missing, live, got "bogus-from-file"');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(`config: ${file('unknown')}: colour: unknown option; known options are mode,`);
    expect(badRoute.stderr).toContain('routes["no-slash"]: a prefix starts with /');
    expect(flag.stderr).toContain('/nonexistent/from-flag does not exist');
    expect(env.stderr).toContain('/nonexistent/from-env does not exist');
    expect(missing.stderr).toContain('cannot read');
  });

  it('--help documents every option and its environment variable', () => {
    const result = run(['serve', '--help']);
    expect(result.status).toBe(0);
    for (const option of ['--mode', '--recordings', '--upstream', '--port', '--host', '--key-scheme', '--layout', '--upstream-timeout', '--body-limit', '--log-level', '--route', '--pace', '--config']) {
      expect(result.stdout).toContain(option);
    }
    for (const env of ['LLM_REPLAY_MODE', 'LLM_REPLAY_RECORDINGS', 'LLM_REPLAY_UPSTREAM', 'LLM_REPLAY_PORT', 'LLM_REPLAY_HOST']) expect(result.stdout).toContain(env);
  });
});
