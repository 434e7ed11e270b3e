// Keying must be linear in the body: the time per KB of the public key function, for
// each key scheme, from 1 KB to 10 MB, on prose and on strings built to make a
// backtracking normaliser quadratic (long digit runs, long runs of spaces, non-ASCII
// digits). A size that takes longer than the budget is given up on and reported so.
import { KEY_SCHEMES } from 'llm-replay';
import { SHAPES, type Shape } from './keying-child.js';
import { spawnPinned, stopChild } from './measure.js';
import type { Bench } from './results.js';
import { settings } from './settings.js';

const BUDGET_MS = settings.quick ? 10_000 : 30_000;

interface Timing {
  kb: number;
  usPerKb: number;
}

/** µs per key of the replay benchmark's request (best of five rounds), in the same kind of process. */
function timeRequest(scheme: string): Promise<number> {
  const script = new URL('./keying-child.js', import.meta.url).pathname;
  const child = spawnPinned([script, JSON.stringify([scheme, 'request', []])], { ipc: true });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { requestUs: number }) => resolve(message.requestUs));
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`request key timing for ${scheme} exited ${code}`))));
  });
}

/** Times one scheme on one shape at every size; sizes past one that ran out of time are not tried. */
function timeShape(scheme: string, shape: Shape, sizes: number[]): Promise<{ timings: Timing[]; gaveUpAt?: number }> {
  const script = new URL('./keying-child.js', import.meta.url).pathname;
  const child = spawnPinned([script, JSON.stringify([scheme, shape, sizes])], { ipc: true });
  const timings: Timing[] = [];
  return new Promise((resolve, reject) => {
    let current: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    child.on('message', (message: { started?: number; kb?: number; usPerKb?: number }) => {
      clearTimeout(timer);
      if (message.started !== undefined) {
        current = message.started;
        timer = setTimeout(() => void stopChild(child).then(() => resolve({ timings, gaveUpAt: current! })), BUDGET_MS);
      } else if (message.kb !== undefined) {
        timings.push({ kb: message.kb, usPerKb: message.usPerKb! });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return;
      if (code === 0) resolve({ timings });
      else reject(new Error(`key timing for ${scheme}/${shape} exited ${code}`));
    });
  });
}

export async function keying(bench: Bench): Promise<void> {
  const { results, log } = bench;
  log('keying: time per KB');
  const sizes = settings.keySizesKb;
  for (const scheme of KEY_SCHEMES) {
    results.note(`keys.${scheme}.request_us`, [await timeRequest(scheme)]);
    log(`  ${scheme}: ${results.median(`keys.${scheme}.request_us`).toFixed(2)} µs per key of the replay benchmark's request`);
    for (const shape of SHAPES) {
      const { timings, gaveUpAt } = await timeShape(scheme, shape, sizes);
      const topic = `keys.${scheme}.${shape}`;
      for (const { kb, usPerKb } of timings) results.note(`${topic}.${kb}`, [usPerKb]);
      // Linear means the time per KB does not grow with the body: compare the largest size with the cheapest from 10 KB up.
      const from10 = timings.filter((t) => t.kb >= 10).map((t) => t.usPerKb);
      const largest = timings.at(-1);
      if (gaveUpAt === undefined && largest && from10.length > 0) results.note(`${topic}.growth`, [largest.usPerKb / Math.min(...from10)]);
      if (gaveUpAt !== undefined) results.say(`keys.${scheme}`, `${shape}: a ${gaveUpAt} KB body took over ${BUDGET_MS / 1000} s to key, so larger ones were not tried.`);
      log(`  ${scheme} ${shape}: ${timings.map((t) => `${t.kb} KB ${t.usPerKb.toFixed(2)} µs/KB`).join(', ')}${gaveUpAt !== undefined ? `, ${gaveUpAt} KB over ${BUDGET_MS / 1000} s` : ''}`);
    }
  }
}
