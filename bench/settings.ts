// What `npm run bench` measures and for how long. The full run (the published
// RESULTS.md) takes about eight minutes; BENCH_QUICK=1 is the development
// setting (one short run of each, small corpora, results written under bench/dist/
// so that RESULTS.md is only ever made by a full run). Single settings can be
// overridden by environment variable, e.g. BENCH_QUICK=1 BENCH_CORPUS=full to try
// the full corpus sizes quickly, or BENCH_ONLY=scale,keys for some sections.
const quick = process.env['BENCH_QUICK'] === '1';

function number(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} must be a positive number, not ${JSON.stringify(value)}`);
  return parsed;
}

function list(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback).split(',').map((item) => item.trim()).filter(Boolean);
}

export const SECTIONS = ['replay', 'streams', 'record', 'scale', 'keys'] as const;
export type Section = (typeof SECTIONS)[number];

const fullCorpus = !quick || process.env['BENCH_CORPUS'] === 'full';
const only = list('BENCH_ONLY', SECTIONS.join(','));
for (const name of only) if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`BENCH_ONLY: unknown section ${name} (sections: ${SECTIONS.join(', ')})`);

export const settings = {
  quick,
  /** Runs per figure; each figure is the median of these, with min and max. */
  runs: number('BENCH_RUNS', quick ? 1 : 3),
  /** Length of each throughput run. */
  seconds: number('BENCH_SECONDS', quick ? 1 : 3),
  connections: 50,
  /** Recordings in the replay comparison with the anchors and the peers. */
  sizes: list('BENCH_SIZES', quick ? '10,1000' : '10,1000,10000').map(Number),
  /** The scale scenarios: many small recordings, and fewer with long prompts. */
  scale: {
    many: { count: number('BENCH_SCALE_MANY', fullCorpus ? 100_000 : 5_000), fileBytes: 5_000 },
    long: { count: number('BENCH_SCALE_LONG', fullCorpus ? 10_000 : 1_000), promptBytes: 20_000 },
  },
  /** Body sizes for the key timing, in KB. */
  keySizesKb: list('BENCH_KEY_SIZES', quick ? '1,10,100,1000' : '1,10,100,1000,10000').map(Number),
  sections: new Set(only as Section[]),
  /** Where RESULTS.md, results.json and results.svg go. */
  out: new URL(quick ? './quick/' : '../', import.meta.url).pathname,
};
