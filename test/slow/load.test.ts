// Bounded load on 127.0.0.1: 200 concurrent clients, half streaming, 20,000 requests
// in record-if-missing mode from five runs sharing the server, a fifth of them new
// keys. Zero errors, every new exchange recorded exactly once, every file valid,
// memory bounded.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Pool } from 'undici';
import { FakeUpstream, openAiSse, sendEvents, sendJson } from '../support/fake-upstream.js';
import { removeDir, serve, tempDir } from '../support/harness.js';
import { verifyRecordings } from '../../src/cli/commands/verify.js';
import type { RunningServer } from '../../src/index.js';

const REQUESTS = 20_000;
const KEYS = REQUESTS / 5;
const CLIENTS = 200;

let dir: string;
let upstream: FakeUpstream;
let server: RunningServer;
const upstreamCalls = new Map<number, number>();

beforeAll(async () => {
  dir = await tempDir();
  upstream = new FakeUpstream().on('POST', '/v1/chat/completions', (request, res) => {
    const body = JSON.parse(request.body) as { n: number; stream?: boolean };
    upstreamCalls.set(body.n, (upstreamCalls.get(body.n) ?? 0) + 1);
    const id = `chatcmpl-${body.n}loadtest${Math.random().toString(36).slice(2)}`;
    if (!body.stream) return sendJson(res, 200, { id, object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: `answer ${body.n}` }, finish_reason: 'stop' }] });
    const chunks = ['one ', 'two ', 'three'].map((content) => ({ id, object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] }));
    return sendEvents(res, openAiSse(chunks));
  });
  // keep the fake's own log small: it is not what is measured
  upstream.received.push = () => 0;
  await upstream.start();
  server = await serve({ mode: 'record-if-missing', recordings: dir, upstream: upstream.url, recordTiming: false });
});

afterAll(async () => {
  await server.close();
  await upstream.stop();
  await removeDir(dir);
});

it('20,000 requests from 200 clients, a fifth new: no errors, each new exchange recorded once, files valid', async () => {
  const pool = new Pool(server.url, { connections: CLIENTS, pipelining: 1 });
  const rssBefore = process.memoryUsage().rss;
  let next = 0;
  const errors: string[] = [];
  let peakRss = 0;
  async function client(): Promise<void> {
    for (let i = next++; i < REQUESTS; i = next++) {
      const n = i % KEYS;
      const stream = n % 2 === 0;
      try {
        // Five runs sharing the server, each sending every key once: the first occurrence of each, recorded once.
        const run = `run-${Math.floor(i / KEYS)}`;
        const { statusCode, body } = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', 'x-llm-replay-run': run }, body: JSON.stringify({ model: 'm', n, stream }) });
        const text = await body.text();
        if (statusCode !== 200) errors.push(`${statusCode} ${text.slice(0, 200)}`);
        else if (stream ? !text.endsWith('data: [DONE]\n\n') || !text.includes('three') : !text.includes(`answer ${n}`)) errors.push(`bad answer for ${n}`);
      } catch (error) {
        errors.push((error as Error).message);
      }
      if (i % 1000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, client));
  await pool.close();

  expect(errors.slice(0, 5)).toEqual([]);
  expect(upstreamCalls.size).toBe(KEYS);
  expect([...upstreamCalls.values()].every((calls) => calls === 1)).toBe(true);
  expect(server.store.size).toBe(KEYS);
  expect(server.usage.totals()).toMatchObject({ recorded: KEYS, hits: REQUESTS - KEYS });
  const report = await verifyRecordings(dir, 'default');
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(KEYS);
  // Bounded: the prepared-answer cache has a size limit; nothing grows with the request count.
  expect(peakRss - rssBefore).toBeLessThan(512 * 1024 * 1024);
}, 180_000);
