// A/B of two recorders, for judging a change to record mode: the benchmark's record
// setup (the same upstream, 4 clients, servers on CPU 0), the two sides answering
// batches of new exchanges in turns, in an order shuffled anew each round, so that the
// machine's noise falls on both alike. What counts is the median over the rounds of
// each round's difference (B - A), in CPU per exchange and in p50 latency: on this kind
// of machine a server's own figures drift by a third from one minute to the next, while
// the paired differences hold steady to a few microseconds.
//
//   npm run bench:ab -- <A> <B>
//
// Each side is `reply-from`, `reply-from-write`, or an llm-replay build: the path of
// its dist/index.js, or `.` for this checkout's, optionally followed by start options
// as JSON (`dist/index.js{"statefulIds":false}`). AB_ROUNDS (12) and AB_BATCH (500)
// set the length. Recordings go to a fresh folder under the system's temp folder,
// removed at the end.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ANSWER, chatBodies, SSE_EVENTS } from './fixtures.js';
import { latency, pinLoadGenerator, spawnServer, type Child } from './measure.js';
import { summarize } from './report.js';
import { shuffled } from './record.js';

const rounds = Number(process.env['AB_ROUNDS'] ?? 12);
const batch = Number(process.env['AB_BATCH'] ?? 500);
const sides = process.argv.slice(2);
if (sides.length !== 2 || !(rounds > 0) || !(batch > 0)) {
  process.stderr.write('usage: npm run bench:ab -- <A> <B>  (each: reply-from, reply-from-write, . or a dist/index.js path, optionally followed by start options as JSON)\n');
  process.exit(2);
}

/** CPU time of every thread of a process, in µs, from schedstat (nanoseconds: /proc/<pid>/stat's 10 ms ticks are coarse for a batch). */
async function threadsCpuOf(pid: number): Promise<number> {
  let ns = 0;
  for (const task of await readdir(`/proc/${pid}/task`)) {
    ns += Number((await readFile(`/proc/${pid}/task/${task}/schedstat`, 'utf8').catch(() => '0')).split(' ')[0]);
  }
  return ns / 1000;
}

function startSide(spec: string, upstream: string, dir: string): Promise<Child> {
  if (spec === 'reply-from') return spawnServer({ role: 'reply-from', upstream });
  if (spec === 'reply-from-write') return spawnServer({ role: 'reply-from', upstream, writeTo: dir });
  const brace = spec.indexOf('{');
  const build = brace < 0 ? spec : spec.slice(0, brace);
  if (build !== '.' && !existsSync(build)) throw new Error(`${spec}: no llm-replay build at ${path.resolve(build)} (give the path of a checkout's dist/index.js, or . for this one)`);
  let options: Record<string, unknown> = {};
  try {
    if (brace >= 0) options = JSON.parse(spec.slice(brace)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${spec}: the start options after the path are not JSON (${(error as Error).message})`);
  }
  return spawnServer({ role: 'llm-replay', mode: 'record', recordings: dir, upstream, options, ...(build === '.' ? {} : { build: path.resolve(build) }) });
}

const scratch = await mkdtemp(path.join(os.tmpdir(), 'llm-replay-ab-'));
process.stderr.write(`${pinLoadGenerator()}; ${rounds} rounds of ${batch} exchanges a side\n`);
const upstream = await spawnServer({ role: 'upstream', json: ANSWER, sse: SSE_EVENTS.slice(-20), pauseMs: 5 });
const servers: Child[] = [];
try {
  for (const [i, spec] of sides.entries()) servers.push(await startSide(spec!, upstream.url, path.join(scratch, `side-${i}`)));
  const bodies = chatBodies((rounds + 2) * batch * 2);
  let taken = 0;
  const take = (n: number) => bodies.slice(taken, (taken += n));
  for (const server of servers) await latency(server.url, take(2 * batch), 2 * batch, 4);
  const cpu: number[][] = [[], []];
  const p50: number[][] = [[], []];
  for (let round = 0; round < rounds; round++) {
    for (const i of shuffled([0, 1], round)) {
      const server = servers[i]!;
      const before = await threadsCpuOf(server.process.pid!);
      const measured = await latency(server.url, take(batch), batch, 4);
      cpu[i]!.push(((await threadsCpuOf(server.process.pid!)) - before) / batch);
      p50[i]!.push(measured.p50);
    }
  }
  const median = (values: number[]) => summarize(values).median;
  const differences = (values: number[][]) => values[1]!.map((b, k) => b - values[0]![k]!);
  for (const [i, spec] of sides.entries()) process.stdout.write(`${i === 0 ? 'A' : 'B'} ${spec}: CPU ${median(cpu[i]!).toFixed(0)} µs per exchange, p50 ${median(p50[i]!).toFixed(3)} ms (medians over the rounds)\n`);
  process.stdout.write(`B - A: CPU ${median(differences(cpu)).toFixed(0)} µs per exchange, p50 ${median(differences(p50)).toFixed(3)} ms (medians of the rounds' differences)\n`);
  process.stdout.write(`each round's CPU difference, µs: ${differences(cpu).map((d) => d.toFixed(0)).join(' ')}\n`);
} finally {
  for (const server of servers) await server.stop();
  await upstream.stop();
  await rm(scratch, { recursive: true, force: true });
}
