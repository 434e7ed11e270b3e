// What replay answers with: each recording turned once into the bytes the API sent
// (status, headers, body or stream events) and kept within a memory budget, so the
// common case is answered from memory without an await. One per occurrence of a key
// (a model list's parts make one answer), cached by recording id.
import { recordingId } from '../recordings/occurrence.js';
import type { Recording } from '../recordings/recording.js';
import type { RecordingStore } from '../recordings/store.js';
import { prepareModelList, prepareResponse, type PreparedResponse } from './prepare.js';

/**
 * How much the prepared answers may hold: bounded by bytes, not by count, so a few
 * very large answers cannot take memory a count would not see, and ten thousand
 * answers of a few kilobytes fit. Beyond that an answer is read from its file
 * again, which costs a few hits.
 */
const CACHE_BYTES = 32 * 2 ** 20;
/** What an answer costs beyond its bytes: the cache entry, the answer and Buffer objects, its headers (about 900 bytes of heap measured). */
const ENTRY_OVERHEAD = 1024;

interface Cached {
  value: PreparedResponse;
  /** What it counts against CACHE_BYTES. */
  bytes: number;
  /** Its place in `slots`. */
  slot: number;
}

function bytesOf(prepared: PreparedResponse): number {
  // A stream's events are views into its whole answer.
  return ENTRY_OVERHEAD + ((prepared.wire ?? prepared.body)?.length ?? 0) + (prepared.events?.length ?? 0) * 96;
}

/**
 * Answers are evicted at random, not least recently used first: a test suite asks for
 * its recordings in the same order every run, and a corpus larger than the budget
 * asked for in order keeps nothing under LRU (each answer is evicted just before its
 * turn comes again), where random eviction keeps about the share that fits. A hit
 * also costs no reordering.
 */
export class ReplayAnswers {
  private readonly prepared = new Map<string, Cached>();
  /** The cached keys, for picking one at random. */
  private readonly slots: string[] = [];
  private bytes = 0;

  constructor(private readonly store: RecordingStore) {
    // A recording written (or rewritten) is prepared afresh on its next use.
    store.onSave((id) => this.forget(id));
  }

  /** The prepared answer for an occurrence of a key when it is already in memory. */
  ready(key: string, occurrence = 1): PreparedResponse | undefined {
    return this.prepared.get(occurrence === 1 ? key : recordingId(key, occurrence))?.value;
  }

  /**
   * The prepared answer for an occurrence of a key, from memory or read from its file
   * now (no await: see RecordingStore.readNow); undefined when it is not recorded.
   * Throws RecordingFileError for a file that cannot be used, which is not cached: it
   * is reported on every request until it is fixed.
   */
  answer(key: string, occurrence = 1): PreparedResponse | undefined {
    const id = occurrence === 1 ? key : recordingId(key, occurrence);
    const cached = this.prepared.get(id);
    if (cached) return cached.value;
    const recordings = this.store.recordingsOf(key, occurrence);
    if (!recordings) return undefined;
    const value = this.store.entry(key)?.modelList ? prepareModelList(recordings) : prepareResponse(recordings[0] as Recording);
    this.remember(id, value);
    return value;
  }

  /** `answer` as a promise (rejected for a file that cannot be used), for the modes that await anyway. */
  lookup(key: string, occurrence = 1): Promise<PreparedResponse> | undefined {
    try {
      const value = this.answer(key, occurrence);
      return value && Promise.resolve(value);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private remember(key: string, value: PreparedResponse): void {
    const entry: Cached = { value, bytes: bytesOf(value), slot: this.slots.length };
    this.prepared.set(key, entry);
    this.slots.push(key);
    this.bytes += entry.bytes;
    this.evict(key);
  }
  private forget(key: string): void {
    const cached = this.prepared.get(key);
    if (!cached) return;
    this.prepared.delete(key);
    this.bytes -= cached.bytes;
    // The last slot moves into the freed one.
    const last = this.slots.pop() as string;
    if (last !== key) {
      this.slots[cached.slot] = last;
      (this.prepared.get(last) as Cached).slot = cached.slot;
    }
  }

  /** Random answers out until the budget holds, never the one just added. */
  private evict(keep: string): void {
    while (this.bytes > CACHE_BYTES && this.slots.length > 1) {
      const victim = this.slots[Math.floor(Math.random() * this.slots.length)] as string;
      if (victim !== keep) this.forget(victim);
    }
  }
}
