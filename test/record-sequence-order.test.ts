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

/** How the upstream treats one call: held until `until`, refused with `status`; `arrived` when it comes, `sent` once its answer has left. */
interface CallScript {
  until?: Promise<void>;
  status?: number;
  arrived?: () => void;
  sent?: () => void;
}

/** Answers "<generation> <n>" to its n-th call, as `script` says for that call. */
function generationUpstream(generation: string, script: Record<number, CallScript> = {}): FakeUpstream {
  let calls = 0;
  return new FakeUpstream().on('POST', '/v1/chat/completions', async (_request, res) => {
    const n = ++calls;
    const call = script[n] ?? {};
    call.arrived?.();
    if (call.until) await call.until;
    if (call.sent) res.once('finish', call.sent);
    if (call.status) return sendJson(res, call.status, { error: { message: `refused with ${call.status}`, type: 'server_error', param: null, code: null } });
    sendJson(res, 200, { id: `chatcmpl-${generation}${n}`, object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: `${generation} ${n}` }, finish_reason: 'stop' }] });
  });
}

function post(server: RunningServer): Promise<Response> {
  return fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'poll' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'done yet?' }] }) });
}

async function ask(server: RunningServer): Promise<string> {
  return ((await (await post(server)).json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
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
    const fresh = await ws.upstream(generationUpstream('new', { 1: { arrived: reached, until }, 2: { sent: secondSent } }));
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
    const [first, second] = [1, 2].map(() => ({ arrival: signal(), release: signal() }));
    const { fire: thirdSent, done: thirdLeft } = signal();
    const fresh = await ws.upstream(
      generationUpstream('new', {
        1: { arrived: first!.arrival.fire, until: first!.release.done },
        2: { arrived: second!.arrival.fire, until: second!.release.done },
        3: { sent: thirdSent },
      }),
    );
    const server = await ws.start({ mode: 'record', upstream: fresh.url });
    const written: string[] = [];
    server.app.store.onWritten(({ file }) => written.push(/\.(\d+)\.json$/.exec(file)?.[1] ?? '1'));
    const one = ask(server);
    await first!.arrival.done;
    const two = ask(server);
    await second!.arrival.done;
    const three = ask(server);
    // Occurrence 3 is answered by the upstream at once, then 2, then 1: each waits for the one before it. The pauses
    // only let each answer reach the proxy in that order; the order written must not depend on them.
    await thirdLeft;
    await new Promise((resolve) => setTimeout(resolve, 100));
    second!.release.fire();
    await new Promise((resolve) => setTimeout(resolve, 100));
    first!.release.fire();
    expect(await Promise.all([one, two, three])).toEqual(['new 1', 'new 2', 'new 3']);
    expect(written).toEqual(['1', '2', '3']);
    expect(await sequence()).toEqual(['new 1', 'new 2', 'new 3']);
  });

  it('does not write a later occurrence over the older sequence when the first was not recorded: the older stays whole', async () => {
    await recordOldSequence();

    const { fire: reached, done: atUpstream } = signal();
    const { fire: release, done: until } = signal();
    const { fire: secondArrived, done: secondAtUpstream } = signal();
    const fresh = await ws.upstream(generationUpstream('new', { 1: { arrived: reached, until, status: 500 }, 2: { arrived: secondArrived } }));
    const server = await ws.start({ mode: 'record', upstream: fresh.url });
    const one = post(server);
    await atUpstream;
    const two = post(server);
    // Occurrence 2 is taken and with the upstream before occurrence 1 fails.
    await secondAtUpstream;
    release();
    expect((await one).status).toBe(500);
    const refused = await two;
    expect(refused.status).toBe(500);
    // Sending it again is the way: the SDKs may retry it (a file the directory refused says they should not).
    expect(refused.headers.get('x-should-retry')).toBeNull();
    expect(await refused.text()).toContain('occurrence 1 of this request in this test was not recorded, and this one written alone would leave a hole in the sequence, or mix two recordings of it: send them again');
    expect(await sequence()).toEqual(['old 1', 'old 2', 'old 3']);
  });

  it('does not write a later occurrence after a middle one that was not recorded, once the first has replaced the older sequence: no hole', async () => {
    await recordOldSequence();
    const { fire: reached, done: atUpstream } = signal();
    const { fire: release, done: until } = signal();
    const { fire: thirdArrived, done: thirdAtUpstream } = signal();
    const fresh = await ws.upstream(generationUpstream('new', { 2: { arrived: reached, until, status: 429 }, 3: { arrived: thirdArrived } }));
    const server = await ws.start({ mode: 'record', upstream: fresh.url });
    expect((await post(server)).status).toBe(200);
    expect(await sequence()).toEqual(['new 1']);
    const two = post(server);
    await atUpstream;
    const three = post(server);
    await thirdAtUpstream;
    release();
    expect((await two).status).toBe(429);
    const refused = await three;
    expect(refused.status).toBe(500);
    expect(await refused.text()).toContain('occurrence 2 of this request in this test was not recorded');
    expect(await sequence()).toEqual(['new 1']);
  });
});
