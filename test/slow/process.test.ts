// The process as CI runs it: killed hard mid-recording it leaves only valid files;
// asked to stop it finishes what is in flight, writes its usage file and exits 0.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeUpstream, openAiSse, sendEvents, sendJson } from '../support/fake-upstream.js';
import { listFiles, readJson, removeDir, serve, tempDir } from '../support/harness.js';
import { startCli } from '../support/cli-process.js';
import { verifyRecordings } from '../../src/cli/commands/verify.js';
import { TEMP_PREFIX } from '../../src/recordings/atomic-write.js';
import { LOCK_FILE } from '../../src/recordings/record-lock.js';

let dir: string;
let upstream: FakeUpstream;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await upstream?.stop();
  await removeDir(dir);
});

const chunk = (i: number, text: string) => ({ id: `chatcmpl-${i}abcdefgh`, object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: text }, finish_reason: null }] });

/** `heldFrom`: requests numbered from `n` are answered only once `until` settles. */
function slowUpstream(release?: Promise<void>, heldFrom?: { n: number; until: Promise<void> }): FakeUpstream {
  return new FakeUpstream().on('POST', '/v1/chat/completions', async (request, res) => {
    const body = JSON.parse(request.body) as { n: number; stream?: boolean };
    if (heldFrom && body.n >= heldFrom.n) await heldFrom.until;
    if (!body.stream) return sendJson(res, 200, { id: `chatcmpl-${body.n}xxxxxxxx`, object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: `answer ${body.n}` }, finish_reason: 'stop' }] });
    const events = openAiSse(Array.from({ length: 8 }, (_, i) => chunk(body.n, `part ${i} `)));
    return sendEvents(res, events, release ? { holdBefore: { index: 4, until: release } } : { pauseMs: 5 });
  });
}

describe('process faults', () => {
  it('SIGKILL during heavy recording leaves only valid recordings; the next start ignores and clears temp files', async () => {
    // The second half is answered only after the kill: however fast the server, it is killed mid-recording.
    let killed!: () => void;
    upstream = await slowUpstream(undefined, { n: 150, until: new Promise((resolve) => (killed = resolve)) }).start();
    const cli = await startCli(['--mode', 'record', '--recordings', dir, '--upstream', upstream.url, '--state-dir', `${dir}.state`]);
    let completed = 0;
    const requests = Array.from({ length: 300 }, (_, n) =>
      fetch(`${cli.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', n, stream: n % 2 === 0 }) })
        .then((r) => r.text())
        .then(() => completed++, () => undefined),
    );
    while (completed < 60) await new Promise((resolve) => setTimeout(resolve, 5));
    cli.child.kill('SIGKILL');
    await cli.exited;
    killed();
    await Promise.all(requests);

    const files = await listFiles(dir);
    const recordings = files.filter((f) => f.endsWith('.json'));
    expect(recordings.length).toBeGreaterThanOrEqual(60);
    expect(recordings.length).toBeLessThan(300);
    expect(files.every((f) => f.endsWith('.json') || path.basename(f).startsWith(TEMP_PREFIX))).toBe(true);
    const report = await verifyRecordings(dir, 'default');
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(recordings.length);

    const again = await serve({ mode: 'record-if-missing', recordings: dir, upstream: upstream.url });
    expect(again.store.size).toBe(recordings.length);
    await again.close();
    expect((await readdir(dir)).filter((f) => f.startsWith(TEMP_PREFIX))).toEqual([]);
  });

  it('SIGTERM lets the request in flight finish, writes the usage file, then exits 0', async () => {
    let release!: () => void;
    upstream = await slowUpstream(new Promise<void>((resolve) => (release = resolve))).start();
    const usageDir = `${dir}.state/usage`;
    const cli = await startCli(['--mode', 'record', '--recordings', dir, '--upstream', upstream.url, '--state-dir', `${dir}.state`, '--usage-dir', usageDir]);
    const response = await fetch(`${cli.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', n: 7, stream: true }) });
    const reader = response.body!.getReader();
    await reader.read(); // the stream has started and is held mid-way upstream
    cli.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    let text = '';
    for (let part = await reader.read(); !part.done; part = await reader.read()) text += new TextDecoder().decode(part.value);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(await cli.exited).toBe(0);
    expect((await listFiles(dir)).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    const [usageFile] = await readdir(usageDir);
    const usage = await readJson(path.join(usageDir, usageFile!));
    expect(usage).toMatchObject({ format: 'llm-replay-usage/1', mode: 'record' });
    expect(usage.recorded).toHaveLength(1);
  });

  it('a second SIGINT stops at once: exit 130, the record lock let go, and the log says what was given up', async () => {
    let release!: () => void;
    upstream = await slowUpstream(new Promise<void>((resolve) => (release = resolve))).start();
    const cli = await startCli(['--mode', 'record', '--recordings', dir, '--upstream', upstream.url, '--state-dir', `${dir}.state`, '--log-level', 'info']);
    const response = await fetch(`${cli.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', n: 8, stream: true }) });
    const reader = response.body!.getReader();
    await reader.read(); // the stream has started and is held mid-way upstream
    expect(await readdir(dir)).toContain(LOCK_FILE);
    cli.child.kill('SIGINT');
    await vi.waitFor(() => expect(cli.stdout()).toContain('SIGINT: finishing requests in flight'), { timeout: 10_000, interval: 20 });
    expect(cli.stdout()).toContain('(a forwarded one for as long as its upstream keeps answering: it is given up after --upstream-timeout of silence); SIGINT again stops at once');
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(130);
    release();
    expect(cli.stdout()).toContain('SIGINT again: stopping at once; requests still in flight end unanswered and are not recorded, and no usage file is written');
    expect(cli.stderr()).toContain('SIGINT again: stopping at once');
    expect(await readdir(dir)).toEqual([]);
  });
});
