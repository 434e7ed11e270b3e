// Record mode: the latency each recorder adds over the upstream alone, beside a bare
// @fastify/reply-from pass-through (the ceiling for a proxy), the same pass-through
// writing each answer to a new file (the least a recorder that keeps files must do),
// talkback and aimock recording the same way, and the time to the first chunk of a paced stream.
import { renameSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { spawnAimock } from './aimock.js';
import { ANSWER, chatBodies, SSE_EVENTS } from './fixtures.js';
import { cpuOf, firstByte, latency, shuffled, spawnServer, type Child } from './measure.js';
import type { Bench } from './results.js';
import { settings } from './settings.js';

const COUNT = settings.quick ? 300 : 1000;
/** Measured one client at a time too. */
const SEQUENTIAL = ['upstream', 'replyfrom', 'replyfromWrite', 'ours'];
const SEQUENTIAL_COUNT = COUNT / 2;
/** Rounds in a run: each recorder answers its count in this many batches, taking turns with the others. */
export const ROUNDS_PER_RUN = 4;
/** The warm-up: this many runs' worth of exchanges (8,000 for llm-replay) before the measured ones. */
export const WARM_RUNS = 8;

/**
 * What the filesystem alone charges for what every recorder must do per exchange:
 * create a recording-sized file beside its target and rename it into place under a new
 * name, as each new recording is (µs, p50).
 */
async function atomicWriteUs(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  const text = ANSWER.repeat(2);
  const times: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const started = performance.now();
    writeFileSync(path.join(dir, `.tmp-${i}`), text, { flag: 'wx' });
    renameSync(path.join(dir, `.tmp-${i}`), path.join(dir, `${i}.json`));
    times.push((performance.now() - started) * 1000);
  }
  return times.sort((a, b) => a - b)[500]!;
}

