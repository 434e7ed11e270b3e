// The store scrubs the credentials a save is given from the one text it writes: the
// request's key echoed in an answer never reaches the file, nor what the store keeps
// in memory or tells its listeners (the inspector), and a recording holding none is
// written exactly as it would be without them.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LosslessNumber } from '../src/json/lossless.js';
import { serializeRecording, withPlainNumbers, type Recording } from '../src/recordings/recording.js';
import { RecordingStore, type WrittenRecording } from '../src/recordings/store.js';
import { removeDir, tempDir } from './support/harness.js';

const KEY = 'k'.repeat(64);
const SECRET = 'sk-proj-store0test0secret0abcdef123456';

function recordingOf(body: Recording['response']['body'], extra: Partial<Recording['response']> = {}): Recording {
  return {
    test_id: 't',
    request: { method: 'POST', url: 'http://127.0.0.1/v1/chat/completions', headers: {}, body: { model: 'm' }, endpoint: '/v1/chat/completions', model: 'm' },
    response: { body, is_streaming: false, ...extra },
    id_normalization_mapping: {},
  };
}

describe('the store scrubs the secrets a save is given', () => {
  let dir: string;
  let store: RecordingStore;
  let written: WrittenRecording[];
  beforeEach(async () => {
    dir = await tempDir();
    store = await RecordingStore.open(dir);
    written = [];
    store.onWritten((recording) => written.push(recording));
  });
  afterEach(() => removeDir(dir));

  it('an answer echoing the key is written, kept and told without it, in every occurrence', async () => {
    const recording = withPlainNumbers(recordingOf({ echo: `your key was ${SECRET}`, score: 0.1, nested: [{ [SECRET]: 1 }] }));
    await store.save(KEY, recording, '', { secrets: [SECRET], keepInMemory: true });
    await store.save(KEY, recording, '', { secrets: [SECRET], occurrence: 2, keepInMemory: true });
    for (const occurrence of [1, 2]) {
      const text = readFileSync(store.fileOf(KEY, occurrence)!, 'utf8');
      expect(text).not.toContain(SECRET);
      expect(text).toContain('your key was [redacted]');
      // Numbers as JSON.parse read them are written as before.
      expect(text).toContain('"score": 0.1');
      expect(JSON.stringify(store.recordingsOf(KEY, occurrence))).not.toContain(SECRET);
    }
    expect(written).toHaveLength(2);
    expect(JSON.stringify(written.map((w) => w.recording))).not.toContain(SECRET);
    expect(written[1]!.recording.occurrence).toBe(2);
  });

  it('numbers kept exactly (1.0, 1e400) stay exact in a scrubbed recording', async () => {
    await store.save(KEY, recordingOf({ echo: SECRET, one: new LosslessNumber('1.0'), huge: new LosslessNumber('1e400') }), '', { secrets: [SECRET] });
    const text = readFileSync(store.fileOf(KEY, 1)!, 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).toContain('"one": 1.0');
    expect(text).toContain('"huge": 1e400');
  });

  it('a body kept as base64 is searched decoded: the key in its bytes is scrubbed', async () => {
    const bytes = Buffer.from(`<xml>${SECRET}</xml>`).toString('base64');
    await store.save(KEY, recordingOf(bytes, { body_encoding: 'base64' }), '', { secrets: [SECRET] });
    const stored = JSON.parse(readFileSync(store.fileOf(KEY, 1)!, 'utf8')) as Recording;
    expect(Buffer.from(stored.response.body as string, 'base64').toString()).toBe('<xml>[redacted]</xml>');
  });

  it('a recording holding none of the secrets is written byte for byte as without them', async () => {
    const recording = withPlainNumbers(recordingOf({ answer: 'nothing secret', n: 3 }));
    await store.save(KEY, recording, '', { secrets: [SECRET] });
    expect(readFileSync(store.fileOf(KEY, 1)!, 'utf8')).toBe(serializeRecording(recording));
    expect(written[0]!.recording).toBe(recording);
  });
});
