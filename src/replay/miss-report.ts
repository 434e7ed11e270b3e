// What a replay miss tells the user: which request missed (key, method, endpoint,
// test id), the nearest recording with a short diff of the two bodies (usually one
// parameter changed), and how to record it. The nearest is found in the catalogue
// (bounded work whatever the corpus); only its body is read from disk, for the diff.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bodyDifferences } from '../json/diff.js';
import { toPlainJson } from '../json/lossless.js';
import type { RequestKey } from '../keys/index.js';
import type { ClientRequest } from '../request/client-request.js';
import { SDK_ROUTE_PREFIXES } from '../request/runner-env.js';
import { signBody } from '../recordings/body-signature.js';
import type { CatalogueEntry, RecordingCatalogue } from '../recordings/catalogue.js';
import { parseRecording } from '../recordings/recording.js';
import { comparableBody, comparableBytes, jsonInBytes, type BytesDescription } from '../recordings/comparable-body.js';
import type { IndexEntry } from '../recordings/recording-index.js';

export interface MissReport {
  message: string;
  key: string;
  /** Which time the test sent the request. */
  occurrence: number;
  method: string;
  endpoint: string;
  testId: string | null;
  nearest?: { file: string; testId: string | null; differences: string[] };
}

const MAX_DIFFERENCES = 8;
/** Reports of recent misses: the same request missing again costs a lookup. */
const REPORT_CACHE_LIMIT = 256;
/**
 * How long a miss waits for the catalogue, which its first one starts: a directory of
 * a few thousand files is read in that time and the report names the nearest for
 * certain; in a larger one it says that a nearer one may exist.
 */
const CATALOGUE_WAIT_MS = 200;
const reportCaches = new WeakMap<RecordingCatalogue, Map<string, { version: number; report: MissReport }>>();

