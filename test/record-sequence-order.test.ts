// Identical requests of one test sent at once while record mode records their sequence
// anew: a later occurrence answered first is written only after the first occurrence
// (written before it, over the older sequence's, a kill between the two would leave the
// older first with a new later one: test/slow/record-sequence.test.ts kills it there).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { listFiles, workspace } from './support/harness.js';
import type { RunningServer } from '../src/index.js';

const ws = workspace();

/** Answers "<generation> <n>" to its n-th call; `holdFirst` keeps the first call until released, and says when the second's answer has left. */
function generationUpstream(generation: string, holdFirst?: { until: Promise<void>; reached: () => void; secondSent: () => void }): FakeUpstream {
  let calls = 0;
  return new FakeUpstream().on('POST', '/v1/chat/completions', async (_request, res) => {
    const n = ++calls;
    if (holdFirst && n === 1) {
      holdFirst.reached();
      await holdFirst.until;
    }
    if (holdFirst && n === 2) res.once('finish', holdFirst.secondSent);
    sendJson(res, 200, { id: `chatcmpl-${generation}${n}`, object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: `${generation} ${n}` }, finish_reason: 'stop' }] });
  });
}

async function ask(server: RunningServer): Promise<string> {
  const response = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'poll' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'done yet?' }] }) });
  return ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
}

async function sequence(): Promise<string[]> {
  const files = (await listFiles(ws.dir)).filter((file) => file.endsWith('.json')).sort((a, b) => Number(/\.(\d+)\.json$/.exec(a)?.[1] ?? 1) - Number(/\.(\d+)\.json$/.exec(b)?.[1] ?? 1));
  return Promise.all(files.map(async (file) => (JSON.parse(await readFile(path.join(ws.dir, file), 'utf8')) as { response: { body: { choices: Array<{ message: { content: string } }> } } }).response.body.choices[0]!.message.content));
}

describe('a sequence recorded anew by identical requests at once', () => {
  it('writes the first occurrence before a later one answered first, answers both, and removes the older sequence past them', async () => {
    const old = await ws.upstream(generationUpstream('old'));
    const first = await ws.start({ mode: 'record', upstream: old.url });
    for (let i = 0; i < 3; i++) await ask(first);
    await first.close();
    expect(await sequence()).toEqual(['old 1', 'old 2', 'old 3']);

    let release!: () => void;
    let reached!: () => void;
    const atUpstream = new Promise<void>((resolve) => (reached = resolve));
    const until = new Promise<void>((resolve) => (release = resolve));
    let secondSent!: () => void;
    const secondLeft = new Promise<void>((resolve) => (secondSent = resolve));
    const fresh = await ws.upstream(generationUpstream('new', { until, reached, secondSent }));
    const server = await ws.start({ mode: 'record', upstream: fresh.url });
    const written: string[] = [];
    let secondWritten!: () => void;
    const secondOnDisk = new Promise<void>((resolve) => (secondWritten = resolve));
    server.app.store.onWritten(({ file }) => {
      written.push(path.basename(file));
      if (/\.2\.json$/.test(file)) secondWritten();
    });
    const one = ask(server);
    await atUpstream;
    const two = ask(server);
    await secondLeft;
    // Occurrence 2's answer has left the upstream while occurrence 1 is held: it must not be written yet. The cap
    // only gives a wrong build the time to write it (the release then comes after that write).
    await Promise.race([secondOnDisk, new Promise((resolve) => setTimeout(resolve, 300))]);
    release();
    expect(await Promise.all([one, two])).toEqual(['new 1', 'new 2']);
    // Occurrence 1 first, though the upstream answered occurrence 2 first.
    expect(written.map((name) => (/\.(\d+)\.json$/.exec(name)?.[1] ?? '1'))).toEqual(['1', '2']);
    expect(await sequence()).toEqual(['new 1', 'new 2']);
  });
});
