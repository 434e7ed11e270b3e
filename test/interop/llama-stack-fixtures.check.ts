// Every recording under LLAMA_STACK_FIXTURES (llama-stack's own files, named by their
// keys) and seed 004, served by llm-replay with the llama-stack key scheme: the
// stored request is sent as Python would have sent it, with its test id and path,
// and the openai SDK's parse of the answer must equal the stored objects.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { parseLossless, type JsonValue } from '../../src/json/lossless.js';
import { pythonDumps } from '../../src/json/python-dumps.js';
import { startServer, type RunningServer } from '../../src/index.js';

const root = process.env['LLAMA_STACK_FIXTURES'];
if (!root) throw new Error('set LLAMA_STACK_FIXTURES to a folder of llama-stack recordings');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : entry.name.endsWith('.json') ? [path.join(dir, entry.name)] : [],
  );
}

const unwrap = (value: any) => (value && typeof value === 'object' && '__type__' in value ? value.__data__ : value);

const SEED_004_KEY = '302b9a7e33b5e584ddffd841d097425b4026d50c61ddf894b8e9dfa73a4e533f';
let server: RunningServer;
let served: string;
beforeAll(async () => {
  // The fixtures as they are, plus seed 004 under its own name, in a scratch folder.
  served = mkdtempSync(path.join(tmpdir(), 'llm-replay-interop-'));
  cpSync(root, served, { recursive: true });
  writeFileSync(path.join(served, `${SEED_004_KEY}.json`), seed004.text);
  server = await startServer({ mode: 'replay', recordings: served, stateDir: `${served}.state`, keyScheme: 'llama-stack', port: 0, logLevel: 'silent' });
});
afterAll(async () => {
  await server.close();
  rmSync(served, { recursive: true, force: true });
  rmSync(`${served}.state`, { recursive: true, force: true });
});

/** A client that sends the body bytes Python would have sent instead of the SDK's own JSON. */
function clientFor(file: any, pythonBody: string, basePath: string): OpenAI {
  return new OpenAI({
    baseURL: `${server.url}${basePath}`,
    apiKey: 'none',
    maxRetries: 0,
    defaultHeaders: file.test_id ? { 'X-Test-Id': file.test_id } : {},
    fetch: (url, init) => globalThis.fetch(url, init?.method === 'POST' && init.body ? { ...init, body: pythonBody } : init),
  });
}

const fixtureFiles = filesUnder(root).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
const seed004 = { file: 'seed 004', text: readFileSync(new URL('../fixtures/llama-stack-seed-004.json', import.meta.url), 'utf8') };

describe('llama-stack recordings replay unchanged', () => {
  it('found the fixtures', () => {
    expect(fixtureFiles.length).toBeGreaterThan(0);
  });

  it.each([...fixtureFiles, seed004].map((f) => [path.relative(root, f.file) || f.file, f] as const))('%s', async (_name, { text }) => {
    const file = JSON.parse(text);
    const lossless = parseLossless(text) as any;
    const pythonBody = pythonDumps(lossless.request.body as JsonValue);
    // llama-stack stores url = base_url + "/v1/<resource>": the client's base path is what precedes it.
    const urlPath = new URL(file.request.url).pathname;
    const endpoint: string = file.request.endpoint;
    const basePath = urlPath.slice(0, urlPath.length - endpoint.length);
    const client = clientFor(file, pythonBody, basePath);
    const body = file.request.body;
    const stored = Array.isArray(file.response.body) ? file.response.body.map(unwrap) : unwrap(file.response.body);

    if (endpoint === '/v1/models') {
      const ids: string[] = [];
      for await (const model of client.models.list()) ids.push(model.id);
      // The answer is the union of every file with this key; this file's models are all in it.
      for (const model of stored) expect(ids).toContain(model.id);
      expect(ids).toEqual([...ids].sort());
      return;
    }
    let result: unknown;
    if (endpoint === '/v1/chat/completions') {
      result = await client.chat.completions.create(body);
    } else if (endpoint === '/v1/completions') {
      result = await client.completions.create(body);
    } else if (endpoint === '/v1/embeddings') {
      result = await client.embeddings.create({ ...body, encoding_format: body.encoding_format ?? 'float' });
    } else {
      throw new Error(`no client call for ${endpoint}`);
    }
    if (file.response.is_streaming) {
      const chunks: unknown[] = [];
      for await (const chunk of result as AsyncIterable<unknown>) chunks.push(chunk);
      expect(chunks).toEqual(stored);
    } else {
      expect(result).toEqual(stored);
    }
  });
});
