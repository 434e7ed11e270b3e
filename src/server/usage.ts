// What a run did: recordings hit, recorded, missed, faults injected, and requests sent
// more often than they were recorded (answered by the last recording again), per
// endpoint. Served by the admin
// endpoints and written to a usage file on shutdown, which `prune` reads (several
// test shards each write their own; prune merges them).
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { MissReport } from '../replay/miss-report.js';
import { writeAtomically } from '../recordings/atomic-write.js';
import { BoundedScopes } from './scopes.js';

interface EndpointStats {
  hits: number;
  misses: number;
  recorded: number;
  forwarded: number;
  /** Answers llm-replay faulted on purpose (never counted as real errors). */
  faults: number;
  /** Answers given again because a test sent the request more often than it was recorded. */
  repeated: number;
}

/** A request sent more often in a test than it was recorded. */
export interface Repeat {
  key: string;
  testId: string | null;
  run: string;
  /** Which time the test sent it. */
  occurrence: number;
  /** The last recorded occurrence, which answered it. */
  answered: number;
}

export interface UsageFile {
  format: 'llm-replay-usage/1';
  pid: number;
  mode: string;
  recordings: string;
  started_at: string;
  finished_at: string;
  /** Recordings answered from, by id: `<key>`, or `<key>.<n>` for a later occurrence. */
  hits: string[];
  /** Recordings written by this run, by id. */
  recorded: string[];
  misses: Array<Omit<MissReport, 'message'> & { message: string }>;
  /** Requests answered by their last recording again (sent more often than recorded). */
  repeated: Repeat[];
  /** How many answers were faulted on purpose. */
  injected_faults: number;
}

const MAX_MISSES = 1000;
/** Diagnostics kept per test and run; the count goes on without limit. */
const REPORTS_PER_TEST = 20;
/** Tests' miss counts and diagnostics kept in all runs together (one per count, one per diagnostic); past it, those of the tests used longest ago go. */
const TEST_MISSES_KEPT = 10_000;
/** Endpoints counted one by one; past it, the rest together under OTHER_ENDPOINTS. */
const ENDPOINTS_KEPT = 1000;
const OTHER_ENDPOINTS = '(other endpoints)';
/** Usage files kept in a usage folder (the newest): enough for the shards of a run, and a few runs. */
const USAGE_FILES_KEPT = 64;

/** Misses of one test in one run since that test last started. */
interface TestMisses {
  count: number;
  reports: MissReport[];
}

export class Usage {
  readonly startedAt = new Date();
  readonly hits = new Map<string, number>();
  readonly recorded = new Set<string>();
  readonly misses: MissReport[] = [];
  /** run -> test id ('' for none) -> its misses since the test's last reset (its start): what the vitest guarantee reads. Bounded (scopes.ts). */
  private readonly testMisses = new BoundedScopes<TestMisses>(TEST_MISSES_KEPT, (test) => 1 + test.reports.length);
  readonly repeats: Repeat[] = [];
  readonly endpoints = new Map<string, EndpointStats>();

  private stats(endpoint: string): EndpointStats {
    let stats = this.endpoints.get(endpoint);
    if (!stats && this.endpoints.size >= ENDPOINTS_KEPT) return this.stats(OTHER_ENDPOINTS);
    if (!stats) this.endpoints.set(endpoint, (stats = { hits: 0, misses: 0, recorded: 0, forwarded: 0, faults: 0, repeated: 0 }));
    return stats;
  }

  /** `id`: the recording answered from, `<key>` or `<key>.<n>`. */
  hit(id: string, endpoint: string): void {
    this.hits.set(id, (this.hits.get(id) ?? 0) + 1);
    this.stats(endpoint).hits++;
  }

  repeat(repeat: Repeat, endpoint: string): void {
    if (this.repeats.length < MAX_MISSES) this.repeats.push(repeat);
    this.stats(endpoint).repeated++;
  }

