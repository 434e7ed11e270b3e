// The scale scenarios: many recordings, and recordings with long prompts. For each,
// from a fresh start: the time to the first answer, one pass answering from every
// recording (as a test run does), resident memory after it, hit throughput beside a
// server holding ten recordings of the same shape, the first and the steady miss,
// and a mix of one miss in five beside hits only. Every wait is bounded: a server
// that does not answer a miss in time is reported as such, not waited for.
import path from 'node:path';
import { checkAnswers } from './check.js';
import { corpusKeyScheme, promptLengthFor, writeCorpus, type Corpus } from './corpus.js';
import { ask, latency, spawnServer, throughput, timeToFirstAnswer, type Child } from './measure.js';
import type { Bench } from './results.js';
import { settings } from './settings.js';

/** How long a single miss may take before the server is reported as not answering. */
const MISS_TIMEOUT_MS = settings.quick ? 30_000 : 120_000;
const STEADY = settings.quick ? 50 : 200;

export interface Scenario {
  name: 'many' | 'long';
  count: number;
  promptLength: number;
  label: string;
}

export function scenarios(): Scenario[] {
  const { many, long } = settings.scale;
  return [
    { name: 'many', count: many.count, promptLength: promptLengthFor(many.fileBytes), label: `${many.count} recordings of about ${many.fileBytes / 1000} KB` },
    { name: 'long', count: long.count, promptLength: long.promptBytes, label: `${long.count} recordings with ${long.promptBytes / 1000} KB prompts` },
  ];
}

const mb = async (child: Child) => (await child.rss()) / 2 ** 20;

/** The miss report still says the recordings are being read (nearest-recording search not yet complete). */
const STILL_CATALOGUING = /still being catalogued/;

/**
 * Waits (bounded) until a miss is answered with the whole directory searched; resolves
 * with the ms since `startedAt`, or NaN when it did not happen in time.
 */
async function untilCatalogued(child: Child, corpus: Corpus, startedAt: number): Promise<number> {
  const deadline = performance.now() + MISS_TIMEOUT_MS;
  for (let i = 0; performance.now() < deadline; i++) {
    const answer = await ask(child.url, corpus.missBody(corpus.bodies.length - 1 - i), MISS_TIMEOUT_MS);
    if (!STILL_CATALOGUING.test(answer.text)) return performance.now() - startedAt;
    await new Promise((done) => setTimeout(done, 500));
  }
  return NaN;
}

/** Hits only, and one request in five a miss, back to back over the same corpus. */
async function misses(bench: Bench, topic: string, child: Child, corpus: Corpus, startedAt: number): Promise<void> {
  const { results, log } = bench;
  const first = await ask(child.url, corpus.missBody(0), MISS_TIMEOUT_MS).catch((error: Error) => error);
  if (first instanceof Error || first.status !== 404) {
    const why = first instanceof Error ? `${first.message} (after ${MISS_TIMEOUT_MS / 1000} s, or the server died)` : `status ${first.status}`;
    log(`  first miss: ${why}`);
    results.say(topic, `The first miss did not get its 404: ${why}; steady misses and the mix were not measured.`);
    return;
  }
  results.note(`${topic}.miss.first_ms`, [first.ms]);
  results.note(`${topic}.miss.rss_mb`, [await mb(child)]);
  // Each miss is recording i's request with one parameter changed: its report should name recording i.
  if (STILL_CATALOGUING.test(first.text)) results.say(topic, 'The first miss came before the recordings were all catalogued, and its report said so.');
  else if (!first.text.includes(corpus.keys[0]!)) results.say(topic, 'The first miss\'s report did not name the recording it was changed from as the nearest.');
  const catalogued = await untilCatalogued(child, corpus, startedAt);
  results.note(`${topic}.catalogued_ms`, [catalogued]);
  if (!Number.isFinite(catalogued)) results.say(topic, `Misses still said the recordings were being catalogued ${MISS_TIMEOUT_MS / 1000} s on; the steady misses below were measured all the same.`);
  const steady = await latency(child.url, (i) => corpus.missBody(i + 1), STEADY, 1, MISS_TIMEOUT_MS);
  const named = await ask(child.url, corpus.missBody(1), MISS_TIMEOUT_MS);
  if (!named.text.includes(corpus.keys[1]!)) results.say(topic, 'A steady miss\'s report did not name the recording it was changed from as the nearest.');
  const hits = await latency(child.url, (i) => corpus.bodies[(i * 7919) % corpus.bodies.length]!, STEADY, 1, MISS_TIMEOUT_MS);
  results.note(`${topic}.miss.steady_p50_ms`, [steady.p50]);
  results.note(`${topic}.hit.p50_ms`, [hits.p50]);
  results.note(`${topic}.miss.cost_in_hits`, [steady.p50 / hits.p50]);
  log(`  first miss ${first.ms.toFixed(0)} ms, catalogued ${(catalogued / 1000).toFixed(1)} s after start, steady miss p50 ${steady.p50.toFixed(2)} ms, hit p50 ${hits.p50.toFixed(2)} ms`);
  const load = { connections: settings.connections, seconds: settings.seconds, maxSeconds: settings.seconds + MISS_TIMEOUT_MS / 1000 };
  const hitOnly: number[] = [];
  const mixed: number[] = [];
  for (let run = 0; run < settings.runs; run++) {
    hitOnly.push((await throughput(child.url, corpus.bodies, load)).rps);
    mixed.push((await throughput(child.url, (i) => (i % 5 === 4 ? corpus.missBody(i) : corpus.bodies[i % corpus.bodies.length]!), load)).rps);
    log(`  run ${run + 1}: hits only ${hitOnly.at(-1)!.toFixed(0)} req/s, 20% misses ${mixed.at(-1)!.toFixed(0)} req/s`);
  }
  results.note(`${topic}.mix.hits_rps`, hitOnly);
  results.note(`${topic}.mix.rps`, mixed);
  results.note(`${topic}.mix.ratio`, mixed.map((v, i) => v / hitOnly[i]!));
  results.note(`${topic}.mix.rss_mb`, [await mb(child)]);
}

