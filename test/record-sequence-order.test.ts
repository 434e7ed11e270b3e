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

/** Something a test waits for, and how to say it happened. */
function signal(): { done: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const done = new Promise<void>((resolve) => (fire = resolve));
  return { done, fire };
}

/** The older sequence, recorded by an earlier server: "old 1", "old 2", "old 3". */
async function recordOldSequence(): Promise<void> {
  const old = await ws.upstream(generationUpstream('old'));
  const first = await ws.start({ mode: 'record', upstream: old.url });
  for (let i = 0; i < 3; i++) await ask(first);
  await first.close();
  expect(await sequence()).toEqual(['old 1', 'old 2', 'old 3']);
}

describe('a sequence recorded anew by identical requests at once', () => {
  it('writes the first occurrence before a later one answered first, answers both, and removes the older sequence past them', async () => {
    await recordOldSequence();

    const { fire: reached, done: atUpstream } = signal();
    const { fire: release, done: until } = signal();
    const { fire: secondSent, done: secondLeft } = signal();
    const fresh = await ws.upstream(generationUpstream('new', { until, reached, secondSent }));
    const server = await ws.start({ mode: 'record', upstream: fresh.url });
    const written: string[] = [];
    const { fire: secondWritten, done: secondOnDisk } = signal();
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

  it('writes three sent at once in order, though the upstream answered the last first', async () => {
    await recordOldSequence();

    // Calls 1 and 2 held until released; call 3 answered at once.
    const held = new Map<number, { reached: Promise<void>; arrive: () => void; release: () => void; until: Promise<void> }>();
    for (const n of [1, 2]) {
      const { fire: arrive, done: reached } = signal();
      const { fire: release, done: until } = signal();
      held.set(n, { reached, arrive, release, until });
    }
    const { fire: thirdSent, done: thirdLeft } = signal();
    let calls = 0;
    const fresh = await ws.upstream(
      new FakeUpstream().on('POST', '/v1/chat/completions', async (_request, res) => {
        const n = ++calls;
        const hold = held.get(n);
        if (hold) {
          hold.arrive();
          await hold.until;
        }
        if (n === 3) res.once('finish', thirdSent);
        sendJson(res, 200, { id: `chatcmpl-new${n}`, object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: `new ${n}` }, finish_reason: 'stop' }] });
      }),
    );
    const server = await ws.start({ mode: 'record', upstream: fresh.url });
    const written: string[] = [];
    server.app.store.onWritten(({ file }) => written.push(/\.(\d+)\.json$/.exec(file)?.[1] ?? '1'));
    const one = ask(server);
    await held.get(1)!.reached;
    const two = ask(server);
    await held.get(2)!.reached;
    const three = ask(server);
    // Occurrence 3 is answered by the upstream at once, then 2, then 1: each waits for the one before it. The pauses
    // only let each answer reach the proxy in that order; the order written must not depend on them.
    await thirdLeft;
    await new Promise((resolve) => setTimeout(resolve, 100));
    held.get(2)!.release();
    await new Promise((resolve) => setTimeout(resolve, 100));
    held.get(1)!.release();
    expect(await Promise.all([one, two, three])).toEqual(['new 1', 'new 2', 'new 3']);
    expect(written).toEqual(['1', '2', '3']);
    expect(await sequence()).toEqual(['new 1', 'new 2', 'new 3']);
  });

  it('does not write a later occurrence over the older sequence when the first was not recorded: the older stays whole', async () => {
    await recordOldSequence();

    const { fire: reached, done: atUpstream } = signal();
    const { fire: release, done: until } = signal();
    const { fire: secondArrived, done: secondAtUpstream } = signal();
    let calls = 0;
    const fresh = await ws.upstream(
      new FakeUpstream().on('POST', '/v1/chat/completions', async (_request, res) => {
        const n = ++calls;
        if (n === 1) {
          reached();
          await until;
          return sendJson(res, 500, { error: { message: 'overloaded', type: 'server_error', param: null, code: null } });
        }
        if (n === 2) secondArrived();
        sendJson(res, 200, { id: `chatcmpl-new${n}`, object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: `new ${n}` }, finish_reason: 'stop' }] });
      }),
    );
    const server = await ws.start({ mode: 'record', upstream: fresh.url });
    const post = () => fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'poll' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'done yet?' }] }) });
    const one = post();
    await atUpstream;
    const two = post();
    // Occurrence 2 is taken and with the upstream before occurrence 1 fails.
    await secondAtUpstream;
    release();
    expect((await one).status).toBe(500);
    const refused = await two;
    expect(refused.status).toBe(500);
    expect(await refused.text()).toContain('occurrence 1 of this request in this test was not recorded, and this one written alone would leave a hole in the sequence, or mix two recordings of it: send them again');
    expect(await sequence()).toEqual(['old 1', 'old 2', 'old 3']);
  });

  it('does not write a later occurrence after a middle one that was not recorded, once the first has replaced the older sequence: no hole', async () => {
    await recordOldSequence();
    const { fire: reached, done: atUpstream } = signal();
    const { fire: release, done: until } = signal();
    const { fire: thirdArrived, done: thirdAtUpstream } = signal();
    let calls = 0;
    const fresh = await ws.upstream(
      new FakeUpstream().on('POST', '/v1/chat/completions', async (_request, res) => {
        const n = ++calls;
        if (n === 2) {
          reached();
          await until;
          return sendJson(res, 429, { error: { message: 'slow down', type: 'rate_limit_exceeded', param: null, code: null } });
        }
        if (n === 3) thirdArrived();
        sendJson(res, 200, { id: `chatcmpl-new${n}`, object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: `new ${n}` }, finish_reason: 'stop' }] });
      }),
    );
    const server = await ws.start({ mode: 'record', upstream: fresh.url });
    const post = () => fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'poll' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'done yet?' }] }) });
    expect((await post()).status).toBe(200);
    expect(await sequence()).toEqual(['new 1']);
    const two = post();
    await atUpstream;
    const three = post();
    await thirdAtUpstream;
    release();
    expect((await two).status).toBe(429);
    const refused = await three;
    expect(refused.status).toBe(500);
    expect(await refused.text()).toContain('occurrence 2 of this request in this test was not recorded');
    expect(await sequence()).toEqual(['new 1']);
  });
});
