// A recordings directory that cannot be written: made read-only with chmod, and with
// chattr for root (who ignores permissions), so these run child processes: slow tier.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeOpenAi, seed } from '../support/seeds.js';
import { json, workspace } from '../support/harness.js';
import { startServer } from '../../src/index.js';

const ws = workspace();
const { cleanup, start } = ws;
const upstreamOf = ws.upstream;
const usage = seed('gpt-5.1-chat', 'Usage');
const streaming = seed('gpt-5.1-chat', 'Streaming Response');
const post = (url: string, body: unknown) => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('a recordings directory that cannot be written', () => {
  it('a recordings directory that cannot be written: a clear error per request, no crash', async () => {
    const fake = await upstreamOf(fakeOpenAi());
    const server = await start({ mode: 'record', upstream: fake.url });
    makeReadOnly(ws.dir);
    cleanup.push(async () => makeWritable(ws.dir));
    const response = await post(server.url, usage.request);
    expect(response.status).toBe(500);
    expect((await json(response)).error.message).toMatch(/could not be recorded: .*cannot be written \((EACCES|EPERM)\)/);
    const stream = await post(server.url, streaming.request);
    await expect(stream.text()).rejects.toThrow();
    expect((await post(server.url, usage.request)).status).toBe(500);
  });

  it('record modes refuse to start on a directory they cannot write, and say so; switching to one at runtime is refused too', async () => {
    const server = await start({ mode: 'replay' });
    makeReadOnly(ws.dir);
    cleanup.push(async () => makeWritable(ws.dir));
    for (const mode of ['record', 'record-if-missing'] as const) {
      await expect(startServer({ mode, recordings: ws.dir, port: 0, logLevel: 'silent' })).rejects.toThrow(`recordings: directory ${ws.dir} is not writable`);
    }
    const switched = await fetch(`${server.url}/_llm-replay/mode`, { method: 'PUT', body: JSON.stringify({ mode: 'record' }) });
    expect(switched.status).toBe(409);
    expect((await json(switched)).error.message).toContain('is not writable');
    expect(server.config.mode).toBe('replay');
  });
});

function makeReadOnly(target: string): void {
  execFileSync('chmod', ['0555', target]);
  if (writable(target)) execFileSync('chattr', ['+i', target]); // root ignores permissions
  if (writable(target)) throw new Error(`cannot make ${target} read-only on this machine`);
}
function makeWritable(target: string): void {
  try {
    execFileSync('chattr', ['-i', target], { stdio: 'ignore' });
  } catch {
    // not immutable
  }
  execFileSync('chmod', ['0755', target]);
}
function writable(target: string): boolean {
  try {
    execFileSync('touch', [path.join(target, '.probe')], { stdio: 'ignore' });
    execFileSync('rm', ['-f', path.join(target, '.probe')]);
    return true;
  } catch {
    return false;
  }
}
