// `npm run bench`: llm-replay beside its anchors and its peers, measured in one run on
// 127.0.0.1, then RESULTS.md, results.json and results.svg written from the figures.
// Every figure is a median of its runs with min-max, and throughput is compared as a
// ratio to an anchor measured in the same run (settings.ts says how long each is).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ANSWER, SSE_EVENTS } from './fixtures.js';
import { keying } from './keying.js';
import { pinLoadGenerator, spawnServer } from './measure.js';
import { recordMode } from './record.js';
import { replaySizes, replayStreams } from './replay.js';
import { Results, type Bench } from './results.js';
import { writeResults } from './results-md.js';
import { scale } from './scale.js';
import { settings } from './settings.js';

const scratch = await mkdtemp(path.join(os.tmpdir(), 'llm-replay-bench-'));
const pinning = pinLoadGenerator();
const log = (line: string) => process.stderr.write(`${line}\n`);
const bench: Bench = { results: new Results(), scratch, log };
const started = performance.now();

async function main(): Promise<void> {
  const { sections } = settings;
  // The upstream puts each request's marker in its answer, so every replay can be checked against what was recorded.
  const upstream = await spawnServer({ role: 'upstream', json: ANSWER, sse: SSE_EVENTS, pauseMs: 0, echo: true });
  try {
    if (sections.has('replay')) {
      const bare = await spawnServer({ role: 'bare-fastify', body: ANSWER });
      await replaySizes(bench, upstream, bare);
      await bare.stop();
    }
    if (sections.has('streams')) await replayStreams(bench, upstream);
    if (sections.has('record')) await recordMode(bench);
    if (sections.has('scale')) await scale(bench, upstream.url);
    if (sections.has('keys')) await keying(bench);
  } finally {
    await upstream.stop();
  }
}

try {
  await main();
  await mkdir(settings.out, { recursive: true });
  await writeResults(bench.results, { pinning, minutes: (performance.now() - started) / 60_000 });
  log(`results: ${path.join(settings.out, 'RESULTS.md')} (${((performance.now() - started) / 60_000).toFixed(1)} min)`);
} finally {
  await rm(scratch, { recursive: true, force: true });
}
