// The recordings list the page asks for: filtered on the server and paged by cursor,
// so 10,000 recordings cost the page one screenful. The free-text search reads files,
// a bounded number per page, and stops as soon as the page is full.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRecordingId } from '../../recordings/occurrence.js';
import type { Usage } from '../usage.js';
import type { Facet, ListedRecording, RecordingPage, RecordingRow } from './contract.js';
import type { RowSource } from './recording-rows.js';

export interface RecordingFilter {
  testId?: string;
  endpoint?: string;
  model?: string;
  /** An exact status (404) or a class (4xx). */
  status?: string;
  streaming?: boolean;
  occurrence?: number;
  /** Text anywhere in the file, case-insensitive. */
  text?: string;
  /** Whether this run answered from or wrote it. */
  used?: boolean;
}

/** A text search reads at most this many files, or this many bytes, for one page; this many at once. */
const SCAN_FILES = 2000;
const SCAN_BYTES = 64 * 1024 * 1024;
const SCAN_AT_ONCE = 32;

const contains = (value: string | null, wanted: string | undefined): boolean => wanted === undefined || (value ?? '').toLowerCase().includes(wanted.toLowerCase());

function statusMatches(status: number, wanted: string | undefined): boolean {
  if (wanted === undefined) return true;
  if (/^[1-5]xx$/i.test(wanted)) return Math.floor(status / 100) === Number(wanted[0]);
  return String(status) === wanted;
}

function matches(row: RecordingRow, filter: RecordingFilter, usage: Usage): boolean {
  return (
    contains(row.testId, filter.testId) &&
    contains(row.endpoint, filter.endpoint) &&
    contains(row.model, filter.model) &&
    statusMatches(row.status, filter.status) &&
    (filter.streaming === undefined || row.streaming === filter.streaming) &&
    (filter.occurrence === undefined || row.occurrence === filter.occurrence) &&
    (filter.used === undefined || filter.used === (usage.hits.has(row.key) || usage.recorded.has(row.key)))
  );
}

function facet(rows: RecordingRow[], value: (row: RecordingRow) => string): Facet[] {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(value(row), (counts.get(value(row)) ?? 0) + 1);
  return [...counts].map(([name, count]) => ({ value: name, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
}

const facetCache = new WeakMap<RecordingRow[], RecordingPage['facets']>();

function facetsOf(rows: RecordingRow[]): RecordingPage['facets'] {
  let facets = facetCache.get(rows);
  if (!facets) {
    facets = { endpoints: facet(rows, (row) => row.endpoint), models: facet(rows, (row) => row.model), statuses: facet(rows, (row) => String(row.status)) };
    facetCache.set(rows, facets);
  }
  return facets;
}

interface QueryContext {
  source: RowSource;
  recordingsDir: string;
  usage: Usage;
  lastUsed: ReadonlyMap<string, number>;
}

/** A row as the page gets it: the catalogue's facts (not its body signature) and what this run did with it. */
export function listed(row: RecordingRow & { unreadable?: string }, context: Pick<QueryContext, 'usage' | 'lastUsed'>): ListedRecording {
  const { key, occurrence, file, method, endpoint, model, testId, status, streaming, bytes, mtimeMs, unreadable } = row;
  const lastUsedMs = context.lastUsed.get(key);
  return {
    ...{ key, occurrence, file, method, endpoint, model, testId, status, streaming, bytes, mtimeMs },
    ...(unreadable !== undefined ? { unreadable } : {}),
    ...(lastUsedMs !== undefined ? { lastUsedMs } : {}),
    hits: context.usage.hits.get(key) ?? 0,
    recorded: context.usage.recorded.has(key),
  };
}

/** A file the catalogue could not read, as a row: nothing known of it but its name and why. */
function unreadableRow({ file, reason }: { file: string; reason: string }): RecordingRow & { unreadable: string } {
  const { key, occurrence } = parseRecordingId(path.posix.basename(file, '.json')) ?? { key: '', occurrence: 1 };
  return { key, occurrence, file, method: '', endpoint: '', model: '', testId: null, status: 0, streaming: false, bytes: 0, mtimeMs: 0, unreadable: reason };
}

/** One page of the rows matching `filter`, from `cursor` (a position in the filtered order). */
export async function queryRecordings(context: QueryContext, filter: RecordingFilter, cursor: number, limit: number): Promise<RecordingPage> {
  const all = context.source.rows();
  // Unreadable files first, and only in the unfiltered list: no filter can say anything of them.
  const unreadable = Object.keys(filter).length === 0 ? context.source.unreadable().map(unreadableRow) : [];
  const filtered = [...unreadable, ...all.filter((row) => matches(row, filter, context.usage))];
  const base = { indexing: context.source.progress(), facets: facetsOf(all) };
  if (!filter.text) {
    const rows = filtered.slice(cursor, cursor + limit).map((row) => listed(row, context));
    return { ...base, rows, total: filtered.length, next: cursor + limit < filtered.length ? cursor + limit : null };
  }
  const wanted = filter.text.toLowerCase();
  const rows: ListedRecording[] = [];
  let at = cursor;
  let scanned = 0;
  let bytes = 0;
  const read = (row: RecordingRow) => readFile(path.join(context.recordingsDir, row.file), 'utf8').catch(() => '');
  while (at < filtered.length && rows.length < limit && scanned < SCAN_FILES && bytes < SCAN_BYTES) {
    const batch = filtered.slice(at, at + SCAN_AT_ONCE);
    const texts = await Promise.all(batch.map(read));
    // In order, stopping where the page fills: the cursor resumes right after the last row looked at.
    for (const [i, row] of batch.entries()) {
      if (rows.length === limit) break;
      at++;
      scanned++;
      bytes += row.bytes;
      if (row.key.includes(wanted) || texts[i]!.toLowerCase().includes(wanted)) rows.push(listed(row, context));
    }
  }
  return { ...base, rows, scanned, total: at >= filtered.length && cursor === 0 ? rows.length : null, next: at < filtered.length ? at : null };
}
