// Record mode records a sequence anew from its first occurrence, so the older
// recording's later occurrences must go; what that removal may never do across
// processes: a second record-mode server on the directory is refused (the lock), and a
// SIGKILL at any point leaves either the older sequence or the new one, never a hole
// or a mix of both.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeUpstream, sendJson } from '../support/fake-upstream.js';
import { listFiles, removeDir, serve, tempDir } from '../support/harness.js';
import { startCli } from '../support/cli-process.js';

let dir: string;
let upstream: FakeUpstream | undefined;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await upstream?.stop();
  upstream = undefined;
  await removeDir(dir);
  await removeDir(`${dir}.state`);
});

/** An upstream answering "<generation> <n>" to its n-th call; `hold`, when given, keeps the call with that number waiting until released. */
function generationUpstream(generation: string, hold?: { call: number; until: Promise<void>; reached: () => void }): FakeUpstream {
  let calls = 0;
  return new FakeUpstream().on('POST', '/v1/chat/completions', async (_request, res) => {
    const n = ++calls;
    if (hold && n === hold.call) {
      hold.reached();
      await hold.until;
    }
    sendJson(res, 200, { id: `chatcmpl-${generation}${n}`, object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: `${generation} ${n}` }, finish_reason: 'stop' }] });
  });
}

function ask(url: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'poll' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'done yet?' }] }) });
}

/** The recorded sequence: each occurrence's answer, in order of occurrence. */
async function sequence(): Promise<Array<{ occurrence: number; answer: string }>> {
  const files = (await listFiles(dir)).filter((file) => file.endsWith('.json'));
  const found = await Promise.all(
    files.map(async (file) => {
      const recording = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as { response: { body: { choices: Array<{ message: { content: string } }> } } };
      const occurrence = Number(/\.(\d+)\.json$/.exec(file)?.[1] ?? 1);
      return { occurrence, answer: recording.response.body.choices[0]!.message.content };
    }),
  );
  return found.sort((a, b) => a.occurrence - b.occurrence);
}

async function recordOldSequence(): Promise<void> {
  upstream = await generationUpstream('old').start();
  const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
  for (let i = 0; i < 3; i++) expect((await ask(server.url)).status).toBe(200);
  await server.close();
  await upstream.stop();
  expect(await sequence()).toEqual([1, 2, 3].map((n) => ({ occurrence: n, answer: `old ${n}` })));
}

describe('record mode across processes', () => {
  it('a second record-mode server on the same directory is refused, naming who holds it; a killed holder leaves it free', async () => {
    const first = await startCli(['--mode', 'record', '--recordings', dir, '--upstream', 'http://127.0.0.1:9', '--state-dir', `${dir}.state`]);
    const refused = startCli(['--mode', 'record', '--recordings', dir, '--upstream', 'http://127.0.0.1:9', '--state-dir', `${dir}.state`]);
    await expect(refused).rejects.toThrow(new RegExp(`locked for recording by pid ${first.child.pid} \\(since [^)]*\\), which is still running`));
    // Replay and record-if-missing never remove a file: they may share the directory.
    const replaying = await startCli(['--mode', 'record-if-missing', '--recordings', dir, '--upstream', 'http://127.0.0.1:9', '--state-dir', `${dir}.state2`]);
    replaying.child.kill('SIGTERM');
    await replaying.exited;
    first.child.kill('SIGKILL');
    await first.exited;
    const next = await startCli(['--mode', 'record', '--recordings', dir, '--upstream', 'http://127.0.0.1:9', '--state-dir', `${dir}.state`]);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
    await removeDir(`${dir}.state2`);
  });

  // Killed: while occurrence 1 is with the upstream, after it is answered, while occurrence 2 is with the upstream, after it is answered.
  for (const killAt of [
    { answered: 0, holding: true },
    { answered: 1, holding: false },
    { answered: 1, holding: true },
    { answered: 2, holding: false },
  ]) {
    it(`a SIGKILL ${killAt.holding ? 'while occurrence ' + (killAt.answered + 1) + ' is with the upstream' : 'after occurrence ' + killAt.answered + ' is answered'} leaves the older sequence or the new one, whole from 1`, async () => {
      await recordOldSequence();
      let release!: () => void;
      let reached!: () => void;
      const atUpstream = new Promise<void>((resolve) => (reached = resolve));
      const until = new Promise<void>((resolve) => (release = resolve));
      upstream = await generationUpstream('new', killAt.holding ? { call: killAt.answered + 1, until, reached } : undefined).start();
      const cli = await startCli(['--mode', 'record', '--recordings', dir, '--upstream', upstream.url, '--state-dir', `${dir}.state`]);
      for (let i = 0; i < killAt.answered; i++) expect((await ask(cli.url)).status).toBe(200);
      if (killAt.holding) {
        void ask(cli.url).catch(() => undefined);
        await atUpstream;
      }
      cli.child.kill('SIGKILL');
      await cli.exited;
      release();
      const kept = await sequence();
      const generation = kept[0]?.answer.split(' ')[0];
      expect(kept.map((step) => step.occurrence)).toEqual(kept.map((_, i) => i + 1));
      expect(kept.every((step) => step.answer === `${generation} ${step.occurrence}`)).toBe(true);
      // What was answered is kept: the new sequence so far, or all of the old one when nothing new was answered.
      if (killAt.answered > 0) expect(kept).toEqual(Array.from({ length: killAt.answered }, (_, i) => ({ occurrence: i + 1, answer: `new ${i + 1}` })));
      else expect(generation).toBe('old');
    });
  }

  it('identical requests at once, the second answered first: a SIGKILL while the first is still with the upstream leaves the older sequence whole', async () => {
    await recordOldSequence();
    let release!: () => void;
    let reached!: () => void;
    const atUpstream = new Promise<void>((resolve) => (reached = resolve));
    const until = new Promise<void>((resolve) => (release = resolve));
    let secondSent!: () => void;
    const secondLeft = new Promise<void>((resolve) => (secondSent = resolve));
    let calls = 0;
    upstream = await new FakeUpstream()
      .on('POST', '/v1/chat/completions', async (_request, res) => {
        const n = ++calls;
        if (n === 1) {
          reached();
          await until;
        }
        res.once('finish', () => n === 2 && secondSent());
        sendJson(res, 200, { id: `chatcmpl-new${n}`, object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: `new ${n}` }, finish_reason: 'stop' }] });
      })
      .start();
    const cli = await startCli(['--mode', 'record', '--recordings', dir, '--upstream', upstream.url, '--state-dir', `${dir}.state`]);
    void ask(cli.url).catch(() => undefined);
    await atUpstream;
    const second = ask(cli.url).catch(() => undefined);
    await secondLeft;
    // Occurrence 2's answer has left the upstream: written now, over the older sequence's 2 while its 1 stands, it would
    // also be answered. It must wait for occurrence 1 instead; the cap only lets a wrong build show itself before the kill.
    await Promise.race([second, new Promise((resolve) => setTimeout(resolve, 500))]);
    cli.child.kill('SIGKILL');
    await cli.exited;
    release();
    expect(await sequence()).toEqual([1, 2, 3].map((n) => ({ occurrence: n, answer: `old ${n}` })));
  });
});
