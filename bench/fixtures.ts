// What the benchmark serves: the seeds' real GPT-5.1 answer and stream, N distinct
// requests for it, and the same exchanges as llm-replay recordings (recorded through
// llm-replay itself) and as talkback tapes.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Pool } from 'undici';
import { startServer } from 'llm-replay';
import { markerFor, withMarker } from './check.js';

interface SeedExchange {
  model: string;
  title: string;
  request: Record<string, unknown>;
  response: unknown;
}

const seeds = JSON.parse(await readFile(new URL('../../test/fixtures/seed-exchanges.json', import.meta.url), 'utf8')) as SeedExchange[];
const find = (title: string) => seeds.find((s) => s.model === 'gpt-5.1-chat' && s.title === title)!;

/** The non-streaming answer, as OpenAI sent it. */
export const ANSWER = JSON.stringify(find('Usage').response);
/** About a hundred stream chunks with OpenAI's framing. */
export const SSE_EVENTS = [...(find('Streaming Response').response as unknown[]).slice(0, 99).map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`), 'data: [DONE]\n\n'];

/** n distinct chat requests (the same question, numbered). */
export function chatBodies(n: number, stream = false): string[] {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({ model: 'openai/gpt-5.1-chat', messages: [{ role: 'user', content: `Question ${i}: what are the three laws of thermodynamics?` }], ...(stream ? { stream: true } : {}) }),
  );
}

/** Sends each body once through `url` with `connections` clients; every answer must be a 200. */
export async function sendEach(name: string, url: string, bodies: string[], connections: number): Promise<void> {
  const pool = new Pool(url, { connections });
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const response = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i] });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`${name}: recording ${i} answered ${response.statusCode}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    await pool.close();
  }
}

/** Records the bodies through llm-replay (record mode) from `upstream` into `dir`. */
export async function recordThrough(dir: string, upstream: string, bodies: string[]): Promise<void> {
  const server = await startServer({ mode: 'record', recordings: dir, upstream, port: 0, logLevel: 'silent', recordTiming: false, statefulIds: false });
  try {
    await sendEach('llm-replay', server.url, bodies, 32);
  } finally {
    await server.close();
  }
}

/** The same exchanges as talkback tapes (its JSON5 format, written as plain JSON). */
export async function writeTapes(dir: string, bodies: string[], answer: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(
    bodies.map((body, i) =>
      writeFile(
        path.join(dir, `tape-${i}.json5`),
        JSON.stringify({
          meta: { createdAt: '2026-01-01T00:00:00.000Z', host: 'http://127.0.0.1', resHumanReadable: true },
          req: { headers: {}, url: '/v1/chat/completions', method: 'POST', body: Buffer.from(JSON.stringify(JSON.parse(body), null, 2)).toString('base64') },
          res: { status: 200, headers: { 'content-type': ['application/json'] }, body: JSON.parse(withMarker(answer, markerFor(body) ?? '')) },
        }),
      ),
    ),
  );
}
