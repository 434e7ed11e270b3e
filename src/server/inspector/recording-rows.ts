// What the inspector lists: one row of metadata per recording file, sorted by test id
// then file. Built in the background the first time the page asks (so a server whose
// page is never opened pays nothing), then kept up to date as recordings are written.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { statusOf, type Recording } from '../../recordings/recording.js';
import type { RecordingStore } from '../../recordings/store.js';
import type { RecordingRow } from './contract.js';

export interface RowSource {
  /** Every row read so far, sorted, recordings just written included. */
  rows(): Promise<RecordingRow[]>;
  /** A row by its file, as `rows()` names it. */
  byFile(file: string): RecordingRow | undefined;
  /** Files read of files known: the list is complete when they are equal. */
  progress(): { done: number; total: number };
}

const CONCURRENCY = 16;

class StoreRows implements RowSource {
  private readonly byKey = new Map<string, RecordingRow[]>();
  private readonly files = new Map<string, RecordingRow>();
  private readonly dirty = new Set<string>();
  private sorted: RecordingRow[] | undefined;

  constructor(private readonly store: RecordingStore) {
    store.onSave((key) => {
      this.dirty.add(key);
      this.sorted = undefined;
    });
    void this.build();
  }

  private async build(): Promise<void> {
    const keys = [...this.store.entries()].map((entry) => entry.key);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) await this.refresh(keys[next++]!);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  /** Re-reads one key's files; a file still being written stays dirty and is tried again. */
  private async refresh(key: string): Promise<void> {
    for (const row of this.byKey.get(key) ?? []) this.files.delete(row.file);
    this.byKey.delete(key);
    const entry = this.store.entry(key);
    if (!entry) {
      this.sorted = undefined;
      return;
    }
    const rows: RecordingRow[] = [];
    for (const file of entry.files) {
      try {
        // Metadata only: a plain parse is enough (and several times cheaper than a recording's full read).
        const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
        const recording = JSON.parse(text) as Recording;
        const { request, response } = recording;
        if (typeof request?.method !== 'string' || response === null || typeof response !== 'object') continue;
        rows.push({
          key,
          occurrence: 1,
          file: path.relative(this.store.dir, file).split(path.sep).join('/'),
          method: request.method,
          endpoint: typeof request.endpoint === 'string' ? request.endpoint : pathOf(request.url),
          model: typeof request.model === 'string' ? request.model : '',
          testId: typeof recording.test_id === 'string' ? recording.test_id : null,
          status: statusOf(response),
          streaming: response.is_streaming === true,
          bytes: info.size,
          mtimeMs: info.mtimeMs,
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.dirty.add(key);
        // A file that cannot be used is reported at start-up and by `verify`; it is not listed.
      }
    }
    this.byKey.set(key, rows);
    for (const row of rows) this.files.set(row.file, row);
    this.sorted = undefined;
  }

  async rows(): Promise<RecordingRow[]> {
    if (this.dirty.size > 0) {
      const keys = [...this.dirty];
      this.dirty.clear();
      await Promise.all(keys.map((key) => this.refresh(key)));
    }
    if (!this.sorted) {
      this.sorted = [...this.files.values()].sort((a, b) => (a.testId ?? '').localeCompare(b.testId ?? '') || a.file.localeCompare(b.file));
    }
    return this.sorted;
  }

  byFile(file: string): RecordingRow | undefined {
    return this.files.get(file);
  }

  progress(): { done: number; total: number } {
    return { done: this.byKey.size, total: Math.max(this.store.size, this.byKey.size) };
  }
}

function pathOf(url: unknown): string {
  try {
    return new URL(String(url)).pathname;
  } catch {
    return String(url ?? '');
  }
}

const sources = new WeakMap<RecordingStore, RowSource>();

/** The rows of a store's recordings (built on first use). */
export function recordingRows(store: RecordingStore): RowSource {
  let source = sources.get(store);
  if (!source) sources.set(store, (source = new StoreRows(store)));
  return source;
}
