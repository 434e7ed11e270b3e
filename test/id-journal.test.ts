// The upstream-id journal survives a crash: a torn last line (the process died
// mid-append, or the disk filled part-way through a write) costs only the ids on that
// line; every whole line still maps both ways, and a line written after it is read.
import fs, { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { setImmediate as atTurnEnd } from 'node:timers';
import type { FastifyReply } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdMapper } from '../src/proxy/ids.js';
import { StreamCapture } from '../src/proxy/capture.js';
import { Recorder } from '../src/proxy/recorder.js';
import type { UpstreamBody } from '../src/proxy/upstream-call.js';
import { computeKey } from '../src/keys/index.js';
import { clientRequest } from '../src/request/client-request.js';
import { removeDir, tempDir } from './support/harness.js';

const KEY = 'c'.repeat(64);

let dir = '';
let journal = '';
beforeEach(async () => {
  dir = await tempDir();
  journal = path.join(dir, 'upstream-ids.jsonl');
});
afterEach(() => removeDir(dir));

/** The deterministic id record mode gives the upstream's `real` response id, minted through a session as an answer would be. */
function mintFor(mapper: IdMapper, real: string, key = KEY): string {
  const session = mapper.session(key, '{}');
  const replace = session.replacer({ id: real, object: 'response' });
  // As the answer carrying it would be, before it goes on.
  session.journaled();
  const body = JSON.parse(replace!.inText(JSON.stringify({ id: real }))) as { id: string };
  expect(body.id).toMatch(/^resp_[0-9a-f]{40}$/);
  return body.id;
}

/** The id a later answer carrying `real` is given: the one journaled for it, or a new one. */
function mappedBy(mapper: IdMapper, real: string): string | undefined {
  const replace = mapper.session('d'.repeat(64), '{}').replacer({ id: real, object: 'response' });
  return replace && (JSON.parse(replace.inText(JSON.stringify({ id: real }))) as { id: string }).id;
}

function line(id: string, upstream: string): string {
  return JSON.stringify({ id, upstream, key: KEY }) + '\n';
}

