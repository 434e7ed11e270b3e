// How many times each test has sent each request, so the n-th identical request gets
// the n-th recorded answer. Counted per run scope (the x-llm-replay-run header, so
// two runs sharing one server keep their own order), test id and key; a test's
// counts start again when it is reset (the vitest helper does it at each test's
// start, other runners call the reset endpoint) and when the server starts. An
// exchange that is not written gives its position back, so the retry that succeeds
// takes it. Every arrival is counted too, given back or not: the n in a fault's
// "on=n" (the n-th time the test sent the request), in the same scope, reset with it.
// Bounded: past POSITIONS_KEPT counts, the tests used longest ago start again.
import type { IndexEntry } from '../recordings/recording-index.js';
import { BoundedScopes } from './scopes.js';

/** Positions taken for one request in one test: the next new one, and any given back. */
class Positions {
  private next = 1;
  /** Made on the first give-back: one is kept for every request a test sent, and most never give one back. */
  private returned: number[] | undefined;
  arrivals = 0;

  take(): number {
    this.arrivals++;
    if (this.returned !== undefined && this.returned.length > 0) return this.returned.shift() as number;
    return this.next++;
  }

  giveBack(position: number): void {
    this.returned ??= [];
    if (position === this.next - 1) {
      this.next--;
      // Given-back positions just below are free at the top now too.
      while (this.returned.length > 0 && this.returned[this.returned.length - 1] === this.next - 1) {
        this.returned.pop();
        this.next--;
      }
      return;
    }
    let at = 0;
    while (at < this.returned.length && (this.returned[at] as number) < position) at++;
    this.returned.splice(at, 0, position);
  }
}

/** Where a request stands: its scope, and which of its identical requests it is (1-based): the occurrence it gets. */
export interface Position {
  run: string;
  testId: string | null;
  key: string;
  occurrence: number;
  /** How many times the test has sent this request, this one included (1-based): a faulted or unwritten one too. */
  arrival: number;
  /** For an exchange that was not written: the next identical request takes this occurrence. */
  giveBack(): void;
}

/** Counts kept in all tests and runs together, a test's own bookkeeping weighing as SCOPE_WEIGHT counts; past it, the tests used longest ago start again. */
const POSITIONS_KEPT = 100_000;
const SCOPE_WEIGHT = 4;

export class OccurrenceCounts {
  /** run -> test id -> key -> positions, bounded (scopes.ts). */
  private readonly scopes: BoundedScopes<Map<string, Positions>>;

  constructor(private readonly budget = POSITIONS_KEPT) {
    this.scopes = new BoundedScopes(budget, (keys) => SCOPE_WEIGHT + keys.size);
  }

  /** How many counts are kept: one per request a test sent in a run, until reset. */
  get size(): number {
    let size = 0;
    for (const [, , keys] of this.scopes.entries()) size += keys.size;
    return size;
  }

  /** The next occurrence of this request in this test and run. */
  take(run: string, testId: string | null, key: string): Position {
    const fresh = this.scopes.get(run, testId) === undefined;
    const keys = this.scopes.ensure(run, testId, () => new Map());
    if (fresh) this.scopes.weigh(keys, SCOPE_WEIGHT);
    let positions = keys.get(key);
    if (!positions) {
      keys.set(key, (positions = new Positions()));
      this.scopes.weigh(keys, 1);
      // One test alone past the budget: its oldest request starts again.
      if (keys.size > this.budget) {
        keys.delete(keys.keys().next().value as string);
        this.scopes.weigh(keys, -1);
      }
    }
    const counter = positions;
    const occurrence = counter.take();
    // Given back to the counter it came from: after a reset it no longer matters.
    return { run, testId, key, occurrence, arrival: counter.arrivals, giveBack: () => counter.giveBack(occurrence) };
  }

  /**
   * Starts counts again: of one test (\`testId\`; null for requests without one) and/or
   * one run, or all. Returns how many tests' counts were cleared.
   */
  reset(filter: { run?: string; testId?: string | null } = {}): number {
    return this.scopes.reset(filter);
  }
}

/**
 * The recorded occurrence that answers the n-th identical request: the n-th; past the
 * last recorded, the last again (`repeated`); undefined when the n-th is missing
 * below the last (a file deleted by hand).
 */
export function answeringOccurrence(entry: IndexEntry, occurrence: number): { occurrence: number; repeated: boolean } | undefined {
  // A model list is one answer, the union of its parts, however often it is asked for.
  if (entry.modelList) return { occurrence: 1, repeated: false };
  const last = entry.occurrences[entry.occurrences.length - 1] as number;
  if (occurrence > last) return { occurrence: last, repeated: true };
  return entry.occurrences.includes(occurrence) ? { occurrence, repeated: false } : undefined;
}
