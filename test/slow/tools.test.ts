// Working with recordings: admin endpoints, list/show/diff/prune, and the user's
// normalisation rules.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeUpstream, sendEvents, sendJson } from '../support/fake-upstream.js';
import { fakeOpenAi, seed, seedText, chatParams, streamParams } from '../support/seeds.js';
import { BIN } from '../support/cli-process.js';
import { json, listFiles, openai, recordingsIn, removeDir, serve, workspace } from '../support/harness.js';
import type { RunningServer } from '../../src/index.js';

const ws = workspace();
const { cleanup, start } = ws;
function cli(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
}

const usage = seed('gpt-5.1-chat', 'Usage');
const system = seed('gpt-5.1-chat', 'With System Message');
const streaming = seed('gpt-5.5', 'Streaming Response');

async function recordSome(): Promise<void> {
  const upstream = await fakeOpenAi().start();
  const recorder = await serve({ mode: 'record', recordings: ws.dir, upstream: upstream.url });
  const client = openai(recorder, { testId: 'tests/test_chat.py::test_one' });
  await client.chat.completions.create(chatParams(usage));
  await client.chat.completions.create(chatParams(system));
  for await (const _ of await client.chat.completions.create(streamParams(streaming)));
  await recorder.close();
  await upstream.stop();
}

describe('admin endpoints', () => {
  it('health, stats, misses, unused and a runtime mode switch; never proxied or recorded', async () => {
    await recordSome();
    const upstream = await fakeOpenAi().start();
    cleanup.push(() => upstream.stop());
    const server = await start({ mode: 'replay', upstream: upstream.url });
    await server.catalogue.build();
    const admin = (p: string, init?: RequestInit) => fetch(`${server.url}/_llm-replay/${p}`, init).then(json) as Promise<any>;
    expect(await admin('health')).toEqual({ status: 'ok', mode: 'replay', recordings: 3, routes: [] });
    const client = openai(server, { testId: 'tests/test_chat.py::test_one' });
    await client.chat.completions.create(chatParams(usage));
    await client.chat.completions.create({ ...chatParams(usage), temperature: 0 }).catch(() => undefined);
    const stats = await admin('stats');
    expect(stats.totals).toEqual({ hits: 1, misses: 1, recorded: 0, forwarded: 0, faults: 0, repeated: 0 });
    expect(stats.endpoints['/v1/chat/completions']).toMatchObject({ hits: 1, misses: 1 });
    const { misses } = await admin(`misses?test_id=${encodeURIComponent('tests/test_chat.py::test_one')}`);
    expect(misses).toHaveLength(1);
    expect(misses[0].message).toContain('body.temperature: recorded (absent), requested 0');
    expect((await admin('misses?test_id=other')).misses).toEqual([]);
    expect((await admin('unused')).unused).toHaveLength(2);

    expect(await admin('mode', { method: 'PUT', body: JSON.stringify({ mode: 'record-if-missing' }) })).toEqual({ mode: 'record-if-missing', previous: 'replay' });
    await client.chat.completions.create({ ...chatParams(usage), temperature: 0 });
    expect(upstream.calls('/v1/chat/completions')).toBe(1);
    expect(await listFiles(ws.dir)).toHaveLength(4);
    const bad = await fetch(`${server.url}/_llm-replay/mode`, { method: 'PUT', body: '{"mode": "sideways"}' });
    expect(bad.status).toBe(400);
    expect(upstream.received.some((r) => r.url.includes('_llm-replay'))).toBe(false);
  });
});

