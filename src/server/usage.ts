// What a run did: recordings hit, recorded, missed, faults injected, and requests sent
// more often than they were recorded (answered by the last recording again), per
// endpoint. Served by the admin
// endpoints and written to a usage file on shutdown, which `prune` reads (several
// test shards each write their own; prune merges them).
import path from 'node:path';
import type { MissReport } from '../replay/miss-report.js';
import { writeAtomically } from '../recordings/atomic-write.js';

export interface EndpointStats {
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

export class Usage {
  readonly startedAt = new Date();
  readonly hits = new Map<string, number>();
  readonly recorded = new Set<string>();
  readonly misses: MissReport[] = [];
  private readonly missCounts = new Map<string | null, number>();
  readonly repeats: Repeat[] = [];
  readonly endpoints = new Map<string, EndpointStats>();

  private stats(endpoint: string): EndpointStats {
    let stats = this.endpoints.get(endpoint);
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

  miss(report: MissReport, endpoint: string): void {
    if (this.misses.length < MAX_MISSES) this.misses.push(report);
    this.missCounts.set(report.testId, (this.missCounts.get(report.testId) ?? 0) + 1);
    this.stats(endpoint).misses++;
  }

  /**
   * A test's misses (every test's without a test id): how many, which never stops
   * counting, and the diagnostics of those among the first MAX_MISSES of the run.
   */
  missesOf(testId?: string | null): { count: number; misses: MissReport[] } {
    if (testId === undefined) return { count: this.totals().misses, misses: this.misses };
    return { count: this.missCounts.get(testId) ?? 0, misses: this.misses.filter((miss) => miss.testId === testId) };
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

  /** Writes the usage file into `dir` (one file per run, so shards never collide). */
  async write(dir: string, mode: string, recordings: string): Promise<string> {
    const stamp = this.startedAt.toISOString().replace(/[:.]/g, '-');
    const file = path.join(dir, `usage-${stamp}-${process.pid}.json`);
    // Atomically: a server killed mid-write leaves no torn usage file for prune to trip on.
    await writeAtomically(file, JSON.stringify(this.toFile(mode, recordings), null, 2) + '\n');
    return file;
  }
}
