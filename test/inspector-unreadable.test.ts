// A recording file that is there but cannot be used (not JSON, or not a recording):
// the inspector lists it, marked unreadable with why, and asking for it says so,
// where before the list dropped it and the API answered "no recording".
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RecordingPage } from '../src/server/inspector/contract.js';
import { startServer, type RunningServer } from '../src/index.js';
import { parseRecording, type Recording } from '../src/recordings/recording.js';
import { capturedLog, removeDir, tempDir } from './support/harness.js';

const NOT_JSON = `${'a'.repeat(64)}.json`;
const NOT_A_RECORDING = `${'b'.repeat(64)}.2.json`;
/** A credential where the JSON breaks: JSON.parse's message quotes the text around it. */
const FAKE_KEY = 'sk-live-FAKE0123456789abcdef';
const BROKEN = `{"request": {"api_key": ${FAKE_KEY}`;
let dir: string;
let server: RunningServer;
const log = capturedLog();

beforeAll(async () => {
  dir = await tempDir();
  await writeFile(path.join(dir, NOT_JSON), BROKEN);
  await writeFile(path.join(dir, NOT_A_RECORDING), '{"hello": "world"}');
  server = await startServer({ recordings: dir, stateDir: `${dir}.state`, port: 0, logLevel: 'warn', logStream: log.stream });
});

afterAll(async () => {
  await server?.close();
  await removeDir(dir);
});

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await server.app.inject({ method: 'GET', url: `/_llm-replay${url}` });
  return { status: response.statusCode, body: response.json() };
}

async function list(query: string): Promise<RecordingPage> {
  // The list reads the directory in the background: wait until it has read every file.
  await server.app.catalogue.build();
  return (await get(`/api/recordings?${query}`)).body as unknown as RecordingPage;
}

it('lists every file the health count counts, the unreadable ones marked with why', async () => {
  const page = await list('');
  const health = (await get('/health')).body as { recordings: number };
  expect(page.total).toBe(health.recordings);
  expect(page.rows.map((row) => [row.file, row.key, row.occurrence])).toEqual([
    [NOT_JSON, 'a'.repeat(64), 1],
    [NOT_A_RECORDING, 'b'.repeat(64), 2],
  ]);
  expect(page.rows[0]!.unreadable).toMatch(/JSON/i);
  expect(page.rows[1]!.unreadable).toMatch(/request/);
  // A filter asks about what the file says, which nothing says of these.
  expect((await list('endpoint=chat')).total).toBe(0);
});

it('counts the unreadable files in the Recordings tab count, as the health count does', async () => {
  const page = await list('');
  const health = (await get('/health')).body as { recordings: number };
  expect(health.recordings).toBe(2);
  expect(page.indexing).toEqual({ done: health.recordings, total: health.recordings });
});

it('asking for an unreadable file says it is there and why it cannot be used, not that there is none', async () => {
  await list('');
  for (const file of [NOT_JSON, NOT_A_RECORDING]) {
    const { status, body } = await get(`/api/recording?file=${encodeURIComponent(file)}`);
    const error = body.error as { code: string; message: string; param: string };
    expect(status).toBe(500);
    expect(error.code).toBe('llm_replay_bad_recording');
    expect(error.message).toContain(path.join(dir, file));
    expect(error.message).toContain('cannot be used');
    expect(error.param).toBe('file');
  }
  const missing = await get(`/api/recording?file=${'c'.repeat(64)}.json`);
  expect(missing.status).toBe(404);
});

it('says where a file stops being JSON and what the parser expected, quoting none of it: it may hold a credential', async () => {
  const [row] = (await list('')).rows;
  const { body } = await get(`/api/recording?file=${encodeURIComponent(NOT_JSON)}`);
  await log.settled();
  // Read as the list, as an answer and as an exact-number read do: JSON.parse, then this project's parser.
  const reasons = [row!.unreadable!, (body.error as { message: string }).message, log.text()];
  for (const [exactNumbers, forAnswer] of [[false, false], [true, true], [true, false]]) {
    try {
      parseRecording(BROKEN, 'broken.json', exactNumbers, forAnswer);
    } catch (error) {
      reasons.push((error as Error).message);
    }
  }
  expect(reasons).toHaveLength(6);
  expect(log.text()).toContain(`${NOT_JSON}: not valid JSON (`);
  expect(row!.unreadable).toMatch(/^not valid JSON \(.+ at line 1, column 25\)$/);
  for (const reason of reasons) {
    expect(reason).toContain('line 1, column 25');
    expect(reason).not.toContain('sk-live');
  }
});

it('names a response header that cannot be sent by its place and kind, quoting neither its name nor its value: either may be a credential', async () => {
  const recording = (headers: unknown) => JSON.stringify({ request: { method: 'POST', url: 'http://x/v1/chat/completions', body: {} }, response: { body: {}, headers } });
  const reasonOf = (text: string) => {
    try {
      parseRecording(text, 'headers.json', false, false);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('read without complaint');
  };
  const badName = reasonOf(recording({ 'content-type': 'application/json', 'Authorization: Bearer sk-live-NAME0123456789': 'x' }));
  expect(badName).toContain('its member 2');
  expect(badName).not.toContain('sk-live');
  const objectValue = reasonOf(recording({ 'set-cookie': { token: 'sk-live-VALUE0123456789' } }));
  expect(objectValue).toContain('must be a string, not an object');
  expect(objectValue).not.toContain('sk-live');
});

it('forgets an unreadable file once it is written anew or removed', async () => {
  const own = await tempDir();
  const key = 'c'.repeat(64);
  await writeFile(path.join(own, `${key}.json`), '{');
  await writeFile(path.join(own, `${key}.2.json`), '{');
  const recorder = await startServer({ recordings: own, stateDir: `${own}.state`, port: 0, logLevel: 'silent' });
  const page = async () => {
    await recorder.catalogue.build();
    const page = (await recorder.app.inject({ method: 'GET', url: '/_llm-replay/api/recordings' })).json() as RecordingPage;
    return { rows: page.rows.map((row) => [row.file, row.unreadable !== undefined]), indexing: page.indexing };
  };
  try {
    expect(await page()).toEqual({ rows: [[`${key}.2.json`, true], [`${key}.json`, true]], indexing: { done: 2, total: 2 } });
    const recording: Recording = {
      test_id: 't',
      request: { method: 'POST', url: 'http://127.0.0.1/v1/chat/completions', headers: {}, body: { model: 'm' }, endpoint: '/v1/chat/completions', model: 'm' },
      response: { body: { answer: 'a' }, is_streaming: false },
      id_normalization_mapping: {},
    };
    // Its first occurrence recorded anew: written over the first file, the older sequence's second removed.
    await recorder.store.save(key, recording, '', { secrets: [], newSequence: true });
    expect(await page()).toEqual({ rows: [[`${key}.json`, false]], indexing: { done: 1, total: 1 } });
  } finally {
    await recorder.close();
    await removeDir(own);
  }
});
