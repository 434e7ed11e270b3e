// The record lock of a directory: one record-mode server at a time, and a dead run's lock
// taken over, including one left under this very pid (a container restarts as pid 1 again).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, RecordLock, RecordLockError } from '../src/recordings/record-lock.js';
import { removeDir, tempDir } from './support/harness.js';

describe('the record lock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('refuses a second holder in this process while the first holds it, and lets it take over once released', () => {
    const first = new RecordLock(dir);
    first.acquire();
    const second = new RecordLock(dir);
    expect(() => second.acquire()).toThrow(RecordLockError);
    first.release();
    second.acquire();
    second.release();
  });

  it("takes over a lock left under this process's pid by a run that no longer exists", () => {
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, token: 'a-dead-run', since: '2026-01-01T00:00:00.000Z' }));
    const lock = new RecordLock(dir);
    lock.acquire();
    lock.release();
  });
});
