// The measurements: throughput and latency percentiles with autocannon, and with a
// small undici client the time to the first byte of a stream and per-request latency.
// Every loop is bounded by a duration or a count.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import autocannon from 'autocannon';
import { Pool, request } from 'undici';
import type { Role } from './child.js';

export interface Throughput {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Requests per second and latency (ms) at `connections`, cycling through `bodies`. */
export async function throughput(url: string, bodies: string[], connections: number, seconds: number): Promise<Throughput> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: bodies.map((body) => ({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body })),
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx + result.timeouts };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Time to the first body byte and to the end of the answer, in ms, over `count` sequential requests. */
export async function firstByte(url: string, bodies: string[], count: number): Promise<{ ttfb: number; total: number }> {
  const pool = new Pool(url, { connections: 1 });
  const firsts: number[] = [];
  const totals: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i % bodies.length] });
    let first = 0;
    for await (const _part of response.body) if (first === 0) first = performance.now() - started;
    totals.push(performance.now() - started);
    firsts.push(first);
  }
  await pool.close();
  return { ttfb: percentile(firsts, 50), total: percentile(totals, 50) };
}

/** Per-request latency percentiles (ms) with `concurrency` clients, `count` requests in all. */
export async function latency(url: string, bodies: string[], count: number, concurrency: number): Promise<{ p50: number; p99: number }> {
  const pool = new Pool(url, { connections: concurrency });
  const times: number[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const started = performance.now();
      const response = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i % bodies.length] });
      await response.body.text();
      times.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await pool.close();
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
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

/**
 * Pins the load generator (this process) to the last CPU; servers go on the first.
 * On two cores this keeps the server and the load apart, the same for every server measured.
 */
export function pinLoadGenerator(): string {
  if (!canPin || os.cpus().length < 2) return 'not pinned';
  execFileSync('taskset', ['-a', '-cp', String(os.cpus().length - 1), String(process.pid)], { stdio: 'ignore' });
  return `servers on CPU 0, load generator on CPU ${os.cpus().length - 1}`;
}

/** Starts a benchmark server in its own process; resolves once it listens (bounded by `timeoutMs`). */
export function spawnServer(config: { role: Role } & Record<string, unknown>, timeoutMs = 120_000): Promise<Child> {
  const started = performance.now();
  const script = new URL('./child.js', import.meta.url).pathname;
  const [command, args] = canPin && os.cpus().length >= 2 ? ['taskset', ['-c', '0', process.execPath, script, JSON.stringify(config)]] : [process.execPath, [script, JSON.stringify(config)]];
  const child = spawn(command as string, args as string[], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
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
        rss: () =>
          new Promise((done) => {
            child.once('message', (reply: { rss: number }) => done(reply.rss));
            child.send({ cmd: 'rss' });
          }),
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.kill('SIGKILL');
          }),
      });
    });
  });
}

/** ms from spawning a server to its first 200 answer to `body`. */
export async function timeToFirstAnswer(config: { role: Role } & Record<string, unknown>, body: string): Promise<{ ms: number; child: Child }> {
  const started = performance.now();
  const child = await spawnServer(config);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const response = await request(`${child.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await response.body.text();
    if (response.statusCode === 200) return { ms: performance.now() - started, child };
  }
  throw new Error('no answer after 1000 attempts');
}
