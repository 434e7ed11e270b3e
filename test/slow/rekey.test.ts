// `llm-replay rekey`: a directory recorded under the old default scheme (strings
// rewritten by llama-stack's rules, floats rounded to 5 decimals) is renamed to the
// exact scheme's keys, occurrences kept, and replays again; a change of rules that
// would give two files one name is reported and changes nothing.
import { spawnSync } from 'node:child_process';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import stableStringify from 'json-stable-stringify';
import { createHash } from 'node:crypto';
import { answerText, counterUpstream } from '../support/counter-upstream.js';
import { listFiles, readJson, workspace } from '../support/harness.js';
import { BIN } from '../support/cli-process.js';
import { normalizeLlamaStackString } from '../../src/keys/llama-stack-strings.js';
import { pythonRound } from '../../src/json/python-float.js';
import { mapLeaves, toPlainJson, type JsonValue } from '../../src/json/lossless.js';
import type { RunningServer } from '../../src/index.js';

const ws = workspace();

function cli(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
}

/** The key the default scheme gave a recording before it became exact (README of that version): llama-stack's normalisation, then json-stable-stringify. */
function oldDefaultKey(recording: { test_id: string | null; request: { method: string; endpoint: string; body: unknown } }): string {
  const body = mapLeaves(recording.request.body as JsonValue, normalizeLlamaStackString, (n) => {
    const value = Number(typeof n === 'number' ? n : n.value);
    return Number.isInteger(value) ? value : pythonRound(value, 5);
  });
  const keyed: Record<string, unknown> = { method: recording.request.method, endpoint: recording.request.endpoint, body: toPlainJson(body) };
  if (recording.test_id !== null) keyed['test_id'] = recording.test_id;
  return createHash('sha256').update(stableStringify(keyed) ?? '').digest('hex');
}

const prompts = ['Is 3.141592 bigger than 3.141594?', 'Rank these: score: 0.2'];

function ask(server: RunningServer, content: string): Promise<string> {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-test-id': 'tests/test_math.py::test_compare' } });
  return client.chat.completions.create({ model: 'gpt-4o-mini', temperature: 0.123456789, messages: [{ role: 'user', content }] }).then((a) => a.choices[0]?.message.content ?? '');
}

/** Records each prompt (the first twice: two occurrences), then names every file as the old scheme did. */
async function recordUnderOldNames(): Promise<Map<string, string>> {
  const upstream = await counterUpstream().start();
  ws.cleanup.push(() => upstream.stop());
  const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
  expect([await ask(recorder, prompts[0]!), await ask(recorder, prompts[0]!), await ask(recorder, prompts[1]!)]).toEqual([1, 2, 3].map(answerText));
  await recorder.close();
  await upstream.stop();
  const exactNames = new Map<string, string>();
  for (const file of await listFiles(ws.dir)) {
    const old = `${oldDefaultKey(await readJson(path.join(ws.dir, file)))}${file.slice(64)}`;
    await rename(path.join(ws.dir, file), path.join(ws.dir, old));
    exactNames.set(old, file);
  }
  return exactNames;
}

describe('llm-replay rekey', () => {
  it('renames a directory recorded under the old scheme to the exact keys, occurrences kept, and it replays', async () => {
    const exactNames = await recordUnderOldNames();
    expect(cli('verify', ws.dir).status).toBe(1);

    const dry = cli('rekey', ws.dir, '--dry-run', '--json');
    expect(dry.status).toBe(0);
    const planned = JSON.parse(dry.stdout);
    expect(planned).toMatchObject({ checked: 3, unchanged: 0, conflicts: [], dryRun: true });
    expect(new Map(planned.renamed.map((r: { from: string; to: string }) => [r.from, r.to]))).toEqual(exactNames);
    expect(new Set(await listFiles(ws.dir))).toEqual(new Set(exactNames.keys()));

    const done = cli('rekey', ws.dir);
    expect(done.status).toBe(0);
    expect(done.stdout).toContain('3 recordings: 0 already named by their key, 3 renamed');
    expect(new Set(await listFiles(ws.dir))).toEqual(new Set(exactNames.values()));
    expect(cli('verify', ws.dir).stdout).toContain('3 recordings: 3 ok');
    expect(cli('rekey', ws.dir).stdout).toContain('3 recordings: 3 already named by their key, 0 renamed');

    const replayer = await ws.start({ mode: 'replay' });
    expect([await ask(replayer, prompts[0]!), await ask(replayer, prompts[0]!), await ask(replayer, prompts[1]!)]).toEqual([1, 2, 3].map(answerText));
  });

  it('rules that would give two recordings one name leave both as they are and say so', async () => {
    const upstream = await counterUpstream().start();
    ws.cleanup.push(() => upstream.stop());
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    await ask(recorder, 'Is 3.141592 bigger than 3.141594?');
    await ask(recorder, 'Is 3.141590 bigger than 3.141589?');
    await recorder.close();
    const before = await listFiles(ws.dir);
    const config = path.join(ws.dir, '..', `${path.basename(ws.dir)}.config.json`);
    ws.cleanup.push(() => rm(config, { force: true }));
    await writeFile(config, JSON.stringify({ normalize: [{ strings: 'llama-stack' }] }));
    const result = cli('rekey', ws.dir, '--config', config);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/conflict: [0-9a-f]{64}\.json -> [0-9a-f]{64}\.json, which [0-9a-f]{64}\.json has or wants too; left as it is/);
    expect(result.stdout).toContain('2 recordings: 0 already named by their key, 0 renamed, 2 left as they are');
    expect(await listFiles(ws.dir)).toEqual(before);
  });
});
