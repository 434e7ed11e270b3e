// Nothing written is lost, nothing is skipped in silence: the index finds every file
// the server writes whatever the test id, follows links that stay inside the
// directory, refuses by name those that leave it, and names every folder it does not read.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { keyOfRecording } from '../src/keys/index.js';
import type { Recording } from '../src/recordings/recording.js';
import { RecordingStore } from '../src/recordings/store.js';
import { verifyRecordings } from '../src/cli/commands/verify.js';
import { startServer } from '../src/index.js';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { listFiles, removeDir, tempDir, workspace } from './support/harness.js';

const ws = workspace();
/** The server the requests go to. */
let base = '';

function chat(content: string, testId?: string): Promise<Response> {
  return fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(testId ? { 'x-test-id': testId } : {}) },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content }] }),
  });
}

async function recordingFile(content: string): Promise<{ key: string; text: string }> {
  const recording: Recording = {
    test_id: null,
    request: { method: 'POST', url: 'https://api.openai.com/v1/chat/completions', headers: {}, body: { model: 'gpt-4o', messages: [{ role: 'user', content }] }, endpoint: '/v1/chat/completions', model: 'gpt-4o' },
    response: { body: { id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: `answer to ${content}` } }] }, is_streaming: false, status: 200 },
    id_normalization_mapping: {},
  };
  return { key: await keyOfRecording('default', recording), text: JSON.stringify(recording, null, 2) };
}