describe('llm-replay list, show, diff', () => {
  it('lists with filters and as JSON', async () => {
    await recordSome();
    const table = cli('list', ws.dir);
    expect(table.status).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^KEY\s+METHOD\s+ENDPOINT\s+MODEL\s+TEST ID\s+STREAM\s+STATUS\s+SIZE\s+DATE\s+AGE$/);
    expect(table.stdout).toContain('3 recordings');
    const json = JSON.parse(cli('list', ws.dir, '--json', '--model', 'gpt-5.5').stdout);
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ endpoint: '/v1/chat/completions', model: 'openai/gpt-5.5', testId: 'tests/test_chat.py::test_one', streaming: true, status: 200 });
    expect(JSON.parse(cli('list', ws.dir, '--json', '--test-id', 'nope').stdout)).toEqual([]);
  });

  it('says which files it leaves out, and shows what a file says without the terminal acting on it', async () => {
    await recordSome();
    const [first] = await recordingsIn(ws.dir);
    const hostile = `\u202eevil.py::t${'x'.repeat(5000)}`;
    await writeFile(path.join(ws.dir, first!.file), JSON.stringify({ ...first!.data, test_id: hostile }));
    await writeFile(path.join(ws.dir, `${'f'.repeat(64)}.json`), '{"request": not json');
    await writeFile(path.join(ws.dir, 'notes.json'), '{}');
    const listed = cli('list', ws.dir);
    expect(listed.status).toBe(0);
    expect(listed.stderr).toContain('llm-replay list: 2 files are not listed (llm-replay verify checks them all):');
    expect(listed.stderr).toContain(`${'f'.repeat(64)}.json: not valid JSON`);
    expect(listed.stderr).toContain('notes.json: ');
    expect(listed.stdout).toContain('3 recordings (2 other files not listed)');
    expect(listed.stdout).not.toContain('\u202e');
    expect(listed.stdout).toContain('[U+202E]evil.py::txxx');
    expect(Math.max(...listed.stdout.split('\n').map((line) => line.length))).toBeLessThan(300);
    // verify's counts add up: recordings ok and with problems; the misnamed file apart.
    expect(cli('verify', ws.dir).stdout).toContain('4 recordings: 2 ok, 2 with problems; 1 other file not usable as a recording');
  });

  it('takes the recordings directory as [dir] or as -r/--recordings, as serve does, and refuses two', async () => {
    await recordSome();
    const verified = cli('verify', '-r', ws.dir);
    expect(verified.stderr).toBe('');
    expect(verified.stdout).toContain('3 recordings: 3 ok');
    expect(JSON.parse(cli('list', '--recordings', ws.dir, '--json').stdout)).toHaveLength(3);
    // The same folder twice is no conflict; two folders are.
    expect(cli('verify', ws.dir, '-r', `${ws.dir}/`).stdout).toContain('3 recordings: 3 ok');
    const two = cli('verify', ws.dir, '-r', path.join(ws.dir, 'other'));
    expect(two.status).toBe(2);
    expect(two.stderr).toContain(`two recordings directories: ${JSON.stringify(ws.dir)} (the [dir] argument) and ${JSON.stringify(path.join(ws.dir, 'other'))} (-r/--recordings)`);
    expect(cli('drift', ws.dir, '--recordings', path.join(ws.dir, 'other')).status).toBe(2);

    // prune works on the folder -r names, not the default one (which holds a recording no run used).
    const defaultDir = `${ws.dir}.default`;
    cleanup.push(() => removeDir(defaultDir));
    const [kept, ...unused] = await recordingsIn(ws.dir);
    await mkdir(defaultDir);
    await writeFile(path.join(defaultDir, path.basename(unused[0]!.file)), JSON.stringify(unused[0]!.data));
    const usageDir = `${ws.dir}.state/prune-r`;
    const run = await serve({ mode: 'replay', recordings: ws.dir, usageDir });
    const asked = await fetch(`${run.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': kept!.data.test_id }, body: JSON.stringify(kept!.data.request.body) });
    expect(asked.status).toBe(200);
    await run.close();
    const pruned = spawnSync(process.execPath, [BIN, 'prune', '-r', ws.dir, '--usage', usageDir, '--delete', '--json'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', LLM_REPLAY_RECORDINGS: defaultDir } });
    expect(pruned.status).toBe(0);
    expect(JSON.parse(pruned.stdout)).toMatchObject({ deleted: true, used: 1, unused: unused.map((f) => f.file).sort() });
    expect(await listFiles(ws.dir)).toEqual([kept!.file]);
    expect(await listFiles(defaultDir)).toEqual([path.basename(unused[0]!.file)]);
  });

  it('shows a stream as its text and chunk count, and tool calls', async () => {
    await recordSome();
    const [stream] = (await recordingsIn(ws.dir)).filter((f) => f.data.response.is_streaming);
    const shown = JSON.parse(cli('show', stream!.file.slice(0, 10), '--recordings', ws.dir, '--json').stdout);
    expect(shown.response.stream.text).toBe(seedText(streaming));
    expect(shown.response.stream.chunks).toBe((streaming.response as unknown[]).length);
    expect(cli('show', 'ffff', '--recordings', ws.dir).status).toBe(1);

    // Tool calls streamed in pieces are put back together.
    const tools = new FakeUpstream().on('POST', '/v1/chat/completions', (_r, res) =>
      sendEvents(res, [
        ...[
          { index: 0, id: 'call_Ab12Cd34Ef56', function: { name: 'get_weather', arguments: '' } },
          { index: 0, function: { arguments: '{"city":' } },
          { index: 0, function: { arguments: ' "Paris"}' } },
        ].map((toolCall) => `data: ${JSON.stringify({ id: 'chatcmpl-x1234567', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: [toolCall] }, finish_reason: null }] })}\n\n`),
        'data: [DONE]\n\n',
      ]),
    );
    await tools.start();
    cleanup.push(() => tools.stop());
    const recorder = await start({ mode: 'record', upstream: tools.url });
    await (await fetch(`${recorder.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m","stream":true,"messages":[]}' })).text();
    const [withTools] = (await recordingsIn(ws.dir)).filter((f) => f.data.request.body.messages?.length === 0);
    const toolShown = JSON.parse(cli('show', path.join(ws.dir, withTools!.file), '--json').stdout);
    expect(toolShown.response.stream.toolCalls).toEqual([{ id: expect.stringMatching(/^call_[0-9a-f]{40}$/), name: 'get_weather', arguments: '{"city": "Paris"}' }]);
  });

  it('diffs two requests field by field', async () => {
    await recordSome();
    const files = (await recordingsIn(ws.dir)).filter((f) => !f.data.response.is_streaming);
    const diff = JSON.parse(cli('diff', files[0]!.file.slice(0, 12), files[1]!.file.slice(0, 12), '--recordings', ws.dir, '--json').stdout);
    expect(diff.rows.map((r: { field: string }) => r.field)).toEqual(expect.arrayContaining(['body.messages[0].content', 'body.messages[1].role']));
  });
});

