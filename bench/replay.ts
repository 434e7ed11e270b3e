// Replay beside its anchor and its peers: non-streaming answers at each corpus size,
// and streams of about a hundred events. The anchor is a bare Fastify route answering
// bytes it already holds (the ceiling for replay); the peers are talkback (the
// established Node record/playback proxy) and aimock (the LLM-specific mock server),
// each recorded its own way from the same upstream and checked to answer every
// sampled request with its recorded text before it is measured.
import path from 'node:path';
import { recordThroughAimock, spawnAimock } from './aimock.js';
import { checkAnswers } from './check.js';
import { ANSWER, chatBodies, recordThrough, SSE_EVENTS, writeTapes } from './fixtures.js';
import { ask, firstByte, spawnServer, throughput, timeToFirstAnswer, type Child, type Throughput } from './measure.js';
import type { Bench } from './results.js';
import { settings } from './settings.js';

export type Peer = 'talkback' | 'aimock';

interface Contender {
  name: 'ours' | Peer;
  child: Child;
}

/** Starts a peer and checks it answers with the recorded texts; undefined (and said why) when it cannot be measured. */
async function startChecked(bench: Bench, topic: string, name: Peer, start: () => Promise<Child>, bodies: string[]): Promise<Contender | undefined> {
  let child: Child | undefined;
  try {
    child = await start();
    await checkAnswers(name, (body) => ask(child!.url, body), bodies, 50);
    return { name, child };
  } catch (error) {
    await child?.stop();
    bench.log(`  ${name}: ${(error as Error).message}`);
    bench.results.say(topic, `${name} was not measured: ${(error as Error).message}.`);
    return undefined;
  }
}

export async function replaySizes(bench: Bench, upstream: Child, bare: Child): Promise<void> {
  const { results, scratch, log } = bench;
  for (const size of settings.sizes) {
    log(`replay: ${size} recordings`);
    const bodies = chatBodies(size);
    const dir = path.join(scratch, `recordings-${size}`);
    await recordThrough(dir, upstream.url, bodies);
    const tapes = path.join(scratch, `tapes-${size}`);
    await writeTapes(tapes, bodies, ANSWER);
    const aimockFixtures = await recordThroughAimock(path.join(scratch, `aimock-${size}`), upstream.url, bodies).catch((error: Error) => error);
    const ours = await timeToFirstAnswer({ role: 'llm-replay', recordings: dir }, bodies[0]!);
    await checkAnswers('llm-replay', (body) => ask(ours.child.url, body), bodies, 50);
    const topic = `replay.${size}`;
    const contenders: Contender[] = [{ name: 'ours', child: ours.child }];
    const talkback = await startChecked(bench, topic, 'talkback', () => spawnServer({ role: 'talkback', tapes }, 120_000), bodies);
    if (talkback) contenders.push(talkback);
    const aimock = aimockFixtures instanceof Error
      ? (results.say(topic, `aimock was not measured: recording failed (${aimockFixtures.message}).`), undefined)
      : await startChecked(bench, topic, 'aimock', () => spawnAimock(aimockFixtures), bodies);
    if (aimock) contenders.push(aimock);

    const runs = new Map<string, { rps: number[]; p50: number[]; p99: number[]; cpu: number[]; errors: number }>();
    const add = (name: string, r: Throughput) => {
      const entry = runs.get(name) ?? { rps: [], p50: [], p99: [], cpu: [], errors: 0 };
      entry.rps.push(r.rps);
      entry.cpu.push(r.cpuUs);
      entry.p50.push(r.p50);
      entry.p99.push(r.p99);
      entry.errors += r.errors;
      runs.set(name, entry);
    };
    const load = { connections: settings.connections, seconds: settings.seconds };
    for (let run = 0; run < settings.runs; run++) {
      add('bare', await throughput(bare.url, bodies, { ...load, pid: bare.process.pid! }));
      for (const { name, child } of contenders) add(name, await throughput(child.url, bodies, { ...load, pid: child.process.pid! }));
      log(`  run ${run + 1}: ${[...runs].map(([name, r]) => `${name} ${r.rps.at(-1)!.toFixed(0)}`).join(', ')} req/s`);
    }
    const anchor = runs.get('bare')!;
    for (const [name, r] of runs) {
      results.note(`${topic}.${name}.rps`, r.rps);
      results.note(`${topic}.${name}.p50`, r.p50);
      results.note(`${topic}.${name}.p99`, r.p99);
      results.note(`${topic}.${name}.cpu_us`, r.cpu);
      if (name !== 'bare') noteRatios(results, `${topic}.${name}`, r, anchor);
      if (r.errors > 0) results.say(topic, `${name} answered ${r.errors} requests with an error or a non-2xx status.`);
    }
    results.note(`${topic}.ours.startup_ms`, [ours.ms]);
    results.note(`${topic}.ours.rss_mb`, [(await ours.child.rss()) / 2 ** 20]);
    if (aimock) results.note(`${topic}.aimock.rss_mb`, [(await aimock.child.rss()) / 2 ** 20]);
    for (const { child } of contenders) await child.stop();
  }
}

