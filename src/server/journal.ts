// This run's requests as they arrive, for the inspector page: a bounded ring of what
// each request came to (hit, recorded, miss, fault, forwarded, failed), with test id,
// status and duration, and when each recording was last used. The handler (and the
// fault injector) call `add`; listeners hear of each entry once its answer has ended.
import type { ServerResponse } from 'node:http';
import type { MissReport } from '../replay/miss-report.js';
import type { JournalKind, JournalRecord } from './inspector/contract.js';

export type { JournalKind };

export interface JournalInput {
  kind: JournalKind;
  method: string;
  /** The path the client called. */
  path: string;
  testId: string | null;
  key?: string;
  /** performance.now() when the request arrived: the duration runs from here. */
  startedAt: number;
  /** The answer being sent: the entry is complete (status, duration) when it has ended. */
  response?: Pick<ServerResponse, 'writableEnded' | 'destroyed' | 'statusCode' | 'once'>;
  status?: number;
  /** Why: a miss's diagnostic, a fault's description, why nothing was recorded. */
  message?: string;
  /** The model the request named, on an entry that was not recorded (what a test runner reports of it). */
  model?: string;
  miss?: MissReport;
  /** A miss's request body as the client sent it (JSON), kept for its diff while memory allows. */
  body?: unknown;
  /** The request body's size in bytes, which bounds what the journal keeps. */
  bodyBytes?: number;
}

export interface JournalEntry extends JournalRecord {
  miss?: MissReport;
}

interface Slot {
  entry: JournalEntry;
  body?: { value: unknown; bytes: number };
}

interface JournalOptions {
  /** Entries kept; older ones fall off. */
  capacity?: number;
  /** Bytes of miss request bodies kept; the oldest bodies are dropped first. */
  bodyBudget?: number;
}

export class Journal {
  private readonly slots: Array<Slot | undefined>;
  private readonly capacity: number;
  private readonly bodyBudget: number;
  private next = 1;
  private bodyBytes = 0;
  /** Slots holding a body, oldest first. */
  private readonly withBodies: Slot[] = [];
  private readonly listeners = new Set<(entry: JournalEntry) => void>();
  /** Epoch ms each recording key was last answered from or written, this run. */
  readonly lastUsed = new Map<string, number>();

  constructor(options: JournalOptions = {}) {
    this.capacity = options.capacity ?? 5000;
    this.bodyBudget = options.bodyBudget ?? 16 * 1024 * 1024;
    this.slots = new Array<Slot | undefined>(this.capacity);
  }

  /** The sequence number the next entry gets. */
  get nextSeq(): number {
    return this.next;
  }

  /** Notes a request; returns its entry (complete once its response has ended). */
  add(input: JournalInput): JournalEntry {
    const now = Date.now();
    const entry: JournalEntry = { seq: this.next++, at: now - (performance.now() - input.startedAt), kind: input.kind, method: input.method, path: input.path, testId: input.testId };
    if (input.key !== undefined) entry.key = input.key;
    if (input.message !== undefined) entry.message = input.message;
    if (input.model !== undefined) entry.model = input.model;
    if (input.miss !== undefined) entry.miss = input.miss;
    if (input.key !== undefined && (input.kind === 'hit' || input.kind === 'recorded')) this.lastUsed.set(input.key, now);
    const slot: Slot = { entry };
    this.keep(slot, input);
    const { response } = input;
    // Destroyed: the client hung up before the outcome was known (a stream recorded after it left).
    if (!response || response.writableEnded || response.destroyed) {
      this.complete(entry, input.status ?? response?.statusCode, input.startedAt);
    } else {
      response.once('close', () => this.complete(entry, input.status ?? response.statusCode, input.startedAt));
    }
    return entry;
  }

  private keep(slot: Slot, input: JournalInput): void {
    const index = slot.entry.seq % this.capacity;
    const evicted = this.slots[index];
    if (evicted?.body) this.dropBody(evicted);
    this.slots[index] = slot;
    const bytes = input.bodyBytes ?? 0;
    if (input.body === undefined || bytes > this.bodyBudget) return;
    slot.body = { value: input.body, bytes };
    this.bodyBytes += bytes;
    this.withBodies.push(slot);
    while (this.bodyBytes > this.bodyBudget) this.dropBody(this.withBodies[0]!);
  }

  private dropBody(slot: Slot): void {
    if (!slot.body) return;
    this.bodyBytes -= slot.body.bytes;
    delete slot.body;
    const at = this.withBodies.indexOf(slot);
    if (at >= 0) this.withBodies.splice(at, 1);
  }

  private complete(entry: JournalEntry, status: number | undefined, startedAt: number): void {
    if (status !== undefined) entry.status = status;
    entry.durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
    for (const listener of this.listeners) listener(entry);
  }

  /** Entries still kept, oldest first, with sequence numbers above `after`. */
  entries(after = 0): JournalEntry[] {
    const out: JournalEntry[] = [];
    const first = Math.max(after + 1, this.next - this.capacity);
    for (let seq = first; seq < this.next; seq++) {
      const slot = this.slots[seq % this.capacity];
      if (slot && slot.entry.seq === seq) out.push(slot.entry);
    }
    return out;
  }

  /** One entry by sequence number, while kept. */
  entry(seq: number): JournalEntry | undefined {
    const slot = this.slotOf(seq);
    return slot?.entry;
  }

  /** A miss's request body, while kept: undefined when it is no longer (or never was) kept. */
  bodyOf(seq: number): { value: unknown } | undefined {
    return this.slotOf(seq)?.body;
  }

  private slotOf(seq: number): Slot | undefined {
    if (!Number.isInteger(seq) || seq < 1 || seq >= this.next || seq < this.next - this.capacity) return undefined;
    const slot = this.slots[seq % this.capacity];
    return slot?.entry.seq === seq ? slot : undefined;
  }

  /** Hears of every entry once complete; returns the function that stops it. */
  listen(listener: (entry: JournalEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