describe('llm-replay prune', () => {
  it('removes what no shard used, merging their usage files; a dry run by default', async () => {
    await recordSome();
    const usageDir = `${ws.dir}.state/shards`;
    const files = await recordingsIn(ws.dir);
    const body = (f: (typeof files)[number]) => JSON.stringify(f.data.request.body);
    // Two shards, each hitting one recording.
    for (const f of files.filter((x) => !x.data.response.is_streaming)) {
      const shard = await serve({ mode: 'replay', recordings: ws.dir, usageDir });
      await fetch(`${shard.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': f.data.test_id }, body: body(f) });
      await shard.close();
    }
    expect(await readdir(usageDir)).toHaveLength(2);
    const dry = cli('prune', ws.dir, '--usage', usageDir);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('1 recordings unused (dry run');
    expect(await listFiles(ws.dir)).toHaveLength(3);
    const done = cli('prune', ws.dir, '--usage', usageDir, '--delete');
    expect(done.stdout).toContain('1 recordings deleted');
    const left = await recordingsIn(ws.dir);
    expect(left).toHaveLength(2);
    expect(left.every((f) => !f.data.response.is_streaming)).toBe(true);
    expect(cli('prune', ws.dir, '--usage', `${ws.dir}.state/none`).stderr).toContain('no usage data');
  });

  it("deletes nothing on another directory's usage, explains a torn usage file in one line, and shows what it deletes first", async () => {
    await recordSome();
    const before = await listFiles(ws.dir);
    const other = `${ws.dir}.other`;
    cleanup.push(() => removeDir(other));
    const usageDir = `${ws.dir}.state/other-usage`;
    const elsewhere = await serve({ mode: 'record-if-missing', recordings: other, usageDir });
    await elsewhere.close();
    const refused = cli('prune', ws.dir, '--usage', usageDir, '--delete');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/was made for .*\.other, not .*: nothing is pruned on another directory's usage/);
    expect(await listFiles(ws.dir)).toEqual(before);

    const tornDir = `${ws.dir}.state/torn`;
    await mkdir(tornDir, { recursive: true });
    await writeFile(path.join(tornDir, 'usage-torn.json'), '{"format": "llm-replay-usage/1", "hits": ["ab');
    const torn = cli('prune', ws.dir, '--usage', tornDir, '--delete');
    expect(torn.status).toBe(1);
    expect(torn.stderr.trim().split('\n')).toEqual([`llm-replay: ${path.join(tornDir, 'usage-torn.json')} is cut short or corrupt (not complete JSON): remove it, or run the suite again to write a new one`]);
    expect(await listFiles(ws.dir)).toEqual(before);

    const idle = cli('prune', ws.dir, '--usage', `${ws.dir}.state/usage-of-nothing`, '--delete');
    expect(idle.stderr).toContain('no usage data');
    const ownDir = `${ws.dir}.state/own`;
    const unusedRun = await serve({ mode: 'replay', recordings: ws.dir, usageDir: ownDir });
    await unusedRun.close();
    const nothingUsed = cli('prune', ws.dir, '--usage', ownDir, '--delete');
    expect(nothingUsed.status).toBe(1);
    expect(nothingUsed.stderr).toContain('used no recording at all');
    expect(await listFiles(ws.dir)).toEqual(before);

    const [kept] = (await recordingsIn(ws.dir)).filter((f) => !f.data.response.is_streaming);
    const own = await serve({ mode: 'replay', recordings: ws.dir, usageDir: ownDir });
    await fetch(`${own.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': kept!.data.test_id }, body: JSON.stringify(kept!.data.request.body) });
    await own.close();
    const done = cli('prune', ws.dir, '--usage', ownDir, '--delete');
    expect(done.status).toBe(0);
    const gone = before.filter((f) => f !== kept!.file);
    expect(done.stdout.trim().split('\n')).toEqual([...gone.map((f) => `deleting: ${f}`), `2 recordings deleted; 1 keys used in 2 usage source(s)`, ...(await readdir(ownDir)).sort().map((f) => `usage read: ${path.join(ownDir, f)}`)]);
    expect(await listFiles(ws.dir)).toEqual([kept!.file]);
  });

  it('can ask a running server which recordings it used', async () => {
    await recordSome();
    const [one] = (await recordingsIn(ws.dir)).filter((f) => !f.data.response.is_streaming);
    const server = await start({ mode: 'replay' });
    await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': one!.data.test_id }, body: JSON.stringify(one!.data.request.body) });
    // Not spawnSync: the server answering the CLI runs in this process.
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'prune', ws.dir, '--server', server.url, '--json']);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ used: 1, deleted: false });
    expect(report.unused).toHaveLength(2);
    expect(report.unused).not.toContain(one!.file);
  });
});

