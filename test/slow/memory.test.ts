// A long-lived server keeps its memory bounded whatever the traffic: a real server
// process gets REQUESTS requests, each with a distinct 2 KB test id and a distinct run
// (every one a miss, the costliest kind to keep), and its resident memory grows by
// less than RSS_GROWTH_LIMIT; it keeps answering throughout and after.
import { readFile } from 'node:fs/promises';
import { Pool } from 'undici';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startCli, type CliServer } from '../support/cli-process.js';
import { removeDir, tempDir } from '../support/harness.js';

// 200,000 takes about 20 minutes on two loaded cores: the suite sends 20,000; set
// LLM_REPLAY_MEMORY_REQUESTS=200000 for the full run.
const REQUESTS = Number(process.env['LLM_REPLAY_MEMORY_REQUESTS'] ?? 20_000);
/** The server's heap may not grow past this: what it keeps must fit, or it fails (V8 would otherwise grow its heap lazily, and resident memory with it, long before collecting). */
const HEAP_LIMIT_MB = 192;
const WARM_UP = 5_000;
const CONNECTIONS = 8;
const RSS_GROWTH_LIMIT = 150 * 1024 * 1024;

let dir: string;
let server: CliServer | undefined;

beforeEach(async () => {
  dir = await tempDir();
});

afterEach(async () => {
  server?.child.kill('SIGKILL');
  await server?.exited;
  server = undefined;
  await removeDir(dir);
});

async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

const filler = 'x'.repeat(2048);
const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'never recorded' }] });

/** Sends requests `from` to `to` (exclusive), CONNECTIONS at a time on keep-alive connections; returns how many got the miss answer. */
async function send(pool: Pool, from: number, to: number): Promise<number> {
  let next = from;
  let answered = 0;
  const worker = async () => {
    for (let i = next++; i < to; i = next++) {
      const response = await pool.request({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json', 'x-test-id': `${i}-${filler}`, 'x-llm-replay-run': `run-${i}` },
        body,
      });
      await response.body.dump();
      if (response.statusCode === 404) answered++;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return answered;
}

it(`${REQUESTS} requests with distinct 2 KB test ids and runs keep resident memory within ${RSS_GROWTH_LIMIT / 1024 / 1024} MB of growth`, async () => {
  const options = process.env['NODE_OPTIONS'];
  process.env['NODE_OPTIONS'] = `${options ?? ''} --max-old-space-size=${HEAP_LIMIT_MB}`;
  try {
    server = await startCli(['--recordings', dir, '--mode', 'replay', '--log-level', 'silent', '--state-dir', `${dir}/state`]);
  } finally {
    if (options === undefined) delete process.env['NODE_OPTIONS'];
    else process.env['NODE_OPTIONS'] = options;
  }
  const pid = server.child.pid!;
  const pool = new Pool(server.url, { connections: CONNECTIONS, pipelining: 1 });
  try {
    expect(await send(pool, 0, WARM_UP)).toBe(WARM_UP);
    const before = await residentBytes(pid);
    expect(await send(pool, WARM_UP, WARM_UP + REQUESTS)).toBe(REQUESTS);
    const after = await residentBytes(pid);
    console.log(`resident memory: ${(before / 1048576).toFixed(1)} MB after ${WARM_UP} requests, ${(after / 1048576).toFixed(1)} MB after ${REQUESTS} more (+${((after - before) / 1048576).toFixed(1)} MB)`);
    expect(after - before).toBeLessThan(RSS_GROWTH_LIMIT);
    // Still answering: the admin endpoints too.
    const health = await pool.request({ method: 'GET', path: '/_llm-replay/health' });
    expect(health.statusCode).toBe(200);
    await health.body.dump();
  } finally {
    await pool.close();
  }
}, 900_000);
