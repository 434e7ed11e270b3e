// The faults in force and the faults injected. Rules come from four places, the
// most specific winning: the request's own x-llm-replay-fault header, rules set for
// its test id, rules set for its run, and the server-wide rules (option or admin).
// Within one place the first rule that selects the request applies.
import { requestedModel, type ClientRequest } from '../request/client-request.js';
import { FAULT_HEADER, RUN_HEADER } from '../request/control-headers.js';
import { selects } from './schedule.js';
import { parseFaultRule, type FaultRule } from './spec.js';

type FaultSource = 'header' | 'test' | 'run' | 'server';

/** Where admin rules apply: one test id (in one run, when both are given), one run, or (neither) the whole server. */
export interface FaultScope {
  testId?: string;
  run?: string;
}

export interface ChosenFault {
  rule: FaultRule;
  source: FaultSource;
  /** The how-manieth time the test sent the request (README, How it works: an arrival, not an occurrence). */
  arrival: number;
}

interface Injection {
  at: string;
  test_id: string | null;
  run: string | null;
  method: string;
  endpoint: string;
  key: string;
  occurrence: number;
  fault: string;
  source: FaultSource;
}

interface InjectedForTest {
  count: number;
  /** The most recent ones, oldest first. */
  recent: Injection[];
}

type Headers = Record<string, string | string[] | undefined>;

/** A test's rules set without a run: they apply in every run. */
const ANY_RUN = Symbol('any run');
const RECENT_PER_TEST = 20;
/** Tests whose injections are kept; past it, those of the test that injected longest ago go. */
const INJECTED_TESTS_KEPT = 1000;
/** Tests and runs with rules of their own; past it, the rules set longest ago go (as if cleared). */
const SCOPES_KEPT = 10_000;