describe('the upstream-id journal after a crash', () => {
  it('writes the ids minted in one turn in one write at its end, unless an answer needs them on disk sooner', async () => {
    const mapper = await IdMapper.open(journal);
    const writes: number[] = [];
    const realWriteSync = fs.writeSync;
    fs.writeSync = ((fd: number, ...rest: unknown[]) => {
      writes.push(fd);
      return (realWriteSync as (...args: unknown[]) => number)(fd, ...rest);
    }) as typeof fs.writeSync;
    syncBuiltinESMExports();
    try {
      const sessions = ['resp_UPSTREAMaaaa0001', 'resp_UPSTREAMbbbb0002'].map((real, i) => mapper.session(String(i).repeat(64), '{}').replacer({ id: real, object: 'response' }));
      expect(sessions.every(Boolean)).toBe(true);
      expect(writes).toEqual([]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(writes).toHaveLength(1);
      expect((await readFile(journal, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
      // An answer about to go on with a new id writes it at once.
      const session = mapper.session('3'.repeat(64), '{}');
      session.replacer({ id: 'resp_UPSTREAMcccc0003', object: 'response' });
      session.journaled();
      expect(writes).toHaveLength(2);
      expect(await readFile(journal, 'utf8')).toContain('resp_UPSTREAMcccc0003');
    } finally {
      fs.writeSync = realWriteSync;
      syncBuiltinESMExports();
      mapper.drain();
    }
  });

  describe('an answer carrying a new id goes on only once its line is in the journal', () => {
    const REAL = 'resp_UPSTREAMaaaa0001';
    const journaledNow = () => existsSync(journal) && readFileSync(journal, 'utf8').includes(REAL);

    it('a stream\'s event (passed on before the turn ends)', async () => {
      const mapper = await IdMapper.open(journal);
      const capture = new StreamCapture('sse', performance.now(), 0, async () => undefined, mapper.session(KEY, '{}'));
      const seen: boolean[] = [];
      capture.on('data', () => seen.push(journaledNow()));
      capture.write(`event: response.created\ndata: ${JSON.stringify({ type: 'response.created', response: { id: REAL, object: 'response' } })}\n\n`);
      await new Promise((resolve) => atTurnEnd(resolve));
      expect(seen).toEqual([true]);
      mapper.drain();
    });

    it('a whole answer whose recording was written before the journal\'s turn-end write (another answer\'s save came first)', async () => {
      const mapper = await IdMapper.open(journal);
      const body = Buffer.from(JSON.stringify({ model: 'gpt-4o', input: 'hi' }));
      const client = clientRequest('POST', '/v1/responses', { 'content-type': 'application/json' }, body);
      const key = computeKey('default', client, { upstreamHost: '127.0.0.1' });
      const seen: boolean[] = [];
      const reply = { send: () => seen.push(journaledNow()) } as unknown as FastifyReply;
      // The save resolves at once, as one queued in the turn's batch before this answer's ids were minted does.
      const recorder = new Recorder({ client, key, dispatcher: undefined as never, upstreamUrl: new URL('http://127.0.0.1/v1/responses'), startedAt: 0, ids: mapper.session(KEY, body.toString()) }, async () => undefined);
      const answer = Buffer.from(JSON.stringify({ id: REAL, object: 'response', output: [] }));
      const upstreamBody = { stream: () => { throw new Error('not streamed'); }, whole: () => Promise.resolve(answer) } as unknown as UpstreamBody;
      const outcome = await recorder.headersReceived(reply, { status: 200, headers: { 'content-type': 'application/json' }, bodiless: false }, upstreamBody);
      expect(outcome.kind).toBe('recorded');
      expect(seen).toEqual([true]);
      mapper.drain();
    });
  });

  it('writes its turn-end batch under fake timers too (a test faking them must not stop the journal)', async () => {
    vi.useFakeTimers();
    try {
      const mapper = await IdMapper.open(journal);
      mapper.session(KEY, '{}').replacer({ id: 'resp_UPSTREAMaaaa0001', object: 'response' });
      await new Promise((resolve) => atTurnEnd(resolve));
      expect(readFileSync(journal, 'utf8')).toContain('resp_UPSTREAMaaaa0001');
      mapper.drain();
    } finally {
      vi.useRealTimers();
    }
  });

  it('loads every whole line of a journal that ends in a torn line, both ways, and rewrites it without the torn line', async () => {
    const whole = [
      [`resp_${'1'.repeat(40)}`, 'resp_UPSTREAMaaaa0001'],
      [`conv_${'2'.repeat(40)}`, 'conv_UPSTREAMbbbb0002'],
      [`msg_${'3'.repeat(40)}`, 'msg_UPSTREAMcccc0003'],
    ] as const;
    const torn = line(`resp_${'4'.repeat(40)}`, 'resp_UPSTREAMdddd0004').slice(0, 30);
    await writeFile(journal, whole.map(([id, upstream]) => line(id, upstream)).join('') + torn);

    const mapper = await IdMapper.open(journal);
    expect(mapper.size).toBe(3);
    for (const [id, upstream] of whole) {
      // deterministic -> real, as a later request is forwarded
      expect(mapper.toUpstream(`/v1/responses/${id}?x=1`)).toBe(`/v1/responses/${upstream}?x=1`);
      // real -> deterministic, as a later answer carrying the upstream's id is recorded
      expect(mappedBy(mapper, upstream)).toBe(id);
    }
    // The torn line's id is lost: its deterministic id passes through unmapped.
    expect(mapper.toUpstream(`resp_${'4'.repeat(40)}`)).toBe(`resp_${'4'.repeat(40)}`);

    const lines = (await readFile(journal, 'utf8')).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((text) => JSON.parse(text))).toEqual(whole.map(([id, upstream]) => ({ id, upstream })));
  });

  it('reads a line appended after the torn one on the next open', async () => {
    await writeFile(journal, line(`resp_${'1'.repeat(40)}`, 'resp_UPSTREAMaaaa0001') + line(`resp_${'2'.repeat(40)}`, 'resp_UPSTREAMbbbb0002').slice(0, 25));
    const first = await IdMapper.open(journal);
    const minted = mintFor(first, 'resp_UPSTREAMeeee0005');
    first.drain();

    const second = await IdMapper.open(journal);
    expect(second.size).toBe(2);
    expect(second.toUpstream(minted)).toBe('resp_UPSTREAMeeee0005');
    expect(second.toUpstream(`resp_${'1'.repeat(40)}`)).toBe('resp_UPSTREAMaaaa0001');
  });

  it('reads a line appended after a last line cut just before its line break', async () => {
    await writeFile(journal, line(`resp_${'1'.repeat(40)}`, 'resp_UPSTREAMaaaa0001').trimEnd());
    const first = await IdMapper.open(journal);
    expect(first.size).toBe(1);
    const minted = mintFor(first, 'resp_UPSTREAMeeee0005');
    first.drain();

    const second = await IdMapper.open(journal);
    expect(second.toUpstream(`resp_${'1'.repeat(40)}`)).toBe('resp_UPSTREAMaaaa0001');
    expect(second.toUpstream(minted)).toBe('resp_UPSTREAMeeee0005');
  });

  describe('a journal that cannot be rewritten at start (its folder takes no new file)', () => {
    const realRenameSync = fs.renameSync;
    afterEach(() => {
      fs.renameSync = realRenameSync;
      syncBuiltinESMExports();
    });

    it('still starts the next line on its own after the torn one', async () => {
      await writeFile(journal, line(`resp_${'1'.repeat(40)}`, 'resp_UPSTREAMaaaa0001') + line(`resp_${'2'.repeat(40)}`, 'resp_UPSTREAMbbbb0002').slice(0, 25));
      fs.renameSync = (() => {
        throw Object.assign(new Error('EACCES: permission denied, rename'), { code: 'EACCES' });
      }) as typeof fs.renameSync;
      syncBuiltinESMExports();
      const first = await IdMapper.open(journal);
      fs.renameSync = realRenameSync;
      syncBuiltinESMExports();
      // Not rewritten: the torn line is still there.
      expect(await readFile(journal, 'utf8')).not.toMatch(/\n$/);
      const minted = mintFor(first, 'resp_UPSTREAMeeee0005');
      first.drain();

      const second = await IdMapper.open(journal);
      expect(second.toUpstream(minted)).toBe('resp_UPSTREAMeeee0005');
      expect(second.toUpstream(`resp_${'1'.repeat(40)}`)).toBe('resp_UPSTREAMaaaa0001');
    });
  });

  describe('a write that fails part-way (a full disk)', () => {
    const realWriteSync = fs.writeSync;
    afterEach(() => {
      fs.writeSync = realWriteSync;
      syncBuiltinESMExports();
    });

    /** Until `restore` is called, the journal's writes put down their first `kept` bytes and then fail as a full disk does. */
    function diskFullAfter(kept: number): void {
      let written = false;
      fs.writeSync = ((fd: number, buffer: Buffer, offset = 0) => {
        if (written) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        written = true;
        return realWriteSync(fd, buffer, offset, kept);
      }) as typeof fs.writeSync;
      syncBuiltinESMExports();
    }

    it('starts the next write on a line of its own, so the line after the torn one is read on the next open', async () => {
      const mapper = await IdMapper.open(journal);
      const before = mintFor(mapper, 'resp_UPSTREAMaaaa0001');

      diskFullAfter(20);
      const lost = mintFor(mapper, 'resp_UPSTREAMbbbb0002', 'e'.repeat(64));
      fs.writeSync = realWriteSync;
      syncBuiltinESMExports();
      const after = mintFor(mapper, 'resp_UPSTREAMcccc0003', 'f'.repeat(64));
      mapper.drain();

      const text = await readFile(journal, 'utf8');
      expect(text.split('\n')).toHaveLength(4); // the whole line, the torn one, the one after it, and the end
      const reopened = await IdMapper.open(journal);
      expect(reopened.toUpstream(before)).toBe('resp_UPSTREAMaaaa0001');
      expect(reopened.toUpstream(after)).toBe('resp_UPSTREAMcccc0003');
      expect(reopened.toUpstream(lost)).toBe(lost);
      expect(reopened.size).toBe(2);
    });
  });
});
