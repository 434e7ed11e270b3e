// Large recording directories for the scale scenarios, written straight to disk in
// the recording format (recording 100,000 exchanges through the proxy would take
// longer than measuring them). Each file is named by the key llm-replay computes for
// its request, and each answer carries its request's marker (check.ts) so a check can
// tell the recorded text from any other answer. Whether the files are right is not assumed:
// a sample is recorded through llm-replay itself and must get the same file name
// (corpusKeyScheme), and the scale section checks that a sample is answered with
// each one's recorded text before measuring.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { clientRequest, computeKey, KEY_SCHEMES, type KeyScheme } from 'llm-replay';
import { ANSWER, recordThrough } from './fixtures.js';
import { markerFor } from './check.js';

const ENDPOINT = '/v1/chat/completions';
const MODEL = 'openai/gpt-5.1-chat';
const WORDS = 'the a of energy entropy heat system work temperature closed open state law first second third absolute zero change total internal constant process reversible surroundings engine efficiency gas pressure volume equilibrium measure'.split(' ');

export interface Corpus {
  dir: string;
  /** The request body of each recording, in order. */
  bodies: string[];
  /** The key (file name without .json) of each recording, in order. */
  keys: string[];
  /** A request for nothing recorded: recording i's request with one parameter changed. */
  missBody(i: number): string;
  /** Bytes on disk, all files. */
  bytes: number;
}

/** Prose of `length` characters that differs from one recording to the next. */
function prompt(i: number, length: number): string {
  let seed = (i + 1) * 2654435761;
  let text = `Question ${i}:`;
  while (text.length < length) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    text += ` ${WORDS[seed % WORDS.length]}`;
  }
  return text.slice(0, length);
}

function requestBody(i: number, promptLength: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: MODEL, messages: [{ role: 'user', content: prompt(i, promptLength) }], ...extra };
}

const answer = JSON.parse(ANSWER) as { id: string; choices: Array<{ message: { content: string } }> };

function answerFor(i: number): unknown {
  const first = answer.choices[0]!;
  return { ...answer, id: `chatcmpl-bench-${i}`, choices: [{ ...first, message: { ...first.message, content: `${markerFor(`Question ${i}`)} ${first.message.content}` } }, ...answer.choices.slice(1)] };
}

function keyOf(scheme: KeyScheme, text: string): string {
  const client = clientRequest('POST', ENDPOINT, { 'content-type': 'application/json' }, Buffer.from(text));
  return computeKey(scheme, client, { upstreamHost: '127.0.0.1' }).key;
}

function recordingText(i: number, body: Record<string, unknown>): string {
  const recording = {
    test_id: null,
    request: { method: 'POST', url: `http://127.0.0.1${ENDPOINT}`, headers: {}, body, endpoint: ENDPOINT, model: MODEL },
    response: { body: answerFor(i), is_streaming: false, status: 200, headers: { 'content-type': 'application/json' } },
    id_normalization_mapping: {},
  };
  return `${JSON.stringify(recording, null, 2)}\n`;
}

/**
 * The key scheme a server started with default options files recordings under:
 * a body recorded through llm-replay must land under the name this module computes.
 */
export async function corpusKeyScheme(scratch: string, upstream: string): Promise<KeyScheme> {
  const dir = path.join(scratch, 'corpus-probe');
  const body = JSON.stringify(requestBody(0, 200));
  await recordThrough(dir, upstream, [body]);
  const [file] = (await readdir(dir)).filter((name) => name.endsWith('.json'));
  await rm(dir, { recursive: true, force: true });
  const scheme = KEY_SCHEMES.find((candidate) => `${keyOf(candidate, body)}.json` === file);
  if (!scheme) throw new Error(`a recording made through llm-replay is named ${file}, which no key scheme computes here: the corpus generator is out of date`);
  return scheme;
}

/** The length of the prompt that makes each file about `fileBytes` long. */
export function promptLengthFor(fileBytes: number): number {
  const base = Buffer.byteLength(recordingText(0, requestBody(0, 0)));
  return Math.max(64, fileBytes - base);
}

/** Writes `count` recordings with prompts of `promptLength` characters into `dir`. */
export async function writeCorpus(dir: string, scheme: KeyScheme, count: number, promptLength: number): Promise<Corpus> {
  await mkdir(dir, { recursive: true });
  const bodies: string[] = [];
  const keys: string[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const body = requestBody(i, promptLength);
    const text = JSON.stringify(body);
    bodies.push(text);
    const file = recordingText(i, body);
    bytes += Buffer.byteLength(file);
    // Synchronous: into the page cache one after another is quicker than 100,000 promises.
    const key = keyOf(scheme, text);
    keys.push(key);
    writeFileSync(path.join(dir, `${key}.json`), file);
  }
  const missBody = (i: number) => JSON.stringify(requestBody(i % count, promptLength, { temperature: 0.5 }));
  return { dir, bodies, keys, missBody, bytes };
}
