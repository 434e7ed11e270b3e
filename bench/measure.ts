// The measurements: throughput and latency percentiles with autocannon, and with a
// small undici client the time to the first byte of a stream and per-request latency.
// Every loop is bounded by a duration or a count.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import autocannon from 'autocannon';
import { Pool, request } from 'undici';
import type { Role } from './child.js';

/** What every request of the benchmark carries: a JSON body, and an API key as every SDK sends one (record mode scrubs each request's credentials from what it writes). */
export const REQUEST_HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-bench-0123456789abcdefghijklmnopqrstuv' } as const;

export interface Throughput {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time the server spent per request, in µs (when its pid was given). */
  cpuUs: number;
}

/** CPU time (user + system) a process has used, in µs, from /proc (clock ticks of 10 ms). */
export async function cpuOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** CPU time of every thread of a process, in µs, from schedstat (nanoseconds: /proc/<pid>/stat's 10 ms ticks are coarse for a batch). */
export async function threadsCpuOf(pid: number): Promise<number> {
  let ns = 0;
  for (const task of await readdir(`/proc/${pid}/task`)) {
    ns += Number((await readFile(`/proc/${pid}/task/${task}/schedstat`, 'utf8').catch(() => '0')).split(' ')[0]);
  }
  return ns / 1000;
}

/** The items in an order drawn from `seed` (Fisher–Yates over mulberry32): the same seed, the same order. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = (seed + 1) * 0x9e3779b9;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A request body by its position in the sequence, or a list to cycle through. */
export type Bodies = string[] | ((i: number) => string);

const bodyAt = (bodies: Bodies, i: number) => (typeof bodies === 'function' ? bodies(i) : bodies[i % bodies.length]!);

export interface LoadOptions {
  connections: number;
  /** Run for this long, or */
  seconds?: number;
  /** send this many requests (bounded by `maxSeconds` all the same). */
  amount?: number;
  maxSeconds?: number;
  path?: string;
  headers?: Record<string, string>;
  /** The server's pid, to measure its CPU time per request. */
  pid?: number;
}

/**
 * Requests per second and latency (ms) at `connections`. All connections share one
 * cursor through `bodies`, so each request asks for the next distinct recording (with
 * a list per connection, autocannon's default, every connection would send the same
 * first few and a large corpus would never be reached).
 */
export async function throughput(url: string, bodies: Bodies, options: LoadOptions): Promise<Throughput> {
  const cpuBefore = options.pid === undefined ? NaN : await cpuOf(options.pid).catch(() => NaN);
  const result = await load(url, bodies, options);
  const cpuAfter = options.pid === undefined ? NaN : await cpuOf(options.pid).catch(() => NaN);
  return { ...result, cpuUs: (cpuAfter - cpuBefore) / result.total };
}

function load(url: string, bodies: Bodies, options: LoadOptions): Promise<Omit<Throughput, 'cpuUs'> & { total: number }> {
  let next = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: options.amount === undefined ? options.connections : Math.min(options.connections, options.amount),
        ...(options.amount === undefined ? { duration: options.seconds ?? 3 } : { amount: options.amount }),
        requests: [
          {
            method: 'POST',
            path: options.path ?? '/v1/chat/completions',
            headers: { ...REQUEST_HEADERS, ...options.headers },
            setupRequest: (request) => ({ ...request, body: bodyAt(bodies, next++) }),
          },
        ],
      },
      (error, result) => {
        clearTimeout(timer);
        if (error) return reject(error);
        const seconds = result.duration > 0 ? result.duration : 1;
        // With an amount, average per-second buckets understate a run shorter than a second.
        const rps = options.amount === undefined ? result.requests.average : result.requests.total / seconds;
        resolve({ rps, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx + result.timeouts, total: result.requests.total });
      },
    );
    const timer = setTimeout(() => instance.stop(), (options.maxSeconds ?? (options.seconds ?? 3) + 60) * 1000);
  });
}

function percentile(values: number[], p: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Time to the first body byte and to the end of the answer, in ms, over `count` sequential requests. */
export async function firstByte(url: string, bodies: Bodies, count: number): Promise<{ ttfb: number; total: number }> {
  const pool = new Pool(url, { connections: 1 });
  const firsts: number[] = [];
  const totals: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: REQUEST_HEADERS, body: bodyAt(bodies, i) });
    let first = 0;
    for await (const _part of response.body) if (first === 0) first = performance.now() - started;
    totals.push(performance.now() - started);
    firsts.push(first);
  }
  await pool.close();
  return { ttfb: percentile(firsts, 50), total: percentile(totals, 50) };
}

