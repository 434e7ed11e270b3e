// `llm-replay drift` as CI runs it: the built command line in a child process against
// a fake upstream on 127.0.0.1, and its exit code: 0 when only text changed, 1 on
// shape drift, 2 when the check itself failed (no key, the upstream down, bad options).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftReportPath } from '../../src/drift/report-file.js';
import { DriftingUpstream, MISSING_MODEL, type Failure } from '../support/drifting-upstream.js';
import { removeDir, serve, tempDir } from '../support/harness.js';

const BIN = new URL('../../bin/llm-replay.js', import.meta.url).pathname;
const KEYS = { OPENAI_API_KEY: 'sk-drift-exit', ANTHROPIC_API_KEY: 'sk-ant-drift-exit' };

let dir: string;
let upstream: DriftingUpstream;

beforeAll(async () => {
  dir = await tempDir();
  upstream = await new DriftingUpstream().start();
  const recorder = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
  const calls: Array<[string, unknown]> = [
    // An error answer, whose shape the upstream's changes below leave alone.
    ['/v1/chat/completions', { model: MISSING_MODEL, messages: [{ role: 'user', content: 'rings?' }] }],
    ['/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'rings?' }], stream: true }],
  ];
  for (const [endpoint, body] of calls) {
    const answer = await fetch(`${recorder.url}${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-record' }, body: JSON.stringify(body) });
    await answer.arrayBuffer();
  }
  await recorder.close();
});

afterAll(async () => {
  await upstream?.stop();
  await removeDir(dir);
});

/** The command, asynchronously: the fake upstream answers from this process meanwhile. */
function drift(args: string[], keys: Record<string, string> = KEYS, target = dir): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = { ...process.env, LLM_REPLAY_STATE_DIR: `${dir}.state`, ...keys };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_API_KEY']) if (!(name in keys)) delete env[name];
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'drift', target, ...args], { env, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

describe('llm-replay drift exits', () => {
  it('0 when only text, ids and numbers changed, with --json that parses', async () => {
    upstream.variant = 'text';
    const { code, stdout, stderr } = await drift(['-u', upstream.url, '--json']);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ sent: 2, unchanged: 2, groups: [], drifted: [] });
    expect(stderr).toContain('2 requests to send');
    expect(existsSync(driftReportPath(`${dir}.state`))).toBe(true);
  });

  it('1 on shape drift, the report naming it as text and as JSON', async () => {
    upstream.variant = 'retyped';
    const text = await drift(['-u', upstream.url]);
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toContain('/v1/messages  model claude-sonnet-4-5');
    expect(text.stdout).toContain('event message_start: message.usage.input_tokens: retyped (number -> string)');
    expect(text.stdout).toContain('2 recordings checked: 1 drifted, 1 unchanged');
    const json = await drift(['-u', upstream.url, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).drifted.map((d: { endpoint: string }) => d.endpoint)).toEqual(['/v1/messages']);
  });

  it('2 when a key is missing, the upstream is down, or an option is bad', async () => {
    upstream.variant = 'base';
    const noKey = await drift(['-u', upstream.url], { OPENAI_API_KEY: 'sk-drift-exit' });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('ANTHROPIC_API_KEY');
    const down = new DriftingUpstream();
    await down.start();
    const gone = down.url;
    await down.stop();
    const unreachable = await drift(['-u', gone]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain(`the upstream ${new URL(gone).origin} could not be reached`);
    for (const bad of [['--sample', '0'], ['--older-than', 'a while'], ['--no-such-option'], ['-u', 'not a url']]) {
      const result = await drift(bad);
      expect(result.code, `${bad.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stdout).toBe('');
    }
    // A file named where the directory goes: the check failed (not drift), said in one line.
    const notDir = await drift([], KEYS, BIN);
    expect(notDir.code).toBe(2);
    expect(notDir.stderr).toMatch(/^llm-replay drift: ENOTDIR: not a directory, scandir '.*llm-replay\.js'\n$/);
  });

  // The recording of /v1/messages had a 200: each of these is the check failing, not drift.
  const FAILURES: Array<[Failure, RegExp]> = [
    [401, /refused the key \(401\)/],
    [429, /answered 429 3 times \(rate limited\)/],
    [503, /answered 503 3 times \(a server error\)/],
    ['reset', /reading the answer from .* failed: other side closed/],
    ['stall', /reading the answer from .* failed: .*timeout/i],
  ];
  it.each(FAILURES)('2 when the live API fails with %s, in one line naming the recording, no stack trace', async (failure, message) => {
    upstream.variant = 'base';
    upstream.fail(failure);
    const before = upstream.calls('/v1/messages');
    try {
      const result = await drift(['-u', upstream.url, '--timeout', '1500']);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/the check failed for \d recordings?/);
      expect(result.stderr).toMatch(/[0-9a-f]{64}(\.\d+)?\.json: /);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toContain('the check failed for:');
      // A rate limit or an outage is asked again (Retry-After: 0), a bounded few times; nothing else is.
      expect(upstream.calls('/v1/messages') - before).toBe(failure === 429 || failure === 503 ? 3 : 1);
    } finally {
      upstream.fail(undefined);
    }
  });
});