export async function replayStreams(bench: Bench, upstream: Child): Promise<void> {
  const { results, scratch, log } = bench;
  log('replay: streams');
  const bodies = chatBodies(10, true);
  const dir = path.join(scratch, 'recordings-streams');
  await recordThrough(dir, upstream.url, bodies);
  const aimockFixtures = await recordThroughAimock(path.join(scratch, 'aimock-streams'), upstream.url, bodies).catch((error: Error) => error);
  const bare = await spawnServer({ role: 'bare-fastify', body: SSE_EVENTS.join(''), contentType: 'text/event-stream' });
  const ours = await spawnServer({ role: 'llm-replay', recordings: dir });
  await checkAnswers('llm-replay', (body) => ask(ours.url, body), bodies, 10);
  const contenders: Contender[] = [{ name: 'ours', child: ours }];
  const aimock = aimockFixtures instanceof Error
    ? (results.say('stream', `aimock was not measured: recording failed (${aimockFixtures.message}).`), undefined)
    : await startChecked(bench, 'stream', 'aimock', () => spawnAimock(aimockFixtures), bodies);
  if (aimock) contenders.push(aimock);
  const rps = new Map<string, number[]>();
  const ttfb = new Map<string, number[]>();
  const push = (map: Map<string, number[]>, name: string, value: number) => map.set(name, [...(map.get(name) ?? []), value]);
  const load = { connections: settings.connections, seconds: settings.seconds };
  const cpu = new Map<string, number[]>();
  for (let run = 0; run < settings.runs; run++) {
    for (const { name, child } of [{ name: 'bare', child: bare }, ...contenders]) {
      const measured = await throughput(child.url, bodies, { ...load, pid: child.process.pid! });
      push(rps, name, measured.rps);
      push(cpu, name, measured.cpuUs);
      push(ttfb, name, (await firstByte(child.url, bodies, 200)).ttfb);
    }
    log(`  run ${run + 1}: ${[...rps].map(([name, r]) => `${name} ${r.at(-1)!.toFixed(0)}`).join(', ')} streams/s`);
  }
  const bareRun = { rps: rps.get('bare')!, cpu: cpu.get('bare')! };
  for (const [name, values] of rps) {
    results.note(`stream.${name}.rps`, values);
    results.note(`stream.${name}.cpu_us`, cpu.get(name)!);
    results.note(`stream.${name}.ttfb_ms`, ttfb.get(name)!);
    if (name !== 'bare') noteRatios(results, `stream.${name}`, { rps: values, cpu: cpu.get(name)! }, bareRun);
  }
  for (const child of [bare, ...contenders.map((c) => c.child)]) await child.stop();
}

/**
 * Each run's ratios to the anchor: throughput, CPU per request (the anchor's over this
 * server's), and the lower of the two, by which a target is judged: on two cores the load
 * generator caps throughput near the anchor's, so a server can match its req/s while
 * spending more CPU per request.
 */
function noteRatios(results: Bench['results'], name: string, run: { rps: number[]; cpu: number[] }, anchor: { rps: number[]; cpu: number[] }): void {
  const rps = run.rps.map((v, i) => v / anchor.rps[i]!);
  const cpu = run.cpu.map((v, i) => anchor.cpu[i]! / v);
  results.note(`${name}.ratio`, rps);
  results.note(`${name}.cpu_ratio`, cpu);
  results.note(`${name}.judged`, rps.map((v, i) => Math.min(v, Number.isFinite(cpu[i]) ? cpu[i]! : v)));
}
