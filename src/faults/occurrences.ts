// How many times a test has sent a request, per run scope: the n in "the n-th
// occurrence of this request fails". Kept behind a small interface so the fault
// schedule does not care who counts.

export interface OccurrenceCounter {
  /** Counts one more arrival of the request; returns its number, 1 for the first. */
  next(scope: string, testId: string | null, key: string): number;
  /** Starts a test's counts again (in every scope). */
  reset(testId: string | null): void;
}

export class ArrivalCounter implements OccurrenceCounter {
  /** Per test id (null: requests without one), then per scope and key. */
  private readonly byTest = new Map<string | null, Map<string, number>>();

  next(scope: string, testId: string | null, key: string): number {
    let counts = this.byTest.get(testId);
    if (!counts) this.byTest.set(testId, (counts = new Map()));
    const id = `${scope}\n${key}`;
    const n = (counts.get(id) ?? 0) + 1;
    counts.set(id, n);
    return n;
  }

  reset(testId: string | null): void {
    this.byTest.delete(testId);
  }
}
