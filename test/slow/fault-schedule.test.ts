// A seeded fault schedule depends on the seed, the test and the request's occurrence
// only: a server in another process fails the same requests, and another seed others.
// (Slow tier: it starts the built CLI.)
import { describe, expect, it } from 'vitest';
import { startCli } from '../support/cli-process.js';
import { workspace } from '../support/harness.js';
import { seed } from '../support/seeds.js';

const ws = workspace();
const usage = seed('gpt-5.1-chat', 'Usage');

describe('the seeded schedule', () => {
  const RULE = 'status=500;rate=0.4;seed=nightly';

  /** Which of 3 requests x 8 occurrences x 2 tests the server faulted, in order. */
  async function schedule(url: string): Promise<string> {
    const marks: string[] = [];
    for (const testId of ['a.test.ts::one', 'a.test.ts::two']) {
      for (let occurrence = 0; occurrence < 8; occurrence++) {
        for (const n of [1, 2, 3]) marks.push((await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': testId }, body: JSON.stringify({ ...usage.request, n }) })).status === 500 ? 'X' : '.');
      }
    }
    return marks.join('');
  }

  it('fails the same requests of the same tests in two processes, and another seed others', async () => {
    const inProcess = await ws.start({ mode: 'replay', faults: RULE });
    const first = await schedule(inProcess.url);
    expect(first).toMatch(/X/);
    expect(first).toMatch(/\./);
    const child = await startCli(['--recordings', ws.dir, '--state-dir', `${ws.dir}.state`, '--faults', RULE]);
    ws.cleanup.push(async () => {
      child.child.kill('SIGTERM');
      await child.exited;
    });
    expect(await schedule(child.url)).toBe(first);
    const other = await ws.start({ mode: 'replay', faults: RULE.replace('nightly', 'weekly') });
    expect(await schedule(other.url)).not.toBe(first);
  });
});