describe('normalisation rules', () => {
  it('ignores body fields and rewrites strings before keying; a change of rules shows as misses', async () => {
    const echo = new FakeUpstream().on('POST', '/v1/chat/completions', (_r, res) => sendJson(res, 200, usage.response));
    await echo.start();
    cleanup.push(() => echo.stop());
    const normalize = [
      { path: '/v1/chat', ignore: ['user', 'metadata.trace_id', 'messages.*.name'], replace: [{ pattern: '/tmp/[\\w-]+', with: '<TMP>' }, { pattern: '\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z', with: '<TIME>' }] },
    ];
    const recorder = await start({ mode: 'record-if-missing', upstream: echo.url, normalize });
    // Each send is a run of its own: the first occurrence of its request.
    let runs = 0;
    const send = (server: RunningServer, extra: Record<string, unknown>, content: string) =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-llm-replay-run': `run-${++runs}` },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', name: 'x', content }], ...extra }),
      });
    await send(recorder, { user: 'u1', metadata: { trace_id: 't1', team: 'a' } }, 'read /tmp/abc-123 at 2026-11-23T10:00:00.123Z');
    await send(recorder, { user: 'u2', metadata: { trace_id: 't2', team: 'a' } }, 'read /tmp/zzz-999 at 2025-01-01T00:00:00Z');
    expect(echo.calls()).toBe(1);
    await send(recorder, { user: 'u2', metadata: { trace_id: 't2', team: 'b' } }, 'read /tmp/zzz-999 at 2025-01-01T00:00:00Z');
    expect(echo.calls()).toBe(2);
    await recorder.close();
    cleanup.pop();

    const configFile = path.join(ws.dir, '..', `${path.basename(ws.dir)}.config.json`);
    cleanup.push(() => removeDir(configFile));
    await writeFile(configFile, JSON.stringify({ normalize }));
    expect(cli('verify', ws.dir, '--config', configFile).stdout).toContain('2 recordings: 2 ok');
    expect(cli('verify', ws.dir).status).toBe(1);
    // A mismatch under other rules says the rules took part in the key it names.
    await writeFile(configFile, JSON.stringify({ normalize: [{ ...normalize[0], ignore: ['user'] }] }));
    expect(cli('verify', ws.dir, '--config', configFile).stdout).toMatch(/key-mismatch: .*under the default scheme and the normalisation rules/);

    const changed = await start({ mode: 'replay', normalize: [{ ...normalize[0], ignore: ['user'] }] });
    const miss = await send(changed, { user: 'u1', metadata: { trace_id: 't1', team: 'a' } }, 'read /tmp/abc-123 at 2026-11-23T10:00:00.123Z');
    expect(miss.status).toBe(404);
  });

  it('rejects bad rules with the rule named', async () => {
    await expect(serve({ recordings: ws.dir, normalize: [{ replace: [{ pattern: '(', with: '' }] }] })).rejects.toThrow(/normalize\[0\]\.replace\[0\]\.pattern/);
    await expect(serve({ recordings: ws.dir, normalize: [{ drop: ['x'] } as never] })).rejects.toThrow(/normalize\[0\]: unknown field "drop"; known fields are path, ignore, strings, replace/);
    await expect(serve({ recordings: ws.dir, normalize: [{ strings: 'python' } as never] })).rejects.toThrow(/normalize\[0\]\.strings/);
  });
});
