// RESULTS.md, results.json and results.svg, made from one run's figures: every table
// cell and every number in the prose comes from the measurements; the prose around
// them says what was measured and how to read it.
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KEY_SCHEMES } from 'llm-replay';
import { aimockVersion } from './aimock.js';
import { SHAPES } from './keying-child.js';
import { fmt, writeChart, type Bar, type Sample } from './report.js';
import type { Results } from './results.js';
import { scenarios } from './scale.js';
import { settings, type Section } from './settings.js';
import { ROUNDS_PER_RUN, WARM_RUNS } from './record.js';

async function versions(): Promise<Record<string, string>> {
  const out: Record<string, string> = { node: process.version };
  for (const name of ['fastify', '@fastify/reply-from', 'undici', 'autocannon', 'talkback']) {
    out[name] = (JSON.parse(await readFile(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  }
  out['@copilotkit/aimock'] = await aimockVersion();
  out['llm-replay'] = (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return out;
}

const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : '**missed**');
const pct = (s: Sample): Sample => ({ median: s.median * 100, min: s.min * 100, max: s.max * 100 });
const measured = (s: Sample) => Number.isFinite(s.median);

export async function writeResults(results: Results, run: { pinning: string; minutes: number }): Promise<void> {
  const r = (name: string) => results.get(name);
  const m = (name: string) => results.median(name);
  const check = (name: string, ok: (v: number) => boolean) => (measured(r(name)) ? ok(m(name)) : undefined);
  const notes = (topic: string) => (results.notes[topic] ? ['', results.notes[topic]!] : []);
  const has = (section: Section) => settings.sections.has(section);
  const v = await versions();
  const cpus = os.cpus();
  const machine = `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}`;
  const sizes = settings.sizes;
  const largest = sizes.at(-1)!;
  const lines: string[] = [
    '# Benchmark results',
    '',
    ...(settings.quick ? ['**Quick mode (BENCH_QUICK=1): one short run of each figure, for development only; these are not the published figures.**', ''] : []),
    `Made by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} in ${run.minutes.toFixed(1)} minutes. Method: every server runs in its own process; ${run.pinning}. Throughput is ${settings.runs} run(s) of ${settings.seconds} s at ${settings.connections} connections per figure, with all connections walking one shared sequence of distinct requests (so a corpus of 10,000 recordings is answered from 10,000 recordings, not from the first few each connection repeats); figures are medians with (min–max) over the runs, and each throughput is compared as a ratio to an anchor measured in the same run, since the absolute figures depend on the machine. CPU per request is the server process's user+system time over a run divided by the requests it answered. Every server is checked, before it is measured, to answer a sample of the requests with the text recorded for each one (each request asks "Question N" and each recorded answer begins "[answer N]"), so no figure comes from a default answer or an error. Every request carries a JSON body and an API key (an authorization header), as every SDK's does. All traffic is on 127.0.0.1. Machine: ${machine}. Versions: ${Object.entries(v).map(([k, x]) => `${k} ${x}`).join(', ')}.`,
    '',
    '![ratios to the anchors](results.svg)',
    '',
  ];

  // The targets at a glance.
  const targets: Array<[string, string, boolean | undefined]> = [];
  // Judged by the lower of the throughput and CPU-per-request ratios (replay.ts, noteRatios).
  const judged = (t: string) => `${fmt(pct(r(`${t}.judged`)))}% (the lower of the two run by run; req/s ${fmt(pct(r(`${t}.ratio`)))}%, CPU per request ${fmt(pct(r(`${t}.cpu_ratio`)))}%)`;
  if (has('replay')) for (const size of sizes) targets.push([`replay at ${size} recordings ≥ 80% of bare Fastify`, judged(`replay.${size}.ours`), check(`replay.${size}.ours.judged`, (x) => x >= 0.8)]);
  if (has('streams')) targets.push(['streams ≥ 70% of bare Fastify', judged('stream.ours'), check('stream.ours.judged', (x) => x >= 0.7)]);
  if (has('record')) targets.push(['record mode adds < 1 ms at p50 over bare reply-from', `${fmt(r('record.ours.added_over_replyfrom_ms'), 3)} ms`, check('record.ours.added_over_replyfrom_ms', (x) => x < 1)]);
  if (has('scale')) {
    for (const s of scenarios()) {
      const t = `scale.${s.name}`;
      targets.push([`${s.label}: first answer within 1 s of start`, `${fmt(r(`${t}.first_answer_ms`))} ms`, check(`${t}.first_answer_ms`, (x) => x <= 1000)]);
      targets.push([`${s.label}: under 300 MB resident after answering from all`, `${fmt(r(`${t}.rss_mb`))} MB`, check(`${t}.rss_mb`, (x) => x < 300)]);
      targets.push([`${s.label}: hits within 10% of 10 recordings`, `${fmt(pct(r(`${t}.hits_ratio`)))}%`, check(`${t}.hits_ratio`, (x) => x >= 0.9)]);
      targets.push([`${s.label}: first miss well under 1 s`, `${fmt(r(`${t}.miss.first_ms`))} ms`, check(`${t}.miss.first_ms`, (x) => x < 1000)]);
      targets.push([`${s.label}: a miss costs no more than a few hits (≤ 5×)`, `${fmt(r(`${t}.miss.cost_in_hits`), 1)}×`, check(`${t}.miss.cost_in_hits`, (x) => x <= 5)]);
    }
  }
  if (has('keys')) {
    for (const scheme of KEY_SCHEMES) {
      const growths = SHAPES.map((shape) => m(`keys.${scheme}.${shape}.growth`));
      const linear = growths.every(Number.isFinite) && !results.notes[`keys.${scheme}`] ? Math.max(...growths) <= 2 : false;
      targets.push([`${scheme} keys: time per KB flat from 1 KB to ${settings.keySizesKb.at(-1)! >= 1000 ? `${settings.keySizesKb.at(-1)! / 1000} MB` : `${settings.keySizesKb.at(-1)} KB`}, adversarial bodies included`, growths.every(Number.isFinite) ? `largest / cheapest µs per KB: ${Math.max(...growths).toFixed(2)}×` : 'some body ran out of time', linear]);
    }
  }
  lines.push('## Targets', '', '| target | measured | |', '| --- | --- | --- |', ...targets.map(([what, value, ok]) => `| ${what} | ${value} | ${verdict(ok)} |`), '');

  if (has('replay')) {
    lines.push(
      '## Replay of non-streaming chat completions',
      '',
      '| recordings | bare Fastify req/s | llm-replay req/s | llm-replay / bare | p50 / p99 ms | CPU µs per request: bare / llm-replay | talkback req/s (/ bare) | aimock req/s (/ bare) |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...sizes.map((size) => {
        const t = `replay.${size}`;
        const peer = (name: string) => (measured(r(`${t}.${name}.rps`)) ? `${fmt(r(`${t}.${name}.rps`))} (${fmt(pct(r(`${t}.${name}.ratio`)), 1)}%)` : 'not measured');
        return `| ${size} | ${fmt(r(`${t}.bare.rps`))} | ${fmt(r(`${t}.ours.rps`))} | ${fmt(pct(r(`${t}.ours.ratio`)))}% | ${fmt(r(`${t}.ours.p50`))} / ${fmt(r(`${t}.ours.p99`))} | ${fmt(r(`${t}.bare.cpu_us`), 1)} / ${fmt(r(`${t}.ours.cpu_us`), 1)} | ${peer('talkback')} | ${peer('aimock')} |`;
      }),
      '',
      `With ${largest} recordings llm-replay answered its first request ${fmt(r(`replay.${largest}.ours.startup_ms`))} ms after it was started, and held ${fmt(r(`replay.${largest}.ours.rss_mb`))} MB resident after the runs${measured(r(`replay.${largest}.aimock.rss_mb`)) ? ` (aimock: ${fmt(r(`replay.${largest}.aimock.rss_mb`))} MB)` : ''}.`,
      ...sizes.flatMap((size) => notes(`replay.${size}`)),
      '',
    );
  }
  if (has('streams')) {
    lines.push(
      '## Replay of streams (about 100 SSE events)',
      '',
      '| | bare Fastify (same SSE bytes) | llm-replay | aimock |',
      '| --- | --- | --- | --- |',
      `| streams/s | ${fmt(r('stream.bare.rps'))} | ${fmt(r('stream.ours.rps'))} (${fmt(pct(r('stream.ours.ratio')))}%) | ${measured(r('stream.aimock.rps')) ? `${fmt(r('stream.aimock.rps'))} (${fmt(pct(r('stream.aimock.ratio')), 1)}%)` : 'not measured'} |`,
      `| server CPU per stream, µs | ${fmt(r('stream.bare.cpu_us'), 1)} | ${fmt(r('stream.ours.cpu_us'), 1)} | ${fmt(r('stream.aimock.cpu_us'), 1)} |`,
      `| time to first byte, ms (p50, one client) | ${fmt(r('stream.bare.ttfb_ms'), 2)} | ${fmt(r('stream.ours.ttfb_ms'), 2)} | ${fmt(r('stream.aimock.ttfb_ms'), 2)} |`,
      ...notes('stream'),
      '',
    );
  }
  if (has('record')) {
    const cell = (name: string, digits: number) => fmt(r(name), digits);
    lines.push(
      '## Record mode',
      '',
      `Latency at p50 with 4 clients, each request a new exchange (non-streaming), after a warm-up of ${WARM_RUNS} runs' worth of exchanges for each server (V8 settles only after some 3,000 exchanges on every server here, bare reply-from included, and llm-replay's CPU per exchange goes on falling until some 7,000). The recorders take turns in short batches (each run is ${ROUNDS_PER_RUN} rounds of a ${ROUNDS_PER_RUN === 4 ? 'quarter' : 'part'} of its requests, in an order shuffled anew each round from a fixed seed), so that noise on the machine falls on all of them alike; the 4-client latencies are medians with (min–max) over the ${settings.runs * ROUNDS_PER_RUN} rounds, each difference taken within a round; CPU per exchange, one-client latency and time to first chunk are medians over the ${settings.runs} runs. Time to the first chunk of a stream whose upstream paces 20 chunks 5 ms apart.`,
      '',
      '| | upstream alone | bare reply-from | reply-from writing each answer to a file | llm-replay (record) | talkback (record, overwrite) | aimock (--record) |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      `| p50 latency, ms | ${cell('record.upstream.p50_ms', 3)} | ${cell('record.replyfrom.p50_ms', 3)} | ${cell('record.replyfromWrite.p50_ms', 3)} | ${cell('record.ours.p50_ms', 3)} | ${cell('record.talkback.p50_ms', 3)} | ${cell('record.aimock.p50_ms', 3)} |`,
      `| added over bare reply-from, ms | | | ${cell('record.replyfromWrite.added_over_replyfrom_ms', 3)} | ${cell('record.ours.added_over_replyfrom_ms', 3)} | ${cell('record.talkback.added_over_replyfrom_ms', 3)} | ${cell('record.aimock.added_over_replyfrom_ms', 3)} |`,
      `| server CPU per exchange, µs | ${cell('record.upstream.cpu_us', 0)} | ${cell('record.replyfrom.cpu_us', 0)} | ${cell('record.replyfromWrite.cpu_us', 0)} | ${cell('record.ours.cpu_us', 0)} | ${cell('record.talkback.cpu_us', 0)} | ${cell('record.aimock.cpu_us', 0)} |`,
      `| p50 latency with one client, ms | ${cell('record.upstream.alone_p50_ms', 3)} | ${cell('record.replyfrom.alone_p50_ms', 3)} | ${cell('record.replyfromWrite.alone_p50_ms', 3)} | ${cell('record.ours.alone_p50_ms', 3)} | | |`,
      `| time to first chunk, ms | ${cell('record.upstream.ttfc_ms', 2)} | ${cell('record.replyfrom.ttfc_ms', 2)} | | ${cell('record.ours.ttfc_ms', 2)} | | |`,
      '',
      `llm-replay adds ${cell('record.ours.added_over_replyfrom_ms', 3)} ms at p50 over bare reply-from (target < 1 ms: ${verdict(check('record.ours.added_over_replyfrom_ms', (x) => x < 1))}), ${cell('record.ours.added_over_replyfrom_write_ms', 3)} ms over the same pass-through writing each answer to a new file, ${cell('record.ours.alone_added_over_replyfrom_ms', 3)} ms over bare reply-from with one client at a time (a suite that waits for each answer before it sends the next), and ${cell('record.ours.ttfc_added_ms', 2)} ms to the first streamed chunk over the upstream alone.`,
      ...notes('record'),
      '',
    );
  }
  if (has('scale')) {
    lines.push(
      '## Scale: many recordings, long prompts',
      '',
      'Each corpus is written straight to disk in the recording format (files named by the key llm-replay computes, checked against a recording made through llm-replay itself), and each recording answers with its own text. From a fresh start: the time to the first answer; one pass asking for every recording once (each answer read from its file, as in a test run); resident memory after that pass; hit throughput over the whole corpus beside a server holding ten recordings of the same shape; the first miss and the median of steady misses (each a recording\'s request with one parameter changed, so that the nearest recording has to be found, and checked to be the one its report names), measured once misses search every recording, beside the median hit with one client; and throughput with one request in five a miss beside hits only.',
      '',
      '| | ' + scenarios().map((s) => s.label).join(' | ') + ' |',
      '| --- | ' + scenarios().map(() => '---').join(' | ') + ' |',
    );
    const row = (label: string, cell: (t: string) => string) => lines.push(`| ${label} | ${scenarios().map((s) => cell(`scale.${s.name}`)).join(' | ')} |`);
    row('on disk', (t) => `${fmt(r(`${t}.disk_mb`))} MB (${fmt(r(`${t}.file_kb`), 1)} KB a file)`);
    row('listening after, ms', (t) => fmt(r(`${t}.listen_ms`)));
    row('first answer after start, ms (target ≤ 1000)', (t) => fmt(r(`${t}.first_answer_ms`)));
    row('one pass over every recording, req/s', (t) => fmt(r(`${t}.first_pass_rps`)));
    row('resident after that pass, MB (target < 300)', (t) => fmt(r(`${t}.rss_mb`)));
    row('hits over all, req/s', (t) => fmt(r(`${t}.hits_rps`)));
    row('hits over 10 recordings of the same shape, req/s', (t) => fmt(r(`${t}.hits10_rps`)));
    row('all / 10 (target ≥ 90%)', (t) => `${fmt(pct(r(`${t}.hits_ratio`)))}%`);
    row('first miss, ms', (t) => fmt(r(`${t}.miss.first_ms`)));
    row('misses search every recording (catalogue complete) after start, s', (t) => fmt({ median: m(`${t}.catalogued_ms`) / 1000, min: r(`${t}.catalogued_ms`).min / 1000, max: r(`${t}.catalogued_ms`).max / 1000 }, 1));
    row('resident after the first miss, MB', (t) => fmt(r(`${t}.miss.rss_mb`)));
    row('steady miss p50 / hit p50, ms (one client)', (t) => `${fmt(r(`${t}.miss.steady_p50_ms`), 2)} / ${fmt(r(`${t}.hit.p50_ms`), 2)} (${fmt(r(`${t}.miss.cost_in_hits`), 1)}×)`);
    row('20% misses, req/s (/ hits only)', (t) => `${fmt(r(`${t}.mix.rps`))} (${fmt(pct(r(`${t}.mix.ratio`)))}%)`);
    row('resident after the mix, MB', (t) => fmt(r(`${t}.mix.rss_mb`)));
    lines.push(...scenarios().flatMap((s) => notes(`scale.${s.name}`)), '');
  }
  if (has('keys')) {
    const sizesKb = settings.keySizesKb;
    const label = (kb: number) => (kb >= 1000 ? `${kb / 1000} MB` : `${kb} KB`);
    lines.push(
      '## Keying: time per KB of body',
      '',
      'The public key function (`computeKey`) on a chat request whose one message is prose, or a string built to make a backtracking normaliser quadratic: a long run of digits ending in a "." with no decimal after it, a long run of spaces after the file-search "attributes:" marker, and a long run of Arabic-Indic digits. Each time includes parsing the body afresh. µs per KB; a body that takes longer than the budget is given up on.',
      '',
      `| scheme | body | ${sizesKb.map(label).join(' | ')} | largest / cheapest from 10 KB |`,
      `| --- | --- | ${sizesKb.map(() => '---').join(' | ')} | --- |`,
      ...KEY_SCHEMES.flatMap((scheme) => SHAPES.map((shape) => `| ${scheme} | ${shape} | ${sizesKb.map((kb) => (measured(r(`keys.${scheme}.${shape}.${kb}`)) ? fmt(r(`keys.${scheme}.${shape}.${kb}`), 2) : 'gave up')).join(' | ')} | ${measured(r(`keys.${scheme}.${shape}.growth`)) ? `${fmt(r(`keys.${scheme}.${shape}.growth`), 2)}×` : 'n/a'} |`)),
      ...KEY_SCHEMES.flatMap((scheme) => notes(`keys.${scheme}`)),
      '',
    );
  }
  lines.push(...readingNotes(results), '');
  await writeFile(path.join(settings.out, 'RESULTS.md'), `${lines.join('\n')}\n`);
  await writeFile(path.join(settings.out, 'results.json'), `${JSON.stringify({ machine, versions: v, settings: { runs: settings.runs, seconds: settings.seconds, connections: settings.connections, quick: settings.quick }, results: results.samples, notes: results.notes }, null, 2)}\n`);
  await writeChart(path.join(settings.out, 'results.svg'), 'Each as a share of its anchor in the same run (higher is better)', bars(results));
}

function bars(results: Results): Bar[] {
  const m = (name: string) => results.median(name);
  const out: Bar[] = [];
  for (const size of settings.sizes) {
    // As the targets are judged: the lower of the req/s and CPU-per-request ratios, run by run.
    const label = `replay, ${size} recordings (lower of req/s, CPU)`;
    out.push({ label, ratio: m(`replay.${size}.ours.judged`), target: 0.8, series: 'llm-replay' });
    out.push({ label, ratio: m(`replay.${size}.talkback.judged`), series: 'talkback' });
    out.push({ label, ratio: m(`replay.${size}.aimock.judged`), series: 'aimock' });
  }
  out.push({ label: 'streams, 100 events (lower of streams/s, CPU)', ratio: m('stream.ours.judged'), target: 0.7, series: 'llm-replay' });
  out.push({ label: 'streams, 100 events (lower of streams/s, CPU)', ratio: m('stream.aimock.judged'), series: 'aimock' });
  for (const name of ['ours', 'talkback', 'aimock'] as const) {
    out.push({ label: 'record p50 latency: reply-from / recorder', ratio: m('record.replyfrom.p50_ms') / m(`record.${name}.p50_ms`), series: name === 'ours' ? 'llm-replay' : name });
  }
  for (const s of scenarios()) {
    out.push({ label: `hits, ${s.label} / 10`, ratio: m(`scale.${s.name}.hits_ratio`), target: 0.9, series: 'llm-replay' });
    out.push({ label: `20% misses / hits only, ${s.label}`, ratio: m(`scale.${s.name}.mix.ratio`), series: 'llm-replay' });
  }
  return out.filter((bar) => Number.isFinite(bar.ratio));
}

/** How to read the figures, with this run's numbers. */
function readingNotes(results: Results): string[] {
  const r = (name: string) => results.get(name);
  const m = (name: string) => results.median(name);
  const size = settings.sizes[0]!;
  const lines = ['## Reading these numbers', ''];
  if (settings.sections.has('replay')) {
    const bare = m(`replay.${size}.bare.cpu_us`);
    const ours = m(`replay.${size}.ours.cpu_us`);
    lines.push(
      `- Where replay's time goes: with ${size} recordings bare Fastify spends ${fmt(r(`replay.${size}.bare.cpu_us`), 1)} µs of CPU per request and llm-replay ${fmt(r(`replay.${size}.ours.cpu_us`), 1)} µs, ${Number.isFinite(bare) && Number.isFinite(ours) ? `${(ours - bare).toFixed(1)} µs more` : 'the difference'}; at 80% of bare the budget is ${Number.isFinite(bare) ? (bare / 0.8 - bare).toFixed(1) : 'n/a'} µs. That difference is what replay does per request beyond answering bytes it holds: reading the body as JSON, keying it (${KEY_SCHEMES.map((scheme) => `${fmt(r(`keys.${scheme}.request_us`), 1)} µs for this request with the ${scheme} scheme`).join(', ')}, measured alone in the keying section), looking the answer up and counting the hit; the rest is the request's way through fastify beside the anchor's one-line route. No cache of raw request bytes stands in front of that (the benchmark repeats requests, a real suite sends each once a run), so these are first-request costs.`,
      '- talkback compares each request with every tape, so its throughput falls as the recordings grow; aimock also walks its fixture list for each request. llm-replay looks the key up, so its figure does not depend on the number of recordings.',
      '- aimock does not replay what was recorded byte for byte, which makes its work per request different from the others\': its record proxy keeps only the answer\'s text (and usage) as a fixture that matches on the last user message (and model), not on the whole request (a request with another temperature, max_tokens or an added system message gets the same answer, and an answer recorded from a stream is served to a non-streaming request); it rebuilds the JSON answer (new id, new created time) for each request, and replays a stream by re-splitting the recorded text into fixed 20-character chunks rather than sending the recorded events (here about 100 events become one per 20 characters). So its throughput is for a looser match and a rebuilt answer; that every sampled request got its own recorded text back is checked all the same.',
    );
  }
  if (settings.sections.has('scale')) {
    lines.push(
      '- Scale: each recording\'s first answer is read from its file (the one pass over every recording measures that); after it, answers are kept in memory within a fixed budget (evicted at random, so a suite asked for in the same order every run still finds the share that fits). A corpus whose answers exceed the budget is answered partly from its files on later passes too, which is what separates "hits over all" from the ten-recording figure. Misses are answered from a catalogue of every recording read in the background after start (the time until it is complete is in the table); until then a miss says that a nearer recording may exist.',
    );
  }
  if (settings.sections.has('record')) {
    lines.push(
      `- Where record mode's time goes: llm-replay holds the end of each answer until its recording is on disk (so that a recording exists once the client has its answer). On this machine creating a recording-sized file under a new name and renaming it into place costs ${fmt(r('record.fs_write_us'))} µs by itself (p50, measured in the same run), and llm-replay's server spends ${fmt(r('record.ours.cpu_us'))} µs of CPU per exchange against bare reply-from's ${fmt(r('record.replyfrom.cpu_us'))} µs and ${fmt(r('record.replyfromWrite.cpu_us'))} µs for reply-from writing each answer to a file (the rest: reading the request and the answer as JSON, the key, the recording's text with its normalised ids and times, the occurrence and journal bookkeeping). With 4 clients on the server's one core, each exchange waits for the others' CPU, so p50 latency grows by a few times each microsecond of CPU per exchange (about as many times as clients wait behind one another); writing the recording after the answer ends would not make that CPU any less. Stream events are passed on as each one completes, after it is parsed for the recording.`,
    );
  }
  lines.push('- On two cores the load generator and the server each have one; the anchors are measured the same way in the same run, so the ratios are what to compare, not the absolute figures.');
  lines.push('- What is left of each missed target, and where the time goes, is written by hand in [GAPS.md](GAPS.md) after a published run (dated there; this file is regenerated, that one is not).');
  return lines;
}
