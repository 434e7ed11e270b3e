// `list`, `show` and `diff`: what is in a recordings directory, one recording's
// request and answer, and how two recordings' requests differ.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { bodyDifferences } from '../../json/diff.js';
import { LlmReplayError } from '../../errors.js';
import { toPlainJson } from '../../json/lossless.js';
import { statusOf, unwrapTyped, type Recording } from '../../recordings/recording.js';
import { RecordingStore } from '../../recordings/store.js';
import { assembleStream, type AssembledStream } from '../../recordings/assemble.js';

export interface ListedRecording {
  key: string;
  /** Which time its test sent the request (1 for <key>.json). */
  occurrence: number;
  file: string;
  method: string;
  endpoint: string;
  model: string;
  testId: string | null;
  streaming: boolean;
  status: number;
  size: number;
  modified: string;
  /** When it was recorded (`response.origin.recorded_at`), null when the file does not say. */
  recordedAt: string | null;
  /** The upstream host it was recorded against, null when the file does not say. */
  upstream: string | null;
}

interface ListFilter {
  endpoint?: string;
  model?: string;
  testId?: string;
}

function matches(value: string | null, wanted: string | undefined): boolean {
  return wanted === undefined || (value ?? '').includes(wanted);
}

/** The recordings listed, and the files in the directory that are not (unreadable, or not named as a recording), with why. */
export interface RecordingList {
  rows: ListedRecording[];
  notListed: Array<{ file: string; reason: string }>;
}

export async function listRecordings(dir: string, filter: ListFilter, onProgress?: (done: number, total: number) => void): Promise<RecordingList> {
  const store = await RecordingStore.open(dir);
  const files = [...store.filesWithIds()];
  const out: ListedRecording[] = [];
  const notListed = store.skipped.map(({ file, reason }) => ({ file: path.relative(store.dir, file), reason }));
  for (const [i, { key, occurrence, file }] of files.entries()) {
    onProgress?.(i, files.length);
    let recording: Recording;
    try {
      recording = await store.read(file);
    } catch (error) {
      notListed.push({ file: path.relative(store.dir, file), reason: (error as Error).message.replace(`${file}: `, '') });
      continue;
    }
    const { request, response } = recording;
    const listed: ListedRecording = {
      key,
      occurrence,
      file: path.relative(store.dir, file),
      method: request.method,
      endpoint: request.endpoint,
      model: request.model ?? '',
      testId: recording.test_id,
      streaming: response.is_streaming,
      status: statusOf(response),
      size: (await stat(file)).size,
      modified: (await stat(file)).mtime.toISOString(),
      recordedAt: response.origin?.recorded_at ?? null,
      upstream: response.origin?.upstream ?? null,
    };
    if (matches(listed.endpoint, filter.endpoint) && matches(listed.model, filter.model) && matches(listed.testId, filter.testId)) out.push(listed);
  }
  onProgress?.(files.length, files.length);
  const rows = out.sort((a, b) => a.endpoint.localeCompare(b.endpoint) || (a.testId ?? '').localeCompare(b.testId ?? '') || a.key.localeCompare(b.key) || a.occurrence - b.occurrence);
  return { rows, notListed };
}

/** A recording by file path, by key, or by a unique key prefix. */
export async function findRecording(dir: string, which: string): Promise<{ file: string; recording: Recording }> {
  const store = await RecordingStore.open(dir);
  const asFile = path.resolve(which);
  if (which.endsWith('.json')) {
    try {
      return { file: asFile, recording: await store.read(asFile) };
    } catch (error) {
      if ((error as Error).message.includes('cannot be read')) throw new LlmReplayError(`no recording file ${which}`);
      throw error;
    }
  }
  // `<key prefix>` names the first occurrence; `<key>.<n>` a later one.
  const [prefix = '', occurrence = '1'] = which.toLowerCase().split('.');
  const candidates = [...store.entries()].filter((entry) => entry.key.startsWith(prefix));
  if (candidates.length === 0) throw new LlmReplayError(`no recording in ${dir} has a key starting with ${prefix}`);
  if (candidates.length > 1) throw new LlmReplayError(`${candidates.length} recordings have keys starting with ${prefix}; give more of the key`);
  const file = store.fileOf(candidates[0]!.key, Number(occurrence));
  if (file === undefined) throw new LlmReplayError(`${candidates[0]!.key} has no occurrence ${occurrence} (recorded: ${candidates[0]!.occurrences.join(', ')})`);
  return { file, recording: await store.read(file) };
}

export interface ShownRecording {
  file: string;
  testId: string | null;
  request: { method: string; endpoint: string; url: string; model: string; body: unknown };
  response: { status: number; streaming: boolean; body?: unknown; stream?: AssembledStream };
}

export function describeRecording(file: string, recording: Recording): ShownRecording {
  const { request, response } = recording;
  const shown: ShownRecording = {
    file,
    testId: recording.test_id,
    request: { method: request.method, endpoint: request.endpoint, url: request.url, model: request.model ?? '', body: toPlainJson(request.body) },
    response: { status: statusOf(response), streaming: response.is_streaming },
  };
  if (response.is_streaming && Array.isArray(response.body)) shown.response.stream = assembleStream(response.body);
  else shown.response.body = toPlainJson(unwrapTyped(response.is_exception ? (response.exception_data ?? null) : response.body));
  return shown;
}

interface RequestDiff {
  a: string;
  b: string;
  rows: Array<{ field: string; a: string; b: string }>;
}

export function diffRequests(a: { file: string; recording: Recording }, b: { file: string; recording: Recording }): RequestDiff {
  const rows: RequestDiff['rows'] = [];
  const field = (name: string, left: unknown, right: unknown) => {
    const l = JSON.stringify(left);
    const r = JSON.stringify(right);
    if (l !== r) rows.push({ field: name, a: l, b: r });
  };
  field('method', a.recording.request.method, b.recording.request.method);
  field('endpoint', a.recording.request.endpoint, b.recording.request.endpoint);
  field('url', a.recording.request.url, b.recording.request.url);
  field('test_id', a.recording.test_id, b.recording.test_id);
  for (const difference of bodyDifferences(toPlainJson(a.recording.request.body), toPlainJson(b.recording.request.body))) {
    rows.push({ field: difference.path, a: difference.a ?? '(absent)', b: difference.b ?? '(absent)' });
  }
  return { a: a.file, b: b.file, rows };
}
