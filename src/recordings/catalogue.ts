// The catalogue: a few facts about every recording file, read once in the background
// after start-up (never delaying the first answer) and kept up to date as the server
// writes. Bodies are not kept: each entry holds a fixed-size signature of its request
// body instead (body-signature.ts), enough to find the recording nearest to a replay
// miss without reading any file but the one shown.
//
// Interface (for the miss report, the inspector page and the CLI):
//   const catalogue = new RecordingCatalogue(store);   // listens to the store's writes
//   catalogue.build();             // starts reading (once; later calls return the same promise)
//   catalogue.complete             // false until every file has been read
//   catalogue.progress             // { read, total } files so far
//   catalogue.entries()            // every CatalogueEntry, cheap to iterate and filter
//   catalogue.get(file)            // one entry by its path relative to the directory
//   catalogue.problems             // Map of relative file -> why it cannot be used
//   catalogue.nearest(query)       // the nearest entry to a request (same method and endpoint)
//   catalogue.version              // changes whenever an entry is added or replaced
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { signBody, type BodySignature } from './body-signature.js';
import { comparableBody } from './comparable-body.js';
import { NearestIndex, type NearestQuery } from './nearest-index.js';
import { parseRecording, statusOf, type Recording } from './recording.js';
import type { RecordingFacts } from './recording-facts.js';
import type { RecordingStore } from './store.js';

export interface CatalogueEntry extends RecordingFacts {
  /** The request body, summarised in a fixed size for the nearest-recording search. */
  signature: BodySignature;
}

/** Files read at once while building: enough to keep the disk busy, few enough to leave the server room. */
const CONCURRENCY = 8;

function occurrenceOf(recording: Recording): number {
  const value = (recording as unknown as { occurrence?: unknown }).occurrence;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 1;
}

/** Gemini names the model in the path (/v1beta/models/gemini-2.0-flash:generateContent), not the body. */
function modelInPath(endpoint: string): string {
  return /\/models\/([^/:]+)/.exec(endpoint)?.[1] ?? '';
}

export class RecordingCatalogue {
  private readonly byFile = new Map<string, CatalogueEntry>();
  private readonly index = new NearestIndex<CatalogueEntry>();
  /** Files written since start-up: what the build would read of them is older. */
  private readonly written = new Set<string>();
  /** Repeated strings (endpoints, models, test ids) kept once. */
  private readonly strings = new Map<string, string>();
  readonly problems = new Map<string, string>();
  private building: Promise<void> | undefined;
  private done = false;
  private total = 0;
  private read = 0;
  version = 0;

  constructor(private readonly store: RecordingStore) {
    store.onWritten(({ key, file, recording, bytes }) => {
      const relative = this.relative(file);
      this.written.add(relative);
      this.problems.delete(relative);
      this.set(this.entryOf(key, relative, recording, bytes, Date.now()));
    });
    store.onRemoved((file) => {
      const relative = this.relative(file);
      const previous = this.byFile.get(relative);
      if (previous) {
        this.index.remove(previous);
        this.byFile.delete(relative);
        this.version++;
      }
      this.written.add(relative);
    });
  }

  get complete(): boolean {
    return this.done;
  }

  get progress(): { read: number; total: number } {
    if (this.building) return { read: this.read, total: this.total };
    let total = 0;
    for (const entry of this.store.entries()) total += entry.files.length;
    return { read: 0, total };
  }

  get size(): number {
    return this.byFile.size;
  }

  entries(): IterableIterator<CatalogueEntry> {
    return this.byFile.values();
  }

  get(file: string): CatalogueEntry | undefined {
    return this.byFile.get(file);
  }

  /** The entry nearest to a request: same method and endpoint, fewest differing fields, then test id, then likeness. */
  nearest(query: NearestQuery): CatalogueEntry | undefined {
    return this.index.nearest(query);
  }

  /** The absolute path of an entry's file. */
  pathOf(entry: CatalogueEntry): string {
    return path.join(this.store.dir, entry.file);
  }

  /** Reads every file the store indexes, a few at a time; resolves when all are in. */
  build(): Promise<void> {
    this.building ??= this.readAll();
    return this.building;
  }

  private async readAll(): Promise<void> {
    // Walked, not listed: a list of 100,000 entries with their paths would be held for the whole read.
    let total = 0;
    for (const entry of this.store.entries()) total += entry.files.length;
    this.total = total;
    const files = (function* (store: RecordingStore) {
      for (const entry of store.entries()) for (const file of entry.files) yield { key: entry.key, file };
    })(this.store);
    const worker = async () => {
      for (let next = files.next(); !next.done; next = files.next()) {
        await this.readOne(next.value.key, next.value.file);
        this.read++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    this.done = true;
  }

  private async readOne(key: string, file: string): Promise<void> {
    const relative = this.relative(file);
    try {
      const [info, text] = await Promise.all([stat(file), readFile(file, 'utf8')]);
      if (this.written.has(relative)) return;
      this.set(this.entryOf(key, relative, parseRecording(text, file, false), info.size, info.mtimeMs));
    } catch (error) {
      if (this.written.has(relative)) return;
      const code = (error as NodeJS.ErrnoException).code;
      this.problems.set(relative, code ? `cannot be read (${code})` : (error as Error).message.replace(`${file}: `, ''));
    }
  }

  private relative(file: string): string {
    return path.relative(this.store.dir, file).split(path.sep).join('/');
  }

  private intern<T extends string | null>(value: T): T {
    if (value === null) return value;
    let kept = this.strings.get(value);
    if (kept === undefined) this.strings.set(value, (kept = value));
    return kept as T;
  }

  private entryOf(key: string, file: string, recording: Recording, bytes: number, mtimeMs: number): CatalogueEntry {
    const { request, response } = recording;
    return {
      key,
      occurrence: occurrenceOf(recording),
      file,
      method: this.intern(request.method.toUpperCase()),
      endpoint: this.intern(request.endpoint),
      model: this.intern(typeof request.model === 'string' && request.model !== '' ? request.model : modelInPath(request.endpoint)),
      testId: this.intern(recording.test_id),
      status: statusOf(recording.response),
      streaming: response.is_streaming,
      bytes,
      mtimeMs,
      signature: signBody(comparableBody(request)),
    };
  }

  private set(entry: CatalogueEntry): void {
    const previous = this.byFile.get(entry.file);
    if (previous) this.index.remove(previous);
    this.byFile.set(entry.file, entry);
    this.index.add(entry);
    this.version++;
  }
}