  miss(report: MissReport, endpoint: string, run: string): void {
    if (this.misses.length < MAX_MISSES) this.misses.push(report);
    const isNew = this.testMisses.get(run, report.testId) === undefined;
    const test = this.testMisses.ensure(run, report.testId, () => ({ count: 0, reports: [] }));
    test.count++;
    const kept = test.reports.length < REPORTS_PER_TEST;
    if (kept) test.reports.push(report);
    this.testMisses.weigh(test, (isNew ? 1 : 0) + (kept ? 1 : 0));
    this.stats(endpoint).misses++;
  }

  /**
   * Misses: all of this server's (the first MAX_MISSES with their diagnostics), or one
   * test's since it last started, in one run or in every run: how many, never capped,
   * and the diagnostics of the first REPORTS_PER_TEST.
   */
  missesOf(testId?: string | null, run?: string): { count: number; misses: MissReport[] } {
    if (testId === undefined) return { count: this.totals().misses, misses: this.misses };
    // In one run, the test's requests that carried no run (a client the helper does not reach) are its too.
    const runs = run === undefined ? this.testMisses.runKeys() : [...new Set([run, ''])];
    const tests = runs.map((scope) => this.testMisses.get(scope, testId));
    return { count: tests.reduce((n, test) => n + (test?.count ?? 0), 0), misses: tests.flatMap((test) => test?.reports ?? []) };
  }

  /** A test (and/or run) starts again: its misses count from zero, as its occurrences do. */
  resetMisses(filter: { run?: string; testId?: string | null }): void {
    this.testMisses.reset(filter);
    // A test reset in its run starts again its requests that carried no run, too.
    if (filter.run !== undefined && filter.testId !== undefined) this.testMisses.reset({ run: '', testId: filter.testId });
  }

  record(id: string, endpoint: string): void {
    this.recorded.add(id);
    this.stats(endpoint).recorded++;
  }

  forwarded(endpoint: string): void {
    this.stats(endpoint).forwarded++;
  }

  fault(endpoint: string): void {
    this.stats(endpoint).faults++;
  }

  totals(): EndpointStats {
    const total: EndpointStats = { hits: 0, misses: 0, recorded: 0, forwarded: 0, faults: 0, repeated: 0 };
    for (const stats of this.endpoints.values()) {
      total.hits += stats.hits;
      total.misses += stats.misses;
      total.recorded += stats.recorded;
      total.forwarded += stats.forwarded;
      total.faults += stats.faults;
      total.repeated += stats.repeated;
    }
    return total;
  }

  toFile(mode: string, recordings: string): UsageFile {
    return {
      format: 'llm-replay-usage/1',
      pid: process.pid,
      mode,
      recordings: path.resolve(recordings),
      started_at: this.startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      hits: [...this.hits.keys()].sort(),
      recorded: [...this.recorded].sort(),
      misses: this.misses,
      repeated: this.repeats,
      injected_faults: this.totals().faults,
    };
  }

  /**
   * Writes the usage file into `dir` (one file per run, so shards never collide), then
   * removes all but the USAGE_FILES_KEPT newest there: earlier runs' files do not pile up.
   */
  async write(dir: string, mode: string, recordings: string): Promise<string> {
    const stamp = this.startedAt.toISOString().replace(/[:.]/g, '-');
    const file = path.join(dir, `usage-${stamp}-${process.pid}.json`);
    // Atomically: a server killed mid-write leaves no torn usage file for prune to trip on.
    await writeAtomically(file, JSON.stringify(this.toFile(mode, recordings), null, 2) + '\n');
    // Named by start time: the name order is the age order.
    const names = (await readdir(dir)).filter((name) => /^usage-.*\.json$/.test(name)).sort();
    await Promise.all(names.slice(0, Math.max(0, names.length - USAGE_FILES_KEPT)).map((name) => rm(path.join(dir, name), { force: true })));
    return file;
  }
}