/** Drops a map's oldest entries (insertion order) past `limit`. */
function trim(map: Map<unknown, unknown>, limit: number): void {
  for (const oldest of map.keys()) {
    if (map.size <= limit) return;
    map.delete(oldest);
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export class FaultRegistry {
  private server: FaultRule[];
  /** test id -> run (ANY_RUN: the test in every run) -> rules. */
  private readonly tests = new Map<string, Map<string | typeof ANY_RUN, FaultRule[]>>();
  private readonly runs = new Map<string, FaultRule[]>();
  private readonly injected = new Map<string | null, InjectedForTest>();
  private total = 0;
  /** Aborted when the server closes: pending delays and stalls end at once. */
  private readonly closing = new AbortController();

  constructor(configured: FaultRule[]) {
    this.server = configured;
  }

  get closed(): AbortSignal {
    return this.closing.signal;
  }

  close(): void {
    this.closing.abort();
  }

  /** Whether a request may be faulted at all: the cheap check on every request's path. */
  armed(headers: Headers): boolean {
    return headers[FAULT_HEADER] !== undefined || this.server.length > 0 || this.tests.size > 0 || this.runs.size > 0;
  }

  /**
   * The fault that hits the request, if any; `arrival` is the how-manieth time its
   * test sent it (counted by the server with the occurrences, reset with them).
   * A malformed header throws FaultSpecError.
   */
  choose(client: ClientRequest, key: string, arrival: number): ChosenFault | undefined {
    const { headers, testId, path } = client;
    const header = single(headers[FAULT_HEADER]);
    const own = header === undefined ? undefined : [parseFaultRule(header)];
    const run = single(headers[RUN_HEADER]) ?? null;
    for (const [source, rules] of this.sources(testId, run, own)) {
      if (!rules || rules.length === 0) continue;
      const model = requestedModel(client);
      const index = rules.findIndex((rule, i) => selects(rule.when, { testId, path, model, key, occurrence: arrival, rule: i }));
      const rule = rules[index];
      // The most specific place with rules decides, even when none of its rules hits this arrival.
      return rule ? { rule, source, arrival } : undefined;
    }
    return undefined;
  }

  /**
   * The places whose rules may apply, most specific first: the header's, the test's in
   * this run, the test's in any run, the run's, the server's.
   */
  private sources(testId: string | null, run: string | null, own?: FaultRule[]): Array<[FaultSource, FaultRule[] | undefined]> {
    return [
      ['header', own],
      ['test', testId === null ? undefined : ((run === null ? undefined : this.tests.get(testId)?.get(run)) ?? this.tests.get(testId)?.get(ANY_RUN))],
      ['run', run === null ? undefined : this.runs.get(run)],
      ['server', this.server],
    ];
  }

  /**
   * The rules that decide for a test's requests: in one run, the first place that has
   * any; with no run named, the test's rules in any run (as injectFaults sets them) come first.
   */
  applying(testId: string, run?: string): { source: FaultSource; rules: string[] } | undefined {
    if (run === undefined) {
      const inRuns = [...(this.tests.get(testId)?.values() ?? [])].flat().map((rule) => rule.text);
      if (inRuns.length > 0) return { source: 'test', rules: inRuns };
    }
    for (const [source, rules] of this.sources(testId, run ?? null)) if (rules && rules.length > 0) return { source, rules: rules.map((rule) => rule.text) };
    return undefined;
  }

  /** Replaces the rules of a scope: a test (in one run, or in any), a run, or the server. */
  set(scope: FaultScope, rules: FaultRule[]): void {
    if (scope.testId !== undefined) {
      let runs = this.tests.get(scope.testId);
      if (!runs) this.tests.set(scope.testId, (runs = new Map()));
      runs.set(scope.run ?? ANY_RUN, rules);
      trim(runs, SCOPES_KEPT);
      trim(this.tests, SCOPES_KEPT);
    } else if (scope.run !== undefined) {
      this.runs.set(scope.run, rules);
      trim(this.runs, SCOPES_KEPT);
    } else this.server = rules;
  }

  /** Removes the rules of a scope; with no scope, every rule, the server-wide ones too. */
  clear(scope: FaultScope): void {
    if (scope.testId !== undefined) {
      // Without a run: the test's rules for any run and for each run.
      const runs = this.tests.get(scope.testId);
      if (scope.run !== undefined) runs?.delete(scope.run);
      if (scope.run === undefined || runs?.size === 0) this.tests.delete(scope.testId);
    } else if (scope.run !== undefined) this.runs.delete(scope.run);
    else {
      this.tests.clear();
      this.runs.clear();
      this.server = [];
    }
  }

  record(injection: Injection): void {
    this.total++;
    let entry = this.injected.get(injection.test_id);
    if (entry) this.injected.delete(injection.test_id);
    // Most recently injected last: the oldest go first.
    this.injected.set(injection.test_id, (entry ??= { count: 0, recent: [] }));
    trim(this.injected, INJECTED_TESTS_KEPT);
    entry.count++;
    entry.recent.push(injection);
    if (entry.recent.length > RECENT_PER_TEST) entry.recent.shift();
  }

  /** The rules in force, as written. */
  inForce(): { server: string[]; runs: Record<string, string[]>; tests: Record<string, string[]> } {
    const texts = (rules: FaultRule[]) => rules.map((rule) => rule.text);
    return {
      server: texts(this.server),
      runs: Object.fromEntries([...this.runs].map(([run, rules]) => [run, texts(rules)])),
      tests: Object.fromEntries([...this.tests].flatMap(([id, runs]) => [...runs].map(([run, rules]) => [run === ANY_RUN ? id : `${id} in run ${run}`, texts(rules)]))),
    };
  }

  /** The faults injected: in total and per test id ('' for requests without one). */
  injections(testId?: string): { total: number; tests: Record<string, InjectedForTest> } {
    const tests: Record<string, InjectedForTest> = {};
    for (const [id, entry] of this.injected) if (testId === undefined || id === testId) tests[id ?? ''] = entry;
    return { total: this.total, tests };
  }
}
