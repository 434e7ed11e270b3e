// Per-test state of the server (occurrence counts, miss counts), kept by run and test
// id for as long as memory allows: a long-lived server shared by many runs would
// otherwise keep every run's every test for ever. Each scope has a weight (the counts
// or reports it holds); past the budget, the scopes used longest ago are dropped
// whole, as if those tests had been reset. Long test ids are held by their digest.
import { createHash } from 'node:crypto';

/** Test ids longer than this are held by digest (a 2 KB id costs 2 KB per scope otherwise). */
const LONGEST_KEPT_ID = 64;

/** The map key of a test id ('' for none): itself, or its digest when long. */
function testIdKey(testId: string | null): string {
  if (testId === null) return '';
  return testId.length <= LONGEST_KEPT_ID ? testId : `sha256:${createHash('sha256').update(testId).digest('base64url')}`;
}

export class BoundedScopes<V extends object> {
  /** run -> test id key -> value */
  private readonly runs = new Map<string, Map<string, V>>();
  /** Every value, least recently used first, with where it is kept. */
  private readonly recency = new Map<V, { run: string; test: string }>();
  /** The most recently used value: using it again leaves the order as it is (most requests repeat the last scope). */
  private latest: V | undefined;
  private weight = 0;

  constructor(
    /** The most weight kept in all scopes together. */
    private readonly budget: number,
    private readonly weightOf: (value: V) => number,
  ) {}

  get size(): number {
    return this.recency.size;
  }

  /** A scope's value, if kept; it becomes the most recently used. */
  get(run: string, testId: string | null): V | undefined {
    const value = this.runs.get(run)?.get(testIdKey(testId));
    if (value) this.touch(value);
    return value;
  }

  /** A scope's value, made when there is none; it becomes the most recently used. */
  ensure(run: string, testId: string | null, make: () => V): V {
    const test = testIdKey(testId);
    let tests = this.runs.get(run);
    if (!tests) this.runs.set(run, (tests = new Map()));
    let value = tests.get(test);
    if (value === this.latest && value) return value;
    if (!value) tests.set(test, (value = make()));
    this.recency.delete(value);
    this.recency.set(value, { run, test });
    this.latest = value;
    return value;
  }

  /** Notes that `value`'s weight changed by `delta`; past the budget, the least recently used scopes are dropped (never `value` itself). */
  weigh(value: V, delta: number): void {
    this.weight += delta;
    for (const [oldest] of this.recency) {
      if (this.weight <= this.budget || oldest === value) break;
      this.drop(oldest);
    }
  }

  /** Scopes' values in one run (all runs when undefined), with their test id keys. */
  *entries(run?: string): Generator<[string, string, V]> {
    for (const [scope, tests] of this.runs) {
      if (run !== undefined && scope !== run) continue;
      for (const [test, value] of tests) yield [scope, test, value];
    }
  }

  /** Drops the scopes of one run and/or one test (all when neither); returns how many. */
  reset(filter: { run?: string; testId?: string | null } = {}): number {
    const test = filter.testId === undefined ? undefined : testIdKey(filter.testId);
    let dropped = 0;
    for (const [run, , value] of [...this.entries(filter.run)]) {
      if (test !== undefined && this.recency.get(value)?.test !== test) continue;
      this.drop(value, run);
      dropped++;
    }
    return dropped;
  }

  /** The run keys kept. */
  runKeys(): string[] {
    return [...this.runs.keys()];
  }

  private touch(value: V): void {
    if (value === this.latest) return;
    const where = this.recency.get(value);
    if (!where) return;
    this.recency.delete(value);
    this.recency.set(value, where);
    this.latest = value;
  }

  private drop(value: V, run?: string): void {
    const where = this.recency.get(value);
    if (!where) return;
    this.recency.delete(value);
    if (value === this.latest) this.latest = undefined;
    this.weight -= this.weightOf(value);
    const tests = this.runs.get(run ?? where.run);
    tests?.delete(where.test);
    if (tests?.size === 0) this.runs.delete(where.run);
  }
}