describe('the recordings index', () => {
  it('finds every file the server writes, whatever the test id', async () => {
    const upstream = new FakeUpstream().on('POST', '/v1/chat/completions', (request, res) => sendJson(res, 200, { id: 'chatcmpl-x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: request.body.length.toString() } }] }));
    await upstream.start();
    ws.cleanup.push(() => upstream.stop());
    const testIds = ['node_modules/pkg/test_a.py::t', '.hidden/test_b.py::t', 'tests/x/test_c.py::t', '../escape/test_d.py::t', 'a/./b/test_e.py::t', 'src/node_modules/x.test.ts::t', 'tests/x.test.ts::t', '/abs/test_f.py::t'];
    const recorder = await ws.start({ mode: 'record', layout: 'by-test-file', upstream: upstream.url });
    base = recorder.url;
    for (const testId of testIds) expect((await chat('hello', testId)).status).toBe(200);
    await recorder.close();
    const written = (await listFiles(ws.dir)).filter((file) => file.endsWith('.json'));
    expect(written).toHaveLength(testIds.length);
    const store = await RecordingStore.open(ws.dir);
    expect(store.size).toBe(testIds.length);
    expect(store.skipped).toEqual([]);
    expect(store.unreadFolders).toEqual([]);
    await upstream.stop();
    const replayer = await ws.start({ mode: 'replay' });
    base = replayer.url;
    for (const testId of testIds) expect({ testId, status: (await chat('hello', testId)).status }).toEqual({ testId, status: 200 });
  });

  it('follows links inside the directory, refuses those that leave it, and names what it leaves out', async () => {
    const outside = await tempDir();
    ws.cleanup.push(() => removeDir(outside));
    const [inFolder, inFile, beyond, unread] = await Promise.all(['in a linked folder', 'a linked file', 'outside', 'in node_modules'].map(recordingFile));
    await mkdir(path.join(ws.dir, '.store'));
    await writeFile(path.join(ws.dir, '.store', `${inFolder!.key}.json`), inFolder!.text);
    await writeFile(path.join(ws.dir, '.store', 'kept-under-another-name'), inFile!.text);
    await writeFile(path.join(outside, `${beyond!.key}.json`), beyond!.text);
    await mkdir(path.join(ws.dir, 'node_modules', 'x'), { recursive: true });
    await writeFile(path.join(ws.dir, 'node_modules', 'x', `${unread!.key}.json`), unread!.text);
    await symlink(path.join(ws.dir, '.store'), path.join(ws.dir, 'shared'));
    await symlink(path.join(ws.dir, '.store', 'kept-under-another-name'), path.join(ws.dir, `${inFile!.key}.json`));
    await symlink(outside, path.join(ws.dir, 'elsewhere'));
    await symlink(path.join(outside, `${beyond!.key}.json`), path.join(ws.dir, `${beyond!.key}.json`));
    await symlink(path.join(ws.dir, 'gone'), path.join(ws.dir, 'broken'));
    await symlink(ws.dir, path.join(ws.dir, 'loop'));

    const store = await RecordingStore.open(ws.dir);
    expect(store.size).toBe(2);
    const reasons = Object.fromEntries(store.skipped.map(({ file, reason }) => [path.relative(ws.dir, file), reason]));
    expect(reasons).toEqual({
      elsewhere: expect.stringMatching(/^a link to .*, outside the recordings directory: refused$/),
      [`${beyond!.key}.json`]: expect.stringMatching(/outside the recordings directory: refused$/),
      broken: 'a broken link',
      loop: 'a link to a folder already read (a loop)',
    });
    expect(store.unreadFolders.map((folder) => path.relative(ws.dir, folder)).sort()).toEqual(['.store', 'node_modules']);

    const logs = new PassThrough();
    let logText = '';
    logs.on('data', (part: Buffer) => (logText += part.toString()));
    const server = await ws.start({ mode: 'replay', logLevel: 'warn', logStream: logs });
    base = server.url;
    expect((await chat('in a linked folder')).status).toBe(200);
    expect((await chat('a linked file')).status).toBe(200);
    expect((await chat('outside')).status).toBe(404);
    for (const name of ['elsewhere', 'broken', 'loop', '.store', 'node_modules']) expect(logText).toContain(path.join(ws.dir, name));

    await expect(startServer({ mode: 'replay', recordings: ws.dir, port: 0, strict: true, logLevel: 'silent' })).rejects.toThrow(/strict: 4 unusable file\(s\)[\s\S]*elsewhere: a link to/);
    const report = await verifyRecordings(ws.dir, 'default');
    expect(report.ok).toBe(2);
    expect(report.problems.map((p) => `${p.kind} ${path.relative(ws.dir, p.file)}`).sort()).toEqual(
      ['ignored .store', 'ignored node_modules', 'unusable broken', 'unusable elsewhere', 'unusable loop', `unusable ${beyond!.key}.json`].sort(),
    );
  });

  it('never writes through a link that start-up refused: a by-test-file folder behind it falls back to the top folder', async () => {
    const outside = await tempDir();
    ws.cleanup.push(() => removeDir(outside));
    await symlink(outside, path.join(ws.dir, 'tests'));
    await mkdir(path.join(outside, 'deep'));
    await mkdir(path.join(ws.dir, 'real'));
    await symlink(path.join(outside, 'deep'), path.join(ws.dir, 'real', 'linked'));
    const upstream = new FakeUpstream().on('POST', '/v1/chat/completions', (_request, res) => sendJson(res, 200, { id: 'chatcmpl-x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' } }] }));
    await upstream.start();
    ws.cleanup.push(() => upstream.stop());
    const recorder = await ws.start({ mode: 'record', layout: 'by-test-file', upstream: upstream.url });
    base = recorder.url;
    for (const testId of ['tests/test_a.py::t', 'tests/new/test_b.py::t', 'real/linked/test_c.py::t', 'real/test_d.py::t']) expect((await chat(testId, testId)).status).toBe(200);
    await recorder.close();
    expect(await listFiles(outside)).toEqual([]);
    const inside = (await listFiles(ws.dir)).filter((file) => file.endsWith('.json')).map((file) => file.split(path.sep).slice(0, -1).join('/'));
    expect(inside.sort()).toEqual(['', '', '', 'real/recordings']);
  });

  it('reads a file once, at its real place, when a link inside the directory also leads to it: nothing unusable, --strict starts', async () => {
    const [inReal, inOther] = await Promise.all(['in a real folder', 'in another folder'].map(recordingFile));
    await mkdir(path.join(ws.dir, 'real'));
    await mkdir(path.join(ws.dir, 'other'));
    await writeFile(path.join(ws.dir, 'real', `${inReal!.key}.json`), inReal!.text);
    await writeFile(path.join(ws.dir, 'other', `${inOther!.key}.json`), inOther!.text);
    // Links that sort before and after their targets: the order the scan meets them in must not matter.
    await symlink(path.join(ws.dir, 'real'), path.join(ws.dir, 'a-alias'));
    await symlink(path.join(ws.dir, 'real'), path.join(ws.dir, 'z-alias'));
    await symlink(path.join(ws.dir, 'other', `${inOther!.key}.json`), path.join(ws.dir, `${inOther!.key}.json`));
    // One answer shared by another request: a link under another key's name is a recording of its own.
    const [shared] = await Promise.all(['sharing an answer'].map(recordingFile));
    await symlink(path.join(ws.dir, 'real', `${inReal!.key}.json`), path.join(ws.dir, `${shared!.key}.json`));
    const store = await RecordingStore.open(ws.dir);
    expect(store.size).toBe(3);
    expect(store.has(shared!.key)).toBe(true);
    expect(store.skipped).toEqual([]);
    expect(store.aliases.map((file) => path.relative(ws.dir, file)).sort()).toEqual(['a-alias', `${inOther!.key}.json`, 'z-alias'].sort());
    const server = await ws.start({ mode: 'replay', strict: true });
    base = server.url;
    expect((await chat('in a real folder')).status).toBe(200);
    expect((await chat('in another folder')).status).toBe(200);
    const report = await verifyRecordings(ws.dir, 'default');
    // The shared answer is served under the link's name, and verify says its request keys otherwise, as for any misnamed file.
    expect({ ok: report.ok, problems: report.problems.map((p) => [p.kind, path.relative(ws.dir, p.file)]) }).toEqual({ ok: 2, problems: [['key-mismatch', `${shared!.key}.json`]] });
  });
});