/** Per-request latency (ms) with `concurrency` clients, `count` requests in all; each request gives up after `timeoutMs`. */
export async function latency(url: string, bodies: Bodies, count: number, concurrency: number, timeoutMs = 60_000, pid?: number): Promise<{ p50: number; p99: number; first: number; statuses: Map<number, number>; cpuUs: number }> {
  const cpuBefore = pid === undefined ? NaN : await cpuOf(pid).catch(() => NaN);
  const pool = new Pool(url, { connections: concurrency, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const times: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const started = performance.now();
      const response = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: REQUEST_HEADERS, body: bodyAt(bodies, i) });
      await response.body.text();
      times[i] = performance.now() - started;
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await pool.destroy();
  }
  const cpuAfter = pid === undefined ? NaN : await cpuOf(pid).catch(() => NaN);
  return { p50: percentile(times, 50), p99: percentile(times, 99), first: times[0] ?? NaN, statuses, cpuUs: (cpuAfter - cpuBefore) / count };
}

/** One request: its status and text, giving up after `timeoutMs`. */
export async function ask(url: string, body: string, timeoutMs = 60_000): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  const response = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: REQUEST_HEADERS, body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const text = await response.body.text();
  return { status: response.statusCode, text, ms: performance.now() - started };
}

export interface Child {
  url: string;
  process: ChildProcess;
  /** ms from spawning to listening. */
  startMs: number;
  rss(): Promise<number>;
  stop(): Promise<void>;
}

/** Whether processes can be pinned to a CPU (taskset, from util-linux). */
export const canPin = (() => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const pinServers = canPin && os.cpus().length >= 2;

/**
 * Pins the load generator (this process) to the last CPU; servers go on the first.
 * On two cores this keeps the server and the load apart, the same for every server measured.
 */
export function pinLoadGenerator(): string {
  if (!pinServers) return 'not pinned';
  execFileSync('taskset', ['-a', '-cp', String(os.cpus().length - 1), String(process.pid)], { stdio: 'ignore' });
  return `servers on CPU 0, load generator on CPU ${os.cpus().length - 1}`;
}

/** Resident memory of any process, from /proc (taskset execs the server, so the pid is the server's). */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
}

/** Starts `node args` on the servers' CPU. */
export function spawnPinned(args: string[], options: { ipc: boolean; env?: NodeJS.ProcessEnv; cwd?: string }): ChildProcess {
  const [command, rest] = pinServers ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
  return spawn(command as string, rest as string[], { stdio: ['ignore', 'ignore', 'inherit', ...(options.ipc ? ['ipc' as const] : [])], env: options.env ?? process.env, ...(options.cwd ? { cwd: options.cwd } : {}) });
}

export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.removeAllListeners('exit');
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
}

/** Starts a benchmark server in its own process; resolves once it listens (bounded by `timeoutMs`). */
export function spawnServer(config: { role: Role } & Record<string, unknown>, timeoutMs = 120_000): Promise<Child> {
  const started = performance.now();
  const script = new URL('./child.js', import.meta.url).pathname;
  const child = spawnPinned([script, JSON.stringify(config)], { ipc: true });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${config.role} did not start within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.once('exit', (code) => reject(new Error(`${config.role} exited ${code}`)));
    child.once('message', (message: { port: number }) => {
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${message.port}`,
        process: child,
        startMs: performance.now() - started,
        rss: () => rssOf(child.pid!),
        stop: () => stopChild(child),
      });
    });
  });
}

/** Asks `url` for `body` until it answers 200 (at most `attempts` times); resolves with the ms it took. */
export async function untilAnswered(url: string, body: string, attempts = 1000): Promise<number> {
  const started = performance.now();
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      if ((await ask(url, body)).status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 5));
  }
  throw new Error(`${url}: no answer after ${attempts} attempts`);
}

/** ms from spawning a server to its first 200 answer to `body`. */
export async function timeToFirstAnswer(config: { role: Role } & Record<string, unknown>, body: string): Promise<{ ms: number; child: Child }> {
  const started = performance.now();
  const child = await spawnServer(config);
  await untilAnswered(child.url, body);
  return { ms: performance.now() - started, child };
}
