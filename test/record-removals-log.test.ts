// What record mode removes is said in the log at info: each later occurrence of an older
// recorded sequence it records anew, and, once at start, how many temporary files of
// writers no longer running it cleared away.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { counterUpstream } from './support/counter-upstream.js';
import { capturedLog, listFiles, workspace } from './support/harness.js';
import type { RunningServer } from '../src/index.js';
import { TEMP_PREFIX } from '../src/recordings/atomic-write.js';

const ws = workspace();
const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Poll the job.' }] };
/** Above any pid_max: no process has it. */
const DEAD_PID = 2147483646;

function client(server: RunningServer): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-test-id': 'poll' } });
}

/** The log's JSON lines whose message begins with `start`. */
function lines(text: string, start: string): Array<Record<string, unknown> & { msg: string }> {
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown> & { msg: string }).filter((line) => line.msg.startsWith(start));
}

describe('the log of what record mode removes', () => {
  it('names each later occurrence of an older sequence removed when its first is recorded anew, relative to the directory, with why; not one that was gone already', async () => {
    const upstream = await ws.upstream(counterUpstream());
    const first = await ws.start({ mode: 'record', upstream: upstream.url });
    for (let i = 0; i < 4; i++) await client(first).chat.completions.create(question);
    await first.close();
    // In a folder of their own: the path logged is relative to the directory, folder included.
    await mkdir(path.join(ws.dir, 'old'));
    for (const file of await listFiles(ws.dir)) await rename(path.join(ws.dir, file), path.join(ws.dir, 'old', file));
    const [second, third, fourth, only] = await listFiles(ws.dir);
    expect([second, third, fourth, only].map((file) => file!.slice('old/'.length + 64))).toEqual(['.2.json', '.3.json', '.4.json', '.json']);

    const logs = capturedLog();
    const again = await ws.start({ mode: 'record', upstream: upstream.url, logLevel: 'info', logStream: logs.stream });
    // Removed by hand (a checkout, say) after the server read the directory: forgotten, but not this server's doing.
    await rm(path.join(ws.dir, third!));
    await client(again).chat.completions.create(question);
    await logs.settled();
    expect(await listFiles(ws.dir)).toEqual([only]);
    // Highest first, as they are removed.
    expect(lines(logs.text(), 'llm-replay: removed').map(({ msg, file }) => [msg, file])).toEqual(
      [fourth!, second!].map((file) => [`llm-replay: removed ${file}: a later occurrence of an older recording of this request, which record mode records anew from its first occurrence`, file]),
    );
  });

  it('counts the temporary files of dead writers it removed at start, once; those of a live writer stay', async () => {
    await mkdir(path.join(ws.dir, 'nested'));
    const dead = [path.join(ws.dir, `${TEMP_PREFIX}${DEAD_PID}-abcdef-1`), path.join(ws.dir, 'nested', `${TEMP_PREFIX}${DEAD_PID}-abcdef-2`)];
    const alive = path.join(ws.dir, `${TEMP_PREFIX}${process.pid}-fedcba-1`);
    for (const file of [...dead, alive]) await writeFile(file, '{"half": ');
    const logs = capturedLog();
    await ws.start({ mode: 'record', logLevel: 'info', logStream: logs.stream });
    await logs.settled();
    expect(await listFiles(ws.dir)).toEqual([path.basename(alive)]);
    expect(lines(logs.text(), 'llm-replay: removed').map(({ msg, removed }) => [msg, removed])).toEqual([
      [`llm-replay: removed 2 temporary files left in ${ws.dir} by writers no longer running (processes killed mid-write)`, 2],
    ]);
  });

  it('says the count even when the start is then refused (another server holds the directory\'s record lock)', async () => {
    await ws.start({ mode: 'record' });
    await writeFile(path.join(ws.dir, `${TEMP_PREFIX}${DEAD_PID}-abcdef-3`), '{"half": ');
    const logs = capturedLog();
    await expect(ws.start({ mode: 'record', logLevel: 'info', logStream: logs.stream })).rejects.toThrow(/record/);
    await logs.settled();
    expect(lines(logs.text(), 'llm-replay: removed').map(({ removed }) => removed)).toEqual([1]);
  });

  it('says nothing of temporary files when there were none to remove', async () => {
    const logs = capturedLog();
    await ws.start({ mode: 'record', logLevel: 'info', logStream: logs.stream });
    await logs.settled();
    expect(lines(logs.text(), 'llm-replay: removed')).toEqual([]);
  });
});
