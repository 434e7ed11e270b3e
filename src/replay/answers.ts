// What replay answers with: each recording turned once into the bytes the API sent
// (status, headers, body or stream events) and kept, least recently used first, so
// the common case is answered from memory without an await.
import type { Recording } from '../recordings/recording.js';
import type { RecordingStore } from '../recordings/store.js';
import { prepareModelList, prepareResponse, type PreparedResponse } from './prepare.js';

const CACHE_LIMIT = 4096;

interface Cached {
  promise: Promise<PreparedResponse>;
  /** Set once prepared, for a synchronous answer. */
  value?: PreparedResponse;
}

export class ReplayAnswers {
  private readonly prepared = new Map<string, Cached>();

  constructor(private readonly store: RecordingStore) {
    // A recording written (or rewritten) is prepared afresh on its next use.
    store.onSave((key) => this.prepared.delete(key));
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
    // A broken file is reported on every request until it is fixed, not cached as broken.
    promise.catch(() => this.prepared.delete(key));
    this.remember(key, promise);
    return promise;
  }

  private remember(key: string, promise: Promise<PreparedResponse>): void {
    const entry: Cached = { promise };
    promise.then(
      (value) => (entry.value = value),
      () => undefined,
    );
    this.prepared.set(key, entry);
    if (this.prepared.size > CACHE_LIMIT) {
      const oldest = this.prepared.keys().next().value;
      if (oldest !== undefined) this.prepared.delete(oldest);
    }
  }
}
