// `npm run bench`: llm-replay beside its anchors, measured in one run on 127.0.0.1.
// Every figure is a median of RUNS runs with min-max, and a ratio to an anchor
// measured in the same run: a bare Fastify route answering a precomputed buffer
// (the ceiling for replay), a bare @fastify/reply-from pass-through (the ceiling for
// record mode), and talkback (the established Node record/playback proxy).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chatBodies, recordThrough, ANSWER, SSE_EVENTS, writeTapes } from './fixtures.js';
import { firstByte, latency, pinLoadGenerator, spawnServer, throughput, timeToFirstAnswer, type Child } from './measure.js';
import { fmt, summarize, writeChart, type Bar, type Sample } from './report.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const SIZES = (process.env['BENCH_SIZES'] ?? '10,1000,10000').split(',').map(Number);
const CONNECTIONS = 50;
const OUT = new URL('../', import.meta.url).pathname;

const scratch = await mkdtemp(path.join(os.tmpdir(), 'llm-replay-bench-'));
const pinning = pinLoadGenerator();
const log = (line: string) => process.stderr.write(`${line}\n`);
const results: Record<string, Sample> = {};
const note = (name: string, values: number[]) => (results[name] = summarize(values));

async function main(): Promise<void> {
  const upstream = await spawnServer({ role: 'upstream', json: ANSWER, sse: SSE_EVENTS, pauseMs: 0 });
  const bare = await spawnServer({ role: 'bare-fastify', body: ANSWER });

  // 1 and 3: replay of non-streaming answers at each size, beside bare Fastify and talkback.
  for (const size of SIZES) {
    log(`replay: ${size} recordings`);
    const bodies = chatBodies(size);
    const dir = path.join(scratch, `recordings-${size}`);
    await recordThrough(dir, upstream.url, bodies);
    const tapes = path.join(scratch, `tapes-${size}`);
    await writeTapes(tapes, bodies, ANSWER);
    const ours = await timeToFirstAnswer({ role: 'llm-replay', recordings: dir }, bodies[0]!);
    let talkback: Child | undefined;
    try {
      talkback = await spawnServer({ role: 'talkback', tapes }, 120_000);
    } catch (error) {
      log(`  talkback: ${(error as Error).message}`);
    }
    const runs = { bare: [] as number[], ours: [] as number[], talkback: [] as number[], p50: [] as number[], p99: [] as number[], bareP50: [] as number[], bareP99: [] as number[], errors: 0 };
    for (let run = 0; run < RUNS; run++) {
      const b = await throughput(bare.url, bodies, CONNECTIONS, SECONDS);
      const o = await throughput(ours.child.url, bodies, CONNECTIONS, SECONDS);
      runs.bare.push(b.rps);
      runs.bareP50.push(b.p50);
      runs.bareP99.push(b.p99);
      runs.ours.push(o.rps);
      runs.p50.push(o.p50);
      runs.p99.push(o.p99);
      runs.errors += o.errors;
      if (talkback) runs.talkback.push((await throughput(talkback.url, bodies, CONNECTIONS, SECONDS)).rps);
      log(`  run ${run + 1}: bare ${b.rps.toFixed(0)} req/s, llm-replay ${o.rps.toFixed(0)} req/s${talkback ? `, talkback ${runs.talkback.at(-1)!.toFixed(0)} req/s` : ''}`);
    }
    note(`replay.${size}.bare.rps`, runs.bare);
    note(`replay.${size}.bare.p50`, runs.bareP50);
    note(`replay.${size}.bare.p99`, runs.bareP99);
    note(`replay.${size}.ours.rps`, runs.ours);
    note(`replay.${size}.ours.p50`, runs.p50);
    note(`replay.${size}.ours.p99`, runs.p99);
    note(`replay.${size}.ours.ratio`, runs.ours.map((v, i) => v / runs.bare[i]!));
    note(`replay.${size}.talkback.rps`, runs.talkback);
    note(`replay.${size}.talkback.ratio`, runs.talkback.map((v, i) => v / runs.bare[i]!));
    note(`replay.${size}.startup_ms`, [ours.ms]);
    note(`replay.${size}.rss_mb`, [(await ours.child.rss()) / 1024 / 1024]);
    if (runs.errors > 0) log(`  llm-replay answered ${runs.errors} errors`);
    await ours.child.stop();
    await talkback?.stop();
  }

  // 2: replayed streams of ~100 chunks, beside a bare Fastify route writing the same SSE bytes.
  log('replay: streams');
  const streamBodies = chatBodies(10, true);
  const streamDir = path.join(scratch, 'recordings-streams');
  await recordThrough(streamDir, upstream.url, streamBodies);
  const sseBare = await spawnServer({ role: 'bare-fastify', body: SSE_EVENTS.join(''), contentType: 'text/event-stream' });
  const sseOurs = await spawnServer({ role: 'llm-replay', recordings: streamDir });
  const stream = { bare: [] as number[], ours: [] as number[], bareTtfb: [] as number[], oursTtfb: [] as number[] };
  for (let run = 0; run < RUNS; run++) {
    stream.bare.push((await throughput(sseBare.url, streamBodies, CONNECTIONS, SECONDS)).rps);
    stream.ours.push((await throughput(sseOurs.url, streamBodies, CONNECTIONS, SECONDS)).rps);
    stream.bareTtfb.push((await firstByte(sseBare.url, streamBodies, 200)).ttfb);
    stream.oursTtfb.push((await firstByte(sseOurs.url, streamBodies, 200)).ttfb);
    log(`  run ${run + 1}: bare ${stream.bare.at(-1)!.toFixed(0)} streams/s, llm-replay ${stream.ours.at(-1)!.toFixed(0)} streams/s`);
  }
  note('stream.bare.rps', stream.bare);
  note('stream.ours.rps', stream.ours);
  note('stream.ours.ratio', stream.ours.map((v, i) => v / stream.bare[i]!));
  note('stream.bare.ttfb_ms', stream.bareTtfb);
  note('stream.ours.ttfb_ms', stream.oursTtfb);
  await sseBare.stop();
  await sseOurs.stop();

  // 4: record mode: latency added over the upstream alone, beside bare reply-from and talkback.
  log('record mode');
  const pacedUpstream = await spawnServer({ role: 'upstream', json: ANSWER, sse: SSE_EVENTS.slice(-20), pauseMs: 5 });
  const replyFrom = await spawnServer({ role: 'reply-from', upstream: pacedUpstream.url });
  const recorder = await spawnServer({ role: 'llm-replay', mode: 'record', recordings: path.join(scratch, 'recorded'), upstream: pacedUpstream.url });
  const talkRecorder = await spawnServer({ role: 'talkback', tapes: path.join(scratch, 'tapes-recorded'), talkbackMode: 'OVERWRITE', upstream: pacedUpstream.url });
  // New exchanges each time, as recording is in practice (a re-recording also replaces a file).
  const recordBodies = chatBodies(RUNS * 4 * 1000);
  let taken = 0;
  const fresh = (n: number) => recordBodies.slice(taken, (taken += n));
  const rec = { upstream: [] as number[], replyFrom: [] as number[], ours: [] as number[], talkback: [] as number[], ttfcUp: [] as number[], ttfcRf: [] as number[], ttfcOurs: [] as number[] };
  for (let run = 0; run < RUNS; run++) {
    rec.upstream.push((await latency(pacedUpstream.url, fresh(1000), 1000, 4)).p50);
    rec.replyFrom.push((await latency(replyFrom.url, fresh(1000), 1000, 4)).p50);
    rec.ours.push((await latency(recorder.url, fresh(1000), 1000, 4)).p50);
    rec.talkback.push((await latency(talkRecorder.url, fresh(200), 200, 4)).p50);
    const streams = chatBodies(20, true);
    rec.ttfcUp.push((await firstByte(pacedUpstream.url, streams, 40)).ttfb);
    rec.ttfcRf.push((await firstByte(replyFrom.url, streams, 40)).ttfb);
    rec.ttfcOurs.push((await firstByte(recorder.url, streams, 40)).ttfb);
    log(`  run ${run + 1}: p50 upstream ${rec.upstream.at(-1)!.toFixed(3)} ms, reply-from ${rec.replyFrom.at(-1)!.toFixed(3)} ms, llm-replay ${rec.ours.at(-1)!.toFixed(3)} ms, talkback ${rec.talkback.at(-1)!.toFixed(3)} ms`);
  }
  note('record.upstream.p50_ms', rec.upstream);
  note('record.replyfrom.p50_ms', rec.replyFrom);
  note('record.ours.p50_ms', rec.ours);
  note('record.talkback.p50_ms', rec.talkback);
  note('record.ours.added_over_replyfrom_ms', rec.ours.map((v, i) => v - rec.replyFrom[i]!));
  note('record.ours.added_over_upstream_ms', rec.ours.map((v, i) => v - rec.upstream[i]!));
  note('record.talkback.added_over_upstream_ms', rec.talkback.map((v, i) => v - rec.upstream[i]!));
  note('record.upstream.ttfc_ms', rec.ttfcUp);
  note('record.replyfrom.ttfc_ms', rec.ttfcRf);
  note('record.ours.ttfc_ms', rec.ttfcOurs);
  note('record.ours.ttfc_added_ms', rec.ttfcOurs.map((v, i) => v - rec.ttfcUp[i]!));
  for (const child of [pacedUpstream, replyFrom, recorder, talkRecorder, upstream, bare]) await child.stop();
}

