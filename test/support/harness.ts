// Test scaffolding: temporary recordings directories and servers that are always closed.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach } from 'vitest';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startServer, type RunningServer, type ServerOptions } from '../../src/index.js';

export async function tempDir(prefix = 'llm-replay-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

/** Removes a temporary recordings directory and the id journal folder beside it. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await rm(`${dir}.state`, { recursive: true, force: true });
}

/** A log stream for a server, its text so far, and a turn of the event loop for lines still on their way. */
export function capturedLog(): { stream: PassThrough; text: () => string; settled: () => Promise<void> } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (part: Buffer) => (text += part.toString()));
  return { stream, text: () => text, settled: () => new Promise((resolve) => setImmediate(resolve)) };
}

/** A server on a free port, quiet, keeping its id journal beside its recordings (removed with them). */
export async function serve(options: ServerOptions): Promise<RunningServer> {
  const stateDir = options.recordings ? `${options.recordings.replace(/\/$/, '')}.state` : undefined;
  return startServer({ port: 0, logLevel: 'silent', ...(stateDir ? { stateDir } : {}), ...options });
}

export function openai(server: RunningServer, options: { apiKey?: string; testId?: string } = {}): OpenAI {
  return new OpenAI({
    baseURL: `${server.url}/v1`,
    apiKey: options.apiKey ?? 'sk-test-not-a-real-key',
    maxRetries: 0,
    ...(options.testId ? { defaultHeaders: { 'X-Test-Id': options.testId } } : {}),
  });
}

/** Every file under dir, relative, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    // The record-mode server's lock on the directory is not a recording.
    .filter((e) => e.isFile() && e.name !== '.llm-replay-record.lock')
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .sort();
}

/** A response's JSON body, untyped: tests look into it freely. */
export async function json(response: Response): Promise<any> {
  return response.json();
}

export async function readJson(file: string): Promise<any> {
  return JSON.parse(await readFile(file, 'utf8'));
}

/** All recordings in dir, parsed, with their file names. */
export async function recordingsIn(dir: string): Promise<Array<{ file: string; data: any }>> {
  const files = (await listFiles(dir)).filter((f) => f.endsWith('.json'));
  return Promise.all(files.map(async (file) => ({ file, data: await readJson(path.join(dir, file)) })));
}

/**
 * A fresh recordings directory per test, with servers and other things to undo
 * afterwards (last first). Call at the top of a test file.
 */
export function workspace() {
  const cleanup: Array<() => Promise<unknown>> = [];
  const ws = {
    dir: '',
    cleanup,
    /** A server on this test's directory, closed after the test. */
    async start(options: ServerOptions): Promise<RunningServer> {
      const server = await serve({ recordings: ws.dir, ...options });
      cleanup.push(() => server.close());
      return server;
    },
    /** A fake upstream started for this test and stopped after it. */
    async upstream<T extends { start(): Promise<unknown>; stop(): Promise<unknown> }>(fake: T): Promise<T> {
      await fake.start();
      cleanup.push(() => fake.stop());
      return fake;
    },
  };
  beforeEach(async () => {
    ws.dir = await tempDir();
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
    await removeDir(ws.dir);
  });
  return ws;
}

/** The file name a request is recorded under, learnt by recording it once (`ask` sends it) into a scratch folder. */
export async function recordedFileName(options: ServerOptions, ask: (server: RunningServer) => Promise<unknown>): Promise<string> {
  const scratch = await tempDir();
  try {
    const recorder = await serve({ mode: 'record', ...options, recordings: scratch });
    try {
      await ask(recorder);
    } finally {
      await recorder.close();
    }
    const [name] = (await readdir(scratch)).filter((file) => file.endsWith('.json'));
    return name!;
  } finally {
    await removeDir(scratch);
  }
}

/** A folder (not empty) where the recording file `name` would go in `dir`: renaming onto it fails, for root too. */
export async function blockWrite(dir: string, name: string): Promise<void> {
  await mkdir(path.join(dir, name));
  await writeFile(path.join(dir, name, 'keep.txt'), 'in the way');
}
