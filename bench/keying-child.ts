// Times the public key function on bodies of growing size, in its own process so
// that a body the normaliser takes too long over can be given up on (the parent
// kills this process). Reports each size over IPC as it is done.
import { clientRequest, computeKey, type KeyScheme } from 'llm-replay';
import { chatBodies } from './fixtures.js';

export const SHAPES = ['prose', 'digit-run', 'space-run', 'non-ascii-digit-run'] as const;
export type Shape = (typeof SHAPES)[number];

/** A message text of about `bytes` UTF-8 bytes of the given shape. */
export function textOf(shape: Shape, bytes: number): string {
  switch (shape) {
    case 'prose': {
      const words = 'the first law of thermodynamics says energy is conserved while entropy of a closed system grows 0.5 times'.split(' ');
      const out: string[] = [];
      let length = 0;
      for (let i = 0; length < bytes; i++) {
        const word = words[(i * 7) % words.length]!;
        out.push(word);
        length += word.length + 1;
      }
      return out.join(' ').slice(0, bytes);
    }
    case 'digit-run':
      // A run of digits ending in a '.' that no decimal follows.
      return `${'7'.repeat(Math.max(1, bytes - 2))}.x`;
    case 'space-run':
      // The file-search marker, then a run of spaces that no second marker ends.
      return `attributes: {} ${' '.repeat(Math.max(1, bytes - 17))}x`;
    case 'non-ascii-digit-run':
      // Arabic-Indic digits are two bytes each in UTF-8.
      return `${'\u0663'.repeat(Math.max(1, Math.floor((bytes - 2) / 2)))}.x`;
  }
}

/** The request as the server builds it from the bytes it read (body classified, numbers checked). */
function jsonRequest(text: string) {
  return clientRequest('POST', '/v1/chat/completions', { 'content-type': 'application/json' }, Buffer.from(text));
}

/** µs per key of the replay benchmark's own request (the fixed cost a small body pays). */
function timeRequest(scheme: KeyScheme): number {
  const body = chatBodies(1)[0]!;
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) computeKey(scheme, jsonRequest(body), { upstreamHost: 'api.openai.com' });
    best = Math.min(best, ((performance.now() - started) * 1000) / 20_000);
  }
  return best;
}

if (process.send) {
  const [scheme, shape, sizes] = JSON.parse(process.argv[2] ?? '[]') as [KeyScheme, Shape | 'request', number[]];
  if (shape === 'request') process.send({ requestUs: timeRequest(scheme) });
  else for (const kb of sizes) {
    process.send({ started: kb });
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: textOf(shape, kb * 1024) }] });
    const bytes = Buffer.byteLength(body);
    // The best of five rounds (each at least three keys and a twentieth of a second, at
    // most 300 keys), so that another process or a collection does not pass for growth.
    let ms = Infinity;
    for (let round = 0; round < 5; round++) {
      let reps = 0;
      const started = performance.now();
      while (reps < 300 && (reps < 3 || performance.now() - started < 50)) {
        // Each from a fresh parse of the bytes, as per request.
        computeKey(scheme, jsonRequest(body), { upstreamHost: 'api.openai.com' }).key;
        reps++;
      }
      ms = Math.min(ms, (performance.now() - started) / reps);
    }
    process.send({ kb, bytes, ms, usPerKb: (ms * 1000) / (bytes / 1024) });
  }
  process.disconnect();
}
