// The catalogue: a few facts about every recording file, read once in the background
// when first needed (the first miss or inspector query: a replay that never misses
// never reads its directory twice) and kept up to date as the server writes. Bodies are not kept: each entry holds a fixed-size signature of its request
// body instead (body-signature.ts), enough to find the recording nearest to a replay
// miss without reading any file but the one shown. Record mode, which never misses,
// keeps nothing of what it writes until something asks.
//
// Interface (for the miss report, the inspector page and the CLI):
//   const catalogue = new RecordingCatalogue(store);   // listens to the store's writes
//   catalogue.build();             // starts reading (once; later calls return the same promise)
//   catalogue.settled(ms);         // starts reading; resolves when done or after ms, whichever is first
//   catalogue.built                // resolves when a build (started by anyone) is done
//   catalogue.complete             // false until every file has been read
//   catalogue.progress             // { read, total } files so far
//   catalogue.entries()            // every CatalogueEntry, cheap to iterate and filter
//   catalogue.get(file)            // one entry by its path relative to the directory
//   catalogue.problems             // Map of relative file -> why it cannot be used
//   catalogue.nearest(query)       // the nearest entry to a request (same method and endpoint)
//   catalogue.version              // changes whenever an entry is added or replaced
import { readFileSync, statSync } from 'node:fs';
import { setImmediate as yieldToRequests } from 'node:timers/promises';
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

/**
 * How long the build reads files before it lets requests in. Files are read
 * synchronously (a quarter of the CPU of an asynchronous read for small files), in
 * slices this long, so a request waits at most this for the build.
 */
const SLICE_MS = 8;

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
  private markBuilt!: () => void;
  /** Resolves when a build is done, whoever started it. */
  readonly built = new Promise<void>((resolve) => (this.markBuilt = resolve));
  private total = 0;
  private read = 0;
  version = 0;

  constructor(private readonly store: RecordingStore) {
    // Until the build starts, nothing is kept: it reads every file the store then indexes, these among them.
    store.onWritten(({ key, file, recording, bytes }) => {
      if (!this.building) return;
      const relative = this.relative(file);
      this.written.add(relative);
      this.problems.delete(relative);
      this.set(this.entryOf(key, relative, recording, bytes, Date.now()));
    });
    store.onRemoved((file) => {
      if (!this.building) return;
      const relative = this.relative(file);
      this.problems.delete(relative);
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

  /** Files read of files known; asking starts the build (the inspector's first query does). */
  get progress(): { read: number; total: number } {
    this.start();
    return { read: this.read, total: this.total };
  }

  get size(): number {
    return this.byFile.size;
  }

  /** Every entry read so far; asking starts the build. */
  entries(): IterableIterator<CatalogueEntry> {
    this.start();
    return this.byFile.values();
  }

  /** One entry by its relative path, if read so far; asking starts the build. */
  get(file: string): CatalogueEntry | undefined {
    this.start();
    return this.byFile.get(file);
  }

  /** The entry nearest to a request: same method and endpoint, fewest differing fields, then test id, then likeness. */
  nearest(query: NearestQuery): CatalogueEntry | undefined {
    return this.index.nearest(query);
  }

  /** Whether any recording catalogued so far is of this method and endpoint. */
  holds(method: string, endpoint: string): boolean {
    return this.index.holds(method, endpoint);
  }

  /** The absolute path of an entry's file. */
  pathOf(entry: CatalogueEntry): string {
    return path.join(this.store.dir, entry.file);
  }

  /** Reads every file the store indexes, in slices between requests; resolves when all are in. */
  build(): Promise<void> {
    this.building ??= this.readAll();
    return this.building;
  }

  private start(): void {
    if (!this.building) this.build().catch(() => undefined);
  }

  /** Starts the build if it has not started; resolves when it is done or after `waitMs`, whichever comes first. */
  async settled(waitMs: number): Promise<void> {
    const building = this.build();
    if (this.done || waitMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([building.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  private async readAll(): Promise<void> {
    let total = 0;
    for (const entry of this.store.entries()) total += entry.files.length;
    this.total = total;
    // Whoever asked goes on first.
    await yieldToRequests();
    try {
      // Walked, not listed: a list of 100,000 entries with their paths would be held for the whole read.
      let sliceStart = performance.now();
      for (const entry of this.store.entries()) {
        for (const file of entry.files) {
          this.readOne(entry.key, file);
          this.read++;
          if (performance.now() - sliceStart > SLICE_MS) {
            await yieldToRequests();
            sliceStart = performance.now();
          }
        }
      }
      this.done = true;
    } finally {
      this.markBuilt();
    }
  }

  private readOne(key: string, file: string): void {
    const relative = this.relative(file);
    if (this.written.has(relative)) return;
    try {
      const info = statSync(file);
      this.set(this.entryOf(key, relative, parseRecording(readFileSync(file, 'utf8'), file, false), info.size, info.mtimeMs));
    } catch (error) {
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
