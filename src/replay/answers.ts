// What replay answers with: each recording turned once into the bytes the API sent
// (status, headers, body or stream events) and kept, least recently used first, so
// the common case is answered from memory without an await.
import type { Recording } from '../recordings/recording.js';
import type { RecordingStore } from '../recordings/store.js';
import { prepareModelList, prepareResponse, type PreparedResponse } from './prepare.js';

/**
 * How much the prepared answers may hold. Bounded by bytes, not by count: a suite
 * replayed again by a long-lived server (or two test runs against one CI server)
 * then answers each recording from memory instead of its file, up to about
 * 100,000 answers of a kilobyte or two, and a few very large answers cannot take
 * memory a count would not see. Least recently used answers go first.
 */
const CACHE_BYTES = 192 * 2 ** 20;
/** What an answer costs beyond its bytes: the cache entry, the answer object, its headers. */
const ENTRY_OVERHEAD = 512;

interface Cached {
  promise: Promise<PreparedResponse>;
  /** Set once prepared, for a synchronous answer. */
  value?: PreparedResponse;
  /** What it counts against CACHE_BYTES. */
  bytes: number;
}

function bytesOf(prepared: PreparedResponse): number {
  let bytes = ENTRY_OVERHEAD + (prepared.body?.length ?? 0);
  for (const event of prepared.events ?? []) bytes += event.length;
  // A stream's events joined, made on first use, are held as well.
  return prepared.events ? bytes * 2 : bytes;
}

export class ReplayAnswers {
  private readonly prepared = new Map<string, Cached>();
  private bytes = 0;

  constructor(private readonly store: RecordingStore) {
    // A recording written (or rewritten) is prepared afresh on its next use.
    store.onSave((key) => this.forget(key));
  }

  /** The prepared answer for a key when it is already in memory (the replay fast path). */
  ready(key: string): PreparedResponse | undefined {
    const cached = this.prepared.get(key);
    if (cached?.value === undefined) return undefined;
    this.prepared.delete(key);
    this.prepared.set(key, cached);
    return cached.value;
  }

  /** The prepared answer for a key, or undefined when there is no recording. */
  lookup(key: string): Promise<PreparedResponse> | undefined {
    const cached = this.prepared.get(key);
    if (cached) {
      this.prepared.delete(key);
      this.prepared.set(key, cached);
      return cached.promise;
    }
    const recordings = this.store.recordingsOf(key);
    if (!recordings) return undefined;
    const modelList = this.store.entry(key)?.modelList ?? false;
    const promise = recordings.then((loaded) => (modelList ? prepareModelList(loaded) : prepareResponse(loaded[0] as Recording)));
    this.remember(key, promise);
    return promise;
  }

  private remember(key: string, promise: Promise<PreparedResponse>): void {
    const entry: Cached = { promise, bytes: ENTRY_OVERHEAD };
    this.prepared.set(key, entry);
    this.bytes += entry.bytes;
    promise.then(
      (value) => {
        entry.value = value;
        if (this.prepared.get(key) !== entry) return;
        const bytes = bytesOf(value);
        this.bytes += bytes - entry.bytes;
        entry.bytes = bytes;
        this.evict();
      },
      // A broken file is reported on every request until it is fixed, not cached as broken.
      () => {
        if (this.prepared.get(key) === entry) this.forget(key);
      },
    );
    this.evict();
  }

  private forget(key: string): void {
    const cached = this.prepared.get(key);
    if (!cached) return;
    this.prepared.delete(key);
    this.bytes -= cached.bytes;
  }

  /** Least recently used first, keeping at least the newest answer. */
  private evict(): void {
    while (this.bytes > CACHE_BYTES && this.prepared.size > 1) {
      const oldest = this.prepared.keys().next().value;
      if (oldest === undefined) return;
      this.forget(oldest);
    }
  }
}
