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
// set the length, AB_WARM (8000) the exchanges each side answers first, unmeasured (V8
// settles only after some 3,000 on every server here, llm-replay's record path after some 7,000). Recordings go to a fresh folder under the system's temp folder,
// removed at the end.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ANSWER, chatBodies, SSE_EVENTS } from './fixtures.js';
import { latency, pinLoadGenerator, shuffled, spawnServer, threadsCpuOf, type Child } from './measure.js';
import { summarize } from './report.js';

const USAGE = `usage: npm run bench:ab -- <A> <B>
  each side: reply-from, reply-from-write, . (this checkout's build) or the path of an
  llm-replay build's dist/index.js, either optionally followed by start options as JSON
  (.{"statefulIds":false}); AB_ROUNDS (12) and AB_BATCH (500) set the length,
  AB_WARM (8000) the exchanges each side answers unmeasured first`;

/** Exits with the usage and what was wrong, before anything is started. */
function refuse(why: string): never {
  process.stderr.write(`bench:ab: ${why}\n${USAGE}\n`);
  process.exit(2);
}

const rounds = Number(process.env['AB_ROUNDS'] ?? 12);
const batch = Number(process.env['AB_BATCH'] ?? 500);
const warm = Number(process.env['AB_WARM'] ?? 8000);
if (!Number.isInteger(rounds) || rounds < 1) refuse(`AB_ROUNDS must be a whole number of rounds, not ${JSON.stringify(process.env['AB_ROUNDS'])}`);
if (!Number.isInteger(batch) || batch < 1) refuse(`AB_BATCH must be a whole number of exchanges, not ${JSON.stringify(process.env['AB_BATCH'])}`);
if (!Number.isInteger(warm) || warm < 0) refuse(`AB_WARM must be a whole number of exchanges, not ${JSON.stringify(process.env['AB_WARM'])}`);
if (process.argv.length !== 4) refuse(`two sides to compare, not ${process.argv.length - 2}`);

type Side = { kind: 'reply-from' | 'reply-from-write' } | { kind: 'llm-replay'; build?: string; options: Record<string, unknown> };

function sideOf(spec: string): Side {
  if (spec === 'reply-from' || spec === 'reply-from-write') return { kind: spec };
  const brace = spec.indexOf('{');
  const build = brace < 0 ? spec : spec.slice(0, brace);
  if (build !== '.' && !(build.endsWith('.js') && existsSync(build))) refuse(`${spec}: no llm-replay build at ${path.resolve(build)} (give the path of a checkout's dist/index.js, or . for this one)`);
  let options: unknown = {};
  try {
    if (brace >= 0) options = JSON.parse(spec.slice(brace));
  } catch (error) {
    refuse(`${spec}: the start options after the path are not JSON (${(error as Error).message})`);
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) refuse(`${spec}: the start options must be a JSON object`);
  return { kind: 'llm-replay', options: options as Record<string, unknown>, ...(build === '.' ? {} : { build: path.resolve(build) }) };
}

const specs = process.argv.slice(2);
const sides = specs.map(sideOf);

function startSide(side: Side, upstream: string, dir: string): Promise<Child> {
  if (side.kind !== 'llm-replay') return spawnServer({ role: 'reply-from', upstream, ...(side.kind === 'reply-from-write' ? { writeTo: dir } : {}) });
  return spawnServer({ role: 'llm-replay', mode: 'record', recordings: dir, upstream, options: side.options, ...(side.build ? { build: side.build } : {}) });
}

process.stderr.write(`${pinLoadGenerator()}; ${rounds} rounds of ${batch} exchanges a side\n`);
const scratch = await mkdtemp(path.join(os.tmpdir(), 'llm-replay-ab-'));
const servers: Child[] = [];
let upstream: Child | undefined;
try {
  upstream = await spawnServer({ role: 'upstream', json: ANSWER, sse: SSE_EVENTS.slice(-20), pauseMs: 5 });
  for (const [i, side] of sides.entries()) servers.push(await startSide(side, upstream.url, path.join(scratch, `side-${i}`)));
  const bodies = chatBodies((rounds * batch + warm) * 2);
  let taken = 0;
  const take = (n: number) => bodies.slice(taken, (taken += n));
  for (const server of servers) if (warm > 0) await latency(server.url, take(warm), warm, 4);
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
  for (const [i, spec] of specs.entries()) process.stdout.write(`${i === 0 ? 'A' : 'B'} ${spec}: CPU ${median(cpu[i]!).toFixed(0)} µs per exchange, p50 ${median(p50[i]!).toFixed(3)} ms (medians over the rounds)\n`);
  process.stdout.write(`B - A: CPU ${median(differences(cpu)).toFixed(0)} µs per exchange, p50 ${median(differences(p50)).toFixed(3)} ms (medians of the rounds' differences)\n`);
  process.stdout.write(`each round's CPU difference, µs: ${differences(cpu).map((d) => d.toFixed(0)).join(' ')}\n`);
} finally {
  for (const server of servers) await server.stop();
  await upstream?.stop();
  await rm(scratch, { recursive: true, force: true });
}