function clip(text: string | undefined): string {
  if (text === undefined) return '(absent)';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function quoted(testId: string | null): string {
  return testId === null ? 'none' : JSON.stringify(testId);
}

/** The differences between the nearest recording's request and this one, read from its file. */
async function differencesFrom(catalogue: RecordingCatalogue, entry: CatalogueEntry, requested: unknown, testId: string | null): Promise<string[]> {
  const file = catalogue.pathOf(entry);
  const recording = parseRecording(await readFile(file, 'utf8'), file, false);
  const recorded = comparableBody(recording.request);
  // Like with like: bytes that are no JSON against a JSON body differ in the whole body, not field by field.
  const differences =
    isBytesDescription(requested) !== isBytesDescription(recorded)
      ? [`body: recorded ${isBytesDescription(recorded) ? describeBytes(recorded) : 'as JSON'}, requested ${isBytesDescription(requested) ? describeBytes(requested) : 'as JSON'}`]
      : bodyDifferences(recorded, requested).map((d) => `${d.path}: recorded ${clip(d.a)}, requested ${clip(d.b)}`);
  if (recording.test_id !== testId) differences.unshift(`test id: recorded ${JSON.stringify(recording.test_id)}, requested ${JSON.stringify(testId)}`);
  return differences;
}

function isBytesDescription(body: unknown): body is BytesDescription {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 1 && 'bytes' in body && typeof (body as BytesDescription).bytes?.sha256 === 'string';
}

function describeBytes({ bytes }: BytesDescription): string {
  return `${bytes.size} bytes${bytes.type ? ` of ${bytes.type}` : ''} that are not JSON`;
}

/**
 * Why a body that looks meant as JSON was keyed by its bytes (malformed JSON, or JSON
 * sent without a JSON content type), said before anything else; undefined otherwise.
 */
function notReadAsJson(client: ClientRequest): string | undefined {
  const { body } = client;
  if (body.kind !== 'bytes' || body.parts) return undefined;
  if (body.invalidJson !== undefined) {
    const type = client.headers['content-type'] === undefined ? 'it had no Content-Type and' : 'its Content-Type says JSON but';
    return `The request body was not read as JSON: ${type} ${body.invalidJson}, so it is keyed by its bytes.`;
  }
  if (jsonInBytes(body.bytes) === undefined) return undefined;
  return `The request body is JSON, but its Content-Type is ${JSON.stringify(body.contentType)}, so it is keyed by its bytes, not as JSON: send it with Content-Type: application/json (curl -d sends application/x-www-form-urlencoded unless given -H 'content-type: application/json').`;
}

const RECORD_IT = 'To record it, run llm-replay with --mode record-if-missing (LLM_REPLAY_MODE=record-if-missing) and give the client its real API key.';

/** Which time the test sent the request, and what is recorded of its key. */
export interface MissedOccurrence {
  occurrence: number;
  recorded: IndexEntry | undefined;
}

/** The request is recorded, but not as often as the test sent it (strict occurrences), or a file in between is missing. */
function occurrenceMiss(client: ClientRequest, key: RequestKey, { occurrence, recorded }: MissedOccurrence): MissReport | undefined {
  if (!recorded || recorded.occurrences.includes(occurrence)) return undefined;
  const last = recorded.occurrences[recorded.occurrences.length - 1] as number;
  const files = recorded.files.map((file) => path.relative(process.cwd(), file));
  const why =
    occurrence > last
      ? `it is recorded ${recorded.files.length === 1 ? 'once' : `${recorded.files.length} times`} (${files.join(', ')}), and with --strict-occurrences a request sent more often than recorded is a miss.`
      : `${recorded.occurrences.length === 1 ? `only occurrence ${recorded.occurrences[0]} is` : `occurrences ${recorded.occurrences.join(', ')} are`} recorded (${files.join(', ')}), not ${occurrence} (an earlier exchange that was not written, a 429 say, leaves its place empty until it is recorded).`;
  const message = [`llm-replay: no recording for occurrence ${occurrence} of ${key.method} ${client.path} in this test (test id: ${quoted(client.testId)}; key ${key.key}): ${why}`, RECORD_IT].join('\n');
  return { message, key: key.key, occurrence, method: key.method, endpoint: key.endpoint, testId: client.testId };
}

/** The same request's endpoint under a route prefix an SDK is pointed through, or without the one it has, when recordings of it exist. */
function underAnotherRoute(catalogue: RecordingCatalogue, method: string, endpoint: string): string | undefined {
  for (const prefix of SDK_ROUTE_PREFIXES) {
    const other = endpoint.startsWith(`${prefix}/`) ? endpoint.slice(prefix.length) : `${prefix}${endpoint}`;
    if (catalogue.holds(method, other)) return other;
  }
  return undefined;
}

async function buildReport(catalogue: RecordingCatalogue, client: ClientRequest, key: RequestKey, occurrence: number): Promise<MissReport> {
  const { body } = client;
  const requested = body.kind === 'bytes' && !body.parts ? comparableBytes(body.bytes, body.contentType) : toPlainJson(key.storedBody());
  const asBytes = notReadAsJson(client);
  const nearest = catalogue.nearest({ method: key.method, endpoint: key.endpoint, testId: client.testId, signature: signBody(requested) });
  const lines = [`llm-replay: no recording for ${key.method} ${client.path} (test id: ${quoted(client.testId)}; key ${key.key}).`];
  if (asBytes) lines.unshift(`llm-replay: ${asBytes}`);
  const report: MissReport = { message: '', key: key.key, occurrence, method: key.method, endpoint: key.endpoint, testId: client.testId };
  if (nearest) {
    const file = path.relative(process.cwd(), catalogue.pathOf(nearest));
    let differences: string[];
    try {
      differences = await differencesFrom(catalogue, nearest, requested, client.testId);
    } catch (error) {
      differences = [`(its file cannot be read: ${(error as Error).message.replace(`${catalogue.pathOf(nearest)}: `, '')})`];
    }
    const shown = differences.slice(0, MAX_DIFFERENCES);
    const more = differences.length - shown.length;
    lines.push(`Nearest recording: ${file} (test id: ${quoted(nearest.testId)}), which differs in:`);
    lines.push(...shown.map((d) => `  ${d}`));
    if (more > 0) lines.push(`  ... and ${more} more`);
    if (differences.length === 0) {
      lines.push(asBytes ? '  nothing in its body: sent as JSON, the request would match it.' : '  nothing visible in method, endpoint, body or test id: the query string or key scheme differs.');
    }
    report.nearest = { file, testId: nearest.testId, differences: shown };
  } else {
    lines.push(`No recording has ${key.method} ${key.endpoint} at all${catalogue.complete ? '' : ' so far'}.`);
    const elsewhere = underAnotherRoute(catalogue, key.method, key.endpoint);
    if (elsewhere !== undefined) {
      lines.push(`Recordings of ${key.method} ${elsewhere} exist: they were made through a route this server does not have, or without one it has. Start it with the routes they were made with (routes in llm-replay.config.json keep them for every run); there is nothing to record again.`);
      report.message = lines.join('\n');
      return report;
    }
  }
  if (!catalogue.complete) {
    const { read, total } = catalogue.progress;
    lines.push(`(The recordings are still being catalogued, ${read} of ${total} files read: a nearer one may exist.)`);
  }
  // A body sent wrongly is mended in the client, not recorded as it is (a malformed one would record the upstream's 400).
  lines.push(asBytes ? `Mend how the client sends the body first (above). Only if these bytes are what the test means to send: ${RECORD_IT.charAt(0).toLowerCase()}${RECORD_IT.slice(1)}` : RECORD_IT);
  report.message = lines.join('\n');
  return report;
}

export async function describeMiss(catalogue: RecordingCatalogue, client: ClientRequest, key: RequestKey, missed: MissedOccurrence, waitMs = CATALOGUE_WAIT_MS): Promise<MissReport> {
  const ofOccurrence = occurrenceMiss(client, key, missed);
  if (ofOccurrence) return ofOccurrence;
  await catalogue.settled(waitMs);
  let cache = reportCaches.get(catalogue);
  if (!cache) reportCaches.set(catalogue, (cache = new Map()));
  const id = `${key.key} ${missed.occurrence} ${client.path} ${JSON.stringify(client.testId)}`;
  const cached = cache.get(id);
  if (cached && cached.version === catalogue.version && catalogue.complete) return cached.report;
  const report = await buildReport(catalogue, client, key, missed.occurrence);
  cache.delete(id);
  cache.set(id, { version: catalogue.version, report });
  if (cache.size > REPORT_CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return report;
}
