// The faults in force and the faults injected. Rules come from four places, the
// most specific winning: the request's own x-llm-replay-fault header, rules set for
// its test id, rules set for its run, and the server-wide rules (option or admin).
// Within one place the first rule that selects the request applies.
import type { ClientRequest } from '../request/client-request.js';
import { FAULT_HEADER, RUN_HEADER } from '../request/control-headers.js';
import { ArrivalCounter, type OccurrenceCounter } from './occurrences.js';
import { selects } from './schedule.js';
import { parseFaultRule, type FaultRule } from './spec.js';

export type FaultSource = 'header' | 'test' | 'run' | 'server';

/** Where admin rules apply: one test id, one run, or (neither) the whole server. */
export interface FaultScope {
  testId?: string;
  run?: string;
}

export interface ChosenFault {
  rule: FaultRule;
  source: FaultSource;
  occurrence: number;
}

export interface Injection {
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

const RECENT_PER_TEST = 100;
const TESTS_KEPT = 10_000;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function modelOf(client: ClientRequest): string | undefined {
  const { body } = client;
  const value = body.kind === 'json' && typeof body.value === 'object' && body.value !== null ? (body.value as Record<string, unknown>)['model'] : undefined;
  return typeof value === 'string' ? value : undefined;
}

export class FaultRegistry {
  private server: FaultRule[];
  private readonly tests = new Map<string, FaultRule[]>();
  private readonly runs = new Map<string, FaultRule[]>();
  private readonly injected = new Map<string | null, InjectedForTest>();
  private total = 0;
  /** Aborted when the server closes: pending delays and stalls end at once. */
  private readonly closing = new AbortController();

  constructor(
    configured: FaultRule[],
    readonly occurrences: OccurrenceCounter = new ArrivalCounter(),
  ) {
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
   * Counts the request's occurrence and returns the fault that hits it, if any.
   * A malformed header throws FaultSpecError.
   */
  choose(client: ClientRequest, key: string): ChosenFault | undefined {
    const { headers, testId, path } = client;
    const header = single(headers[FAULT_HEADER]);
    // Parsed first: a request refused for its header is no occurrence.
    const own = header === undefined ? undefined : [parseFaultRule(header)];
    const run = single(headers[RUN_HEADER]) ?? null;
    const occurrence = this.occurrences.next(run ?? '', testId, key);
    const sources: Array<[FaultSource, FaultRule[] | undefined]> = [
      ['header', own],
      ['test', testId === null ? undefined : this.tests.get(testId)],
      ['run', run === null ? undefined : this.runs.get(run)],
      ['server', this.server],
    ];
    for (const [source, rules] of sources) {
      if (!rules || rules.length === 0) continue;
      const model = modelOf(client);
      const index = rules.findIndex((rule, i) => selects(rule.when, { testId, path, model, key, occurrence, rule: i }));
      const rule = rules[index];
      // The most specific place with rules decides, even when none of its rules hits this occurrence.
      return rule ? { rule, source, occurrence } : undefined;
    }
    return undefined;
  }

  /** Replaces the rules of a scope; a test's or run's occurrence counts start again. */
  set(scope: FaultScope, rules: FaultRule[]): void {
    if (scope.testId !== undefined) {
      this.tests.set(scope.testId, rules);
      this.occurrences.reset(scope.testId);
    } else if (scope.run !== undefined) {
      this.runs.set(scope.run, rules);
    } else {
      this.server = rules;
    }
  }

  /** Removes the rules of a scope; with no scope, every rule, the server-wide ones too. */
  clear(scope: FaultScope): void {
    if (scope.testId !== undefined) this.tests.delete(scope.testId);
    else if (scope.run !== undefined) this.runs.delete(scope.run);
    else {
      this.tests.clear();
      this.runs.clear();
      this.server = [];
    }
  }

  record(injection: Injection): void {
    this.total++;
    let entry = this.injected.get(injection.test_id);
    if (!entry) {
      if (this.injected.size >= TESTS_KEPT) return;
      this.injected.set(injection.test_id, (entry = { count: 0, recent: [] }));
    }
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
      tests: Object.fromEntries([...this.tests].map(([id, rules]) => [id, texts(rules)])),
    };
  }

  /** The faults injected: in total and per test id ('' for requests without one). */
  injections(testId?: string): { total: number; tests: Record<string, InjectedForTest> } {
    const tests: Record<string, InjectedForTest> = {};
    for (const [id, entry] of this.injected) if (testId === undefined || id === testId) tests[id ?? ''] = entry;
    return { total: this.total, tests };
  }

  rulesFor(testId: string): string[] {
    return (this.tests.get(testId) ?? []).map((rule) => rule.text);
  }
}
