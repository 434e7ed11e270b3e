// The drift check over llama-stack's own recordings (LLAMA_STACK_FIXTURES, never copied
// into the repository): every file is read and its shape taken, and each, answered by
// an upstream that gives back exactly what it recorded (as replay sends it), shows no
// drift: the shape of a recording and of the same answer over the wire agree.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDrift } from '../../src/drift/check.js';
import { selectRecordings, type Selected } from '../../src/drift/select.js';
import { shapeOf } from '../../src/drift/shape.js';
import type { Recording } from '../../src/recordings/recording.js';
import { prepareModelList, prepareResponse } from '../../src/replay/prepare.js';

const root = process.env['LLAMA_STACK_FIXTURES'];
if (!root) throw new Error('set LLAMA_STACK_FIXTURES to a folder of llama-stack recordings');

const SEED_004_KEY = '302b9a7e33b5e584ddffd841d097425b4026d50c61ddf894b8e9dfa73a4e533f';
let dir: string;
let upstream: Server;
let url: URL;
/** The recording the upstream answers with: one is checked at a time. */
let answering: Recording | undefined;
let selected: Selected[] = [];
let unreadable: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'llm-replay-interop-drift-'));
  cpSync(root, dir, { recursive: true });
  writeFileSync(path.join(dir, `${SEED_004_KEY}.json`), readFileSync(new URL('../fixtures/llama-stack-seed-004.json', import.meta.url)));
  ({ selected, unreadable } = await selectRecordings(dir, {}, Date.now()));
  upstream = createServer((request, res) => {
    request.resume();
    const recording = answering!;
    const prepared = /\/models$/.test(recording.request.endpoint) ? prepareModelList([recording]) : prepareResponse(recording);
    res.writeHead(prepared.status, prepared.headers);
    res.end(prepared.body ?? Buffer.concat(prepared.events ?? []));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const address = upstream.address() as { port: number };
  url = new URL(`http://127.0.0.1:${address.port}`);
});

afterAll(async () => {
  await new Promise((resolve) => upstream?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe("drift over llama-stack's recordings", () => {
  it('reads every file and takes its shape', () => {
    expect(unreadable).toEqual([]);
    expect(selected.length).toBeGreaterThan(1);
    for (const { file, recording } of selected) expect(() => shapeOf(recording.response), file).not.toThrow();
  });

  it('finds no drift in any of them when the upstream answers what was recorded', async () => {
    const drifted: string[] = [];
    for (const one of selected) {
      answering = one.recording;
      const report = await checkDrift([one], { recordingsDir: dir, upstream: url, concurrency: 1, timeoutMs: 10_000, env: { OPENAI_API_KEY: 'sk-interop' } });
      drifted.push(...report.drifted.map((d) => `${d.file}: ${d.findings.join('; ')}`));
    }
    expect(drifted).toEqual([]);
  });
});