async function versions(): Promise<Record<string, string>> {
  const out: Record<string, string> = { node: process.version };
  for (const name of ['fastify', '@fastify/reply-from', 'undici', 'autocannon', 'talkback']) {
    out[name] = JSON.parse(await readFile(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
  }
  out['llm-replay'] = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version;
  return out;
}

function verdict(ok: boolean): string {
  return ok ? 'met' : '**missed**';
}

async function writeReport(): Promise<void> {
  const v = await versions();
  const cpus = os.cpus();
  const machine = `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}`;
  const r = (name: string) => results[name] ?? { median: NaN, min: NaN, max: NaN };
  const pct = (name: string) => ({ median: r(name).median * 100, min: r(name).min * 100, max: r(name).max * 100 });
  const lines = [
    '# Benchmark results',
    '',
    `Made by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${RUNS} runs of ${SECONDS} s each per figure at ${CONNECTIONS} connections, all on 127.0.0.1 (${pinning}); medians with (min–max). Machine: ${machine}. Versions: ${Object.entries(v).map(([k, x]) => `${k} ${x}`).join(', ')}.`,
    '',
    '![ratios to the anchors](results.svg)',
    '',
    '## Replay of non-streaming chat completions',
    '',
    '| recordings | bare Fastify req/s | llm-replay req/s | llm-replay / bare | p50 / p99 ms | talkback req/s | talkback / bare | target ≥ 80% |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...SIZES.map((size) => `| ${size} | ${fmt(r(`replay.${size}.bare.rps`))} | ${fmt(r(`replay.${size}.ours.rps`))} | ${fmt(pct(`replay.${size}.ours.ratio`))}% | ${fmt(r(`replay.${size}.ours.p50`))} / ${fmt(r(`replay.${size}.ours.p99`))} | ${fmt(r(`replay.${size}.talkback.rps`))} | ${fmt(pct(`replay.${size}.talkback.ratio`), 1)}% | ${verdict(r(`replay.${size}.ours.ratio`).median >= 0.8)} |`),
    '',
    `Requests cycle through all the distinct recordings of each size. Start-up to the first answer with ${SIZES.at(-1)} recordings: ${fmt(r(`replay.${SIZES.at(-1)}.startup_ms`))} ms (target ≤ 1000 ms: ${verdict(r(`replay.${SIZES.at(-1)}.startup_ms`).median <= 1000)}); resident memory after answering from all of them: ${fmt(r(`replay.${SIZES.at(-1)}.rss_mb`))} MB (target < 200 MB: ${verdict(r(`replay.${SIZES.at(-1)}.rss_mb`).median < 200)}).`,
    '',
    '## Replay of streams (100 SSE events)',
    '',
    '| | bare Fastify (same SSE bytes) | llm-replay | ratio | target |',
    '| --- | --- | --- | --- | --- |',
    `| streams/s | ${fmt(r('stream.bare.rps'))} | ${fmt(r('stream.ours.rps'))} | ${fmt(pct('stream.ours.ratio'))}% | ≥ 70%: ${verdict(r('stream.ours.ratio').median >= 0.7)} |`,
    `| time to first byte, ms (p50, one client) | ${fmt(r('stream.bare.ttfb_ms'), 2)} | ${fmt(r('stream.ours.ttfb_ms'), 2)} | | |`,
    '',
    '## Record mode',
    '',
    'Latency at p50 with 4 clients (non-streaming); time to the first chunk of a stream whose upstream paces 20 chunks 5 ms apart.',
    '',
    '| | upstream alone | bare reply-from | llm-replay (record) | talkback (record, overwrite) |',
    '| --- | --- | --- | --- | --- |',
    `| p50 latency, ms | ${fmt(r('record.upstream.p50_ms'), 3)} | ${fmt(r('record.replyfrom.p50_ms'), 3)} | ${fmt(r('record.ours.p50_ms'), 3)} | ${fmt(r('record.talkback.p50_ms'), 3)} |`,
    `| time to first chunk, ms | ${fmt(r('record.upstream.ttfc_ms'), 2)} | ${fmt(r('record.replyfrom.ttfc_ms'), 2)} | ${fmt(r('record.ours.ttfc_ms'), 2)} | |`,
    '',
    `llm-replay adds ${fmt(r('record.ours.added_over_replyfrom_ms'), 3)} ms at p50 over bare reply-from (target < 1 ms: ${verdict(r('record.ours.added_over_replyfrom_ms').median < 1)}) and ${fmt(r('record.ours.ttfc_added_ms'), 2)} ms to the first streamed chunk over the upstream alone (target: no delay).`,
    '',
    '## Reading these numbers',
    '',
    '- The replay anchor answers a buffer it already holds. For every request llm-replay also parses the body, normalises it, writes its canonical text, hashes it with SHA-256, reads the test id and counts the hit: the work that makes keys insensitive to key order and float noise. Measured inside the server this is several microseconds a request, against an anchor that spends about twenty in all, which is where the gap to the 80% target comes from. Keys are computed in one pass (no normalised copy, no second serialisation) and answers already in memory are sent without an await; what is left is the keying itself. A cache of raw request bytes to keys would lift these numbers (the benchmark repeats requests) but not a real suite, which sends each request once a run, so there is none.',
    '- talkback compares each request with every tape, so its throughput falls with the number of recordings; llm-replay looks the key up, so it does not.',
    '- Record mode holds the end of each answer until its recording is on disk (so that a recording exists once the client has its answer): that write is most of what it adds over bare reply-from. Stream events are passed on as each one completes, after it is parsed (and its ids rewritten) for the recording: that parsing is what llm-replay adds to the first chunk over bare reply-from.',
    '- On two cores the load generator and the server share the machine; the anchors are measured the same way in the same run, so the ratios are what to compare, not the absolute figures.',
    '',
  ];
  await writeFile(path.join(OUT, 'RESULTS.md'), `${lines.join('\n')}\n`);
  await writeFile(path.join(OUT, 'results.json'), `${JSON.stringify({ machine, versions: v, runs: RUNS, seconds: SECONDS, results }, null, 2)}\n`);
  const bars: Bar[] = [];
  for (const size of SIZES) {
    bars.push({ label: `replay req/s, ${size} recordings`, ratio: r(`replay.${size}.ours.ratio`).median, target: 0.8, series: 'llm-replay' });
    bars.push({ label: `replay req/s, ${size} recordings`, ratio: r(`replay.${size}.talkback.ratio`).median, series: 'talkback' });
  }
  bars.push({ label: 'streams/s, 100 events', ratio: r('stream.ours.ratio').median, target: 0.7, series: 'llm-replay' });
  bars.push({ label: 'record p50 latency: reply-from / ours', ratio: r('record.replyfrom.p50_ms').median / r('record.ours.p50_ms').median, series: 'llm-replay' });
  bars.push({ label: 'record p50 latency: reply-from / talkback', ratio: r('record.replyfrom.p50_ms').median / r('record.talkback.p50_ms').median, series: 'talkback' });
  await writeChart(path.join(OUT, 'results.svg'), 'llm-replay as a share of its anchor (higher is better)', bars);
}

try {
  await main();
  await writeReport();
  log(`results: ${path.join(OUT, 'RESULTS.md')}`);
} finally {
  await rm(scratch, { recursive: true, force: true });
}