export async function recordMode(bench: Bench): Promise<void> {
  const { results, scratch, log } = bench;
  log('record mode');
  const paced = await spawnServer({ role: 'upstream', json: ANSWER, sse: SSE_EVENTS.slice(-20), pauseMs: 5 });
  const recorders: Array<{ name: string; child: Child; count: number }> = [
    { name: 'upstream', child: paced, count: COUNT },
    { name: 'replyfrom', child: await spawnServer({ role: 'reply-from', upstream: paced.url }), count: COUNT },
    { name: 'replyfromWrite', child: await spawnServer({ role: 'reply-from', upstream: paced.url, writeTo: path.join(scratch, 'reply-from-written') }), count: COUNT },
    { name: 'ours', child: await spawnServer({ role: 'llm-replay', mode: 'record', recordings: path.join(scratch, 'recorded'), upstream: paced.url }), count: COUNT },
    { name: 'talkback', child: await spawnServer({ role: 'talkback', tapes: path.join(scratch, 'tapes-recorded'), talkbackMode: 'OVERWRITE', upstream: paced.url }), count: COUNT / 5 },
  ];
  try {
    recorders.push({ name: 'aimock', child: await spawnAimock(path.join(scratch, 'aimock-recorded'), paced.url), count: COUNT / 5 });
  } catch (error) {
    results.say('record', `aimock was not measured: ${(error as Error).message}.`);
  }
  // New exchanges each time, as recording is in practice (a re-recording also replaces a file).
  const fresh = chatBodies((settings.runs + WARM_RUNS) * recorders.reduce((sum, r) => sum + r.count, 0) + settings.runs * SEQUENTIAL.length * SEQUENTIAL_COUNT);
  let taken = 0;
  const take = (n: number) => fresh.slice(taken, (taken += n));
  // Each server warmed before it is measured, so that no figure is a compiler's: V8 settles on
  // every server here, bare reply-from too, only after some 3,000 exchanges, and llm-replay's CPU
  // goes on falling until some 7,000 (bench/GAPS.md).
  for (const { child, count } of recorders) await latency(child.url, take(WARM_RUNS * count), WARM_RUNS * count, 4, 60_000);
  const p50 = new Map<string, number[]>();
  const alone = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const ttfc = new Map<string, number[]>();
  const runCpu = new Map<string, number>();
  const push = (map: Map<string, number[]>, name: string, value: number) => map.set(name, [...(map.get(name) ?? []), value]);
  // Each run is ROUNDS_PER_RUN rounds of short batches, the recorders taking turns in an order
  // shuffled anew each round (seeded, so that runs repeat): a burst of noise on the machine falls
  // on one batch of each, not on one recorder's whole run, no recorder always follows the same
  // neighbour (whose after-work, a garbage collection or the page cache's writeback, it would
  // pay for), and each round's differences are between batches a second apart.
  for (let round = 0; round < settings.runs * ROUNDS_PER_RUN; round++) {
    if (round % ROUNDS_PER_RUN === 0) for (const { name, child } of recorders) runCpu.set(name, await cpuOf(child.process.pid!));
    for (const { name, child, count } of shuffled(recorders, round)) {
      const batch = count / ROUNDS_PER_RUN;
      const measured = await latency(child.url, take(batch), batch, 4, 60_000);
      push(p50, name, measured.p50);
    }
    if ((round + 1) % ROUNDS_PER_RUN !== 0) continue;
    // Read once a run (/proc counts CPU in 10 ms ticks, coarse for one batch): a server idles between its own batches, so this is all its work.
    for (const { name, child, count } of recorders) {
      push(cpu, name, ((await cpuOf(child.process.pid!)) - runCpu.get(name)!) / count);
    }
    // One client at a time: what a suite sending its requests one after another waits per exchange.
    for (const { name, child } of recorders.filter((r) => SEQUENTIAL.includes(r.name))) push(alone, name, (await latency(child.url, take(SEQUENTIAL_COUNT), SEQUENTIAL_COUNT, 1, 60_000)).p50);
    const streams = chatBodies(20, true);
    for (const { name, child } of recorders.filter((r) => ['upstream', 'replyfrom', 'ours'].includes(r.name))) push(ttfc, name, (await firstByte(child.url, streams, 40)).ttfb);
    log(`  run ${(round + 1) / ROUNDS_PER_RUN}: p50 of its last round ${[...p50].map(([name, v]) => `${name} ${v.at(-1)!.toFixed(3)}`).join(', ')} ms`);
  }
  const upstream = p50.get('upstream')!;
  const replyFrom = p50.get('replyfrom')!;
  for (const [name, values] of p50) {
    results.note(`record.${name}.p50_ms`, values);
    if (name !== 'upstream') results.note(`record.${name}.added_over_upstream_ms`, values.map((v, i) => v - upstream[i]!));
    if (name !== 'upstream' && name !== 'replyfrom') results.note(`record.${name}.added_over_replyfrom_ms`, values.map((v, i) => v - replyFrom[i]!));
  }
  for (const [name, values] of alone) results.note(`record.${name}.alone_p50_ms`, values);
  results.note('record.ours.alone_added_over_replyfrom_ms', alone.get('ours')!.map((v, i) => v - alone.get('replyfrom')![i]!));
  const replyFromWrite = p50.get('replyfromWrite')!;
  results.note('record.ours.added_over_replyfrom_write_ms', p50.get('ours')!.map((v, i) => v - replyFromWrite[i]!));
  for (const [name, values] of ttfc) results.note(`record.${name}.ttfc_ms`, values);
  for (const [name, values] of cpu) results.note(`record.${name}.cpu_us`, values);
  results.note('record.fs_write_us', [await atomicWriteUs(path.join(scratch, 'write-probe'))]);
  results.note('record.ours.ttfc_added_ms', ttfc.get('ours')!.map((v, i) => v - ttfc.get('upstream')![i]!));
  for (const { child } of recorders) await child.stop();
}
