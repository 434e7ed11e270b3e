// Recordings say when and against what they were made (response.origin): the time
// (not under --no-record-timing), the upstream host, the answer's model and the API
// version header; files without it load, and list shows their age as unknown.
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { openai, recordingsIn, removeDir, serve, tempDir } from './support/harness.js';
import { listRecordings } from '../src/cli/commands/inspect.js';
import { parseRecording } from '../src/recordings/recording.js';
import { formatAge, parseDuration } from '../src/recordings/origin.js';

let dir: string;
let upstream: FakeUpstream;

const completion = { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o-2024-08-06', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] };

beforeEach(async () => {
  dir = await tempDir();
  upstream = await new FakeUpstream().on('POST', '/v1/chat/completions', (_r, res) => sendJson(res, 200, completion, { 'openai-version': '2020-10-01' })).start();
});
afterEach(async () => {
  await upstream.stop();
  await removeDir(dir);
});

async function recordOne(recordTiming: boolean) {
  const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, recordTiming });
  await openai(server).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  await server.close();
  const [file] = await recordingsIn(dir);
  return file!.data.response.origin;
}

describe('recording origin', () => {
  it('records the time, the upstream host, the answered model and the version header', async () => {
    const before = Date.now();
    const origin = await recordOne(true);
    expect(origin).toMatchObject({ upstream: new URL(upstream.url).host, model: 'gpt-4o-2024-08-06', version_headers: { 'openai-version': '2020-10-01' } });
    expect(Date.parse(origin.recorded_at)).toBeGreaterThanOrEqual(before - 1000);
    const {
      rows: [listed],
    } = await listRecordings(dir, {});
    expect(listed).toMatchObject({ recordedAt: origin.recorded_at, upstream: new URL(upstream.url).host });
  });

  it('leaves the time out under --no-record-timing, so re-recordings stay byte-identical', async () => {
    const origin = await recordOne(false);
    expect(origin).toEqual({ upstream: new URL(upstream.url).host, model: 'gpt-4o-2024-08-06', version_headers: { 'openai-version': '2020-10-01' } });
  });

  it("loads files without it (llama-stack's): age unknown", async () => {
    await copyFile(new URL('./fixtures/llama-stack-seed-004.json', import.meta.url), path.join(dir, '302b9a7e33b5e584ddffd841d097425b4026d50c61ddf894b8e9dfa73a4e533f.json'));
    const {
      rows: [listed],
    } = await listRecordings(dir, {});
    expect(listed?.recordedAt).toBeNull();
    expect(formatAge(undefined)).toBe('unknown');
  });

  it('refuses a malformed origin, naming the field', async () => {
    const file = path.join(dir, 'x.json');
    const text = (origin: unknown) => JSON.stringify({ test_id: null, request: { method: 'POST', url: '/v1/x', headers: {}, body: {}, endpoint: '/v1/x', model: '' }, response: { body: {}, is_streaming: false, origin } });
    expect(() => parseRecording(text({ upstream: 1 }), file)).toThrow(/response\.origin\.upstream/);
    expect(() => parseRecording(text({ upstream: 'h', recorded_at: 'yesterday' }), file)).toThrow(/recorded_at/);
    expect(() => parseRecording(text({ upstream: 'h', version_headers: { a: 1 } }), file)).toThrow(/version_headers/);
    expect(parseRecording(text({ upstream: 'h', recorded_at: '2026-01-01T00:00:00.000Z' }), file).response.origin?.recorded_at).toBe('2026-01-01T00:00:00.000Z');
  });

  it('reads ages and durations', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(formatAge(3 * 86_400_000)).toBe('3d');
    expect(formatAge(90 * 60_000)).toBe('1h');
  });
});
