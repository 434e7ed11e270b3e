// One key function: the key the server gives a request (the recording's file name)
// is the key `verify` recomputes from the stored request, for every kind of body the
// server accepts, in both schemes. Seeded random bodies go through a recording
// server; every file it writes must verify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { removeDir, serve, tempDir } from './support/harness.js';
import { mulberry32 } from './support/random.js';
import { verifyRecordings } from '../src/cli/commands/verify.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261124);


interface Body {
  kind: string;
  bytes?: Buffer;
  contentType?: string;
}

/** Bodies of every kind the server accepts, from a seeded generator. */
export function bodyGenerator(seed: number): () => Promise<Body> {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const strings = ['', 'Is 3.141592 bigger than 3.141594?', 'score: 0.95', 'x, attributes: {a: 1}', '<|0a1b2c3d-4e5f-6789-abcd-ef0123456789|>', 'ünï 🙂 \u2028', '١٢.٣٤٥٦٧', '\\"\n\t', '\ud800'];
  const numbers = ['0', '-0', '1', '1.0', '0.7', '0.70', '7e-1', '1E5', '1e400', '-1e400', '1e-400', '12345678901234567890123', '0.1000000000000000000001', '9007199254740993', '3.141592653589793238', '5e-324'];
  const names = ['a', 'b', '__proto__', 'constructor', 'prototype', 'toString', '10', '2', 'é', '🙂', ''];
  const jsonText = (depth: number): string => {
    const kind = depth > 4 ? pick(['s', 'n', 'l']) : pick(['s', 'n', 'l', 'a', 'o', 'o']);
    if (kind === 's') return JSON.stringify(pick(strings));
    if (kind === 'n') return pick(numbers);
    if (kind === 'l') return pick(['true', 'false', 'null']);
    if (kind === 'a') return `[${Array.from({ length: Math.floor(random() * 4) }, () => jsonText(depth + 1)).join(', ')}]`;
    // Duplicate member names happen: JSON.parse and Python keep the last.
    return `{${Array.from({ length: Math.floor(random() * 5) }, () => `${JSON.stringify(pick(names))}: ${jsonText(depth + 1)}`).join(', ')}}`;
  };
  const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
  const json = (text: string, contentType = 'application/json'): Body => ({ kind: 'json', bytes: Buffer.from(text), contentType });
  const kinds: Array<() => Body | Promise<Body>> = [
    () => json(jsonText(0)),
    () => json(`{"model": "m", "messages": [{"role": "user", "content": ${jsonText(3)}}], "temperature": ${pick(numbers)}}`),
    () => json(nested(pick([10, 511, 512, 513, 2000]))),
    () => json(jsonText(0), pick(['text/plain', 'application/x-www-form-urlencoded'])),
    () => json(`{"a": ${pick(numbers)}`),
    async () => {
      const form = new FormData();
      form.append('model', 'whisper-1');
      form.append('temperature', pick(['0.123456789', '0.70', '1e-3', '3.141592']));
      form.append('prompt', pick(strings));
      form.append('file', new Blob([Buffer.from(pick(['RIFF fake audio', 'other bytes', '']))], { type: pick(['audio/wav', 'application/octet-stream']) }), pick(['a.wav', 'b.mp3']));
      const encoded = new Request('http://x/', { method: 'POST', body: form });
      return { kind: 'multipart', bytes: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type') ?? '' };
    },
    () => ({ kind: 'form', bytes: Buffer.from(`a=${pick(numbers)}&b=${encodeURIComponent(pick(strings).replace('\ud800', '?'))}`), contentType: 'application/x-www-form-urlencoded' }),
    () => ({ kind: 'binary', bytes: Buffer.from(Array.from({ length: Math.floor(random() * 64) + 1 }, () => Math.floor(random() * 256))), contentType: 'application/octet-stream' }),
    () => ({ kind: 'binary', bytes: Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), contentType: 'application/json' }),
    () => ({ kind: 'empty' }),
  ];
  return async () => pick(kinds)();
}

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = new FakeUpstream();
  for (const method of ['POST', 'PUT']) upstream.on(method, /.*/, (req, res) => sendJson(res, 200, { got: req.body.length }));
  await upstream.start();
});
afterAll(() => upstream.stop());

describe('the server and verify key every body alike', () => {
  for (const keyScheme of ['default', 'llama-stack'] as const) {
    it(`${keyScheme} scheme (seed ${SEED})`, async () => {
      const dir = await tempDir();
      try {
        const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, keyScheme });
        const next = bodyGenerator(SEED);
        const kinds = new Set<string>();
        for (let i = 0; i < 250; i++) {
          const body = await next();
          kinds.add(body.kind);
          const path = i % 3 === 0 ? '/v1/chat/completions' : '/v1/things';
          const response = await request(`${server.url}${path}?i=${i % 7}`, {
            method: i % 5 === 0 ? 'PUT' : 'POST',
            headers: { ...(body.contentType ? { 'content-type': body.contentType } : {}), ...(i % 2 ? { 'x-test-id': `t${i % 4}` } : {}) },
            ...(body.bytes ? { body: body.bytes } : {}),
          });
          await response.body.text();
          expect(response.statusCode).toBe(200);
        }
        await server.close();
        expect([...kinds].sort()).toEqual(['binary', 'empty', 'form', 'json', 'multipart']);
        const report = await verifyRecordings(dir, keyScheme);
        expect(report.problems).toEqual([]);
        expect(report.ok).toBeGreaterThan(100);
      } finally {
        await removeDir(dir);
      }
    }, 60_000);
  }
});