async function scenario(bench: Bench, upstream: string, which: Scenario): Promise<void> {
  const { results, scratch, log } = bench;
  const topic = `scale.${which.name}`;
  log(`scale: ${which.label}`);
  const scheme = await corpusKeyScheme(scratch, upstream);
  const generated = performance.now();
  const corpus = await writeCorpus(path.join(scratch, `corpus-${which.name}`), scheme, which.count, which.promptLength);
  const ten = await writeCorpus(path.join(scratch, `corpus-${which.name}-10`), scheme, 10, which.promptLength);
  results.note(`${topic}.count`, [which.count]);
  results.note(`${topic}.disk_mb`, [corpus.bytes / 2 ** 20]);
  results.note(`${topic}.file_kb`, [corpus.bytes / which.count / 1000]);
  log(`  wrote ${which.count} files, ${(corpus.bytes / 2 ** 20).toFixed(0)} MB, in ${((performance.now() - generated) / 1000).toFixed(1)} s`);

  const spawned = performance.now();
  const started = await timeToFirstAnswer({ role: 'llm-replay', recordings: corpus.dir }, corpus.bodies[0]!);
  const child = started.child;
  try {
    results.note(`${topic}.listen_ms`, [child.startMs]);
    results.note(`${topic}.first_answer_ms`, [started.ms]);
    await checkAnswers('llm-replay', (body) => ask(child.url, body), corpus.bodies, 100);
    // One pass over every recording, as a test run makes: each answer read from its file.
    const pass = await throughput(child.url, corpus.bodies, { connections: settings.connections, amount: which.count, maxSeconds: 900 });
    results.note(`${topic}.first_pass_rps`, [pass.rps]);
    results.note(`${topic}.rss_mb`, [await mb(child)]);
    log(`  first answer ${started.ms.toFixed(0)} ms after start; one pass over all at ${pass.rps.toFixed(0)} req/s; ${(await mb(child)).toFixed(0)} MB resident`);
    if (pass.errors > 0) results.say(topic, `The pass over every recording got ${pass.errors} errors or non-2xx answers.`);

    const small = await spawnServer({ role: 'llm-replay', recordings: ten.dir });
    const load = { connections: settings.connections, seconds: settings.seconds };
    const tenRps: number[] = [];
    const allRps: number[] = [];
    try {
      for (let run = 0; run < settings.runs; run++) {
        tenRps.push((await throughput(small.url, ten.bodies, load)).rps);
        allRps.push((await throughput(child.url, corpus.bodies, load)).rps);
        log(`  run ${run + 1}: 10 recordings ${tenRps.at(-1)!.toFixed(0)} req/s, all ${which.count} ${allRps.at(-1)!.toFixed(0)} req/s`);
      }
    } finally {
      await small.stop();
    }
    results.note(`${topic}.hits10_rps`, tenRps);
    results.note(`${topic}.hits_rps`, allRps);
    results.note(`${topic}.hits_ratio`, allRps.map((v, i) => v / tenRps[i]!));
    await misses(bench, topic, child, corpus, spawned);
  } finally {
    await child.stop();
  }
}

export async function scale(bench: Bench, upstream: string): Promise<void> {
  for (const which of scenarios()) await scenario(bench, upstream, which);
}
