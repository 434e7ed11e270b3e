// The record lock of a directory: one record-mode server at a time, and a dead run's lock
// taken over, including one left under this very pid (a container restarts as pid 1 again)
// and one whose pid now names an unrelated process (its start time differs).
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LOCK_FILE, RecordLock, RecordLockError, REFRESH_MS, STALE_MS, takenOverMessage } from '../src/recordings/record-lock.js';
import { endedInStat, processEnded, processStartTime, startTimeOfStat } from '../src/recordings/process-stat.js';
import { listFiles, removeDir, tempDir } from './support/harness.js';

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
    // Nothing taken over: there was no lock.
    expect(first.acquire()).toBeUndefined();
    const second = new RecordLock(dir);
    expect(() => second.acquire()).toThrow(RecordLockError);
    first.release();
    second.acquire();
    second.release();
  });

  it("takes over a lock left under this process's pid by a run that no longer exists", () => {
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, token: 'a-dead-run', since: '2026-01-01T00:00:00.000Z' }));
    const lock = new RecordLock(dir);
    // The holder taken over is returned, for the log to say whose lock went and why.
    const takenOver = lock.acquire();
    expect(takenOver).toMatchObject({ holder: { pid: process.pid, token: 'a-dead-run' } });
    expect(takenOverMessage(dir, takenOver!)).toBe(`took over the record lock of ${dir} left by pid ${process.pid} (since 2026-01-01T00:00:00.000Z; an earlier process with this pid, as after a container restarts)`);
    lock.release();
  });

  // A live process other than this one: the test runner that started this worker.
  const other = process.ppid;
  const lockNaming = (holder: object) => writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: other, token: 'another-run', since: '2026-01-01T00:00:00.000Z', ...holder }));

  it('takes over a lock whose pid is alive but started at another time: the pid was reused by an unrelated process', () => {
    const started = processStartTime(other);
    expect(started).toMatch(/^\d+$/);
    lockNaming({ started: String(BigInt(started!) + 1n) });
    const lock = new RecordLock(dir);
    // Said as it is: the pid lives, but as another process.
    expect(takenOverMessage(dir, lock.acquire()!)).toBe(`took over the record lock of ${dir} left by pid ${other} (since 2026-01-01T00:00:00.000Z; its pid now belongs to another process, started at another time)`);
    lock.release();
  });

  it('says why it took over a lock whose pid no longer runs', () => {
    const gone = 2 ** 22 + 1;
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: gone, token: 'a-killed-run', since: '2026-01-01T00:00:00.000Z' }));
    const lock = new RecordLock(dir);
    expect(takenOverMessage(dir, lock.acquire()!)).toBe(`took over the record lock of ${dir} left by pid ${gone} (since 2026-01-01T00:00:00.000Z; no longer running)`);
    lock.release();
  });

  it('takes over an unreadable lock (empty, or not JSON) and says so; its own lock is never seen half-written, and leaves nothing beside it', async () => {
    for (const content of ['', '{"pid": 12']) {
      writeFileSync(path.join(dir, LOCK_FILE), content);
      const lock = new RecordLock(dir);
      expect(takenOverMessage(dir, lock.acquire()!)).toBe(`took over the record lock of ${dir}: it was unreadable (empty, or not the JSON a lock holds)`);
      expect(JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
      expect(await listFiles(dir)).toEqual([]);
      lock.release();
    }
  });

  it('refuses a lock whose pid is alive with the start time it names, and says which file to delete', () => {
    lockNaming({ started: processStartTime(other) });
    const lock = new RecordLock(dir);
    expect(() => lock.acquire()).toThrow(`pid ${other}`);
    expect(() => lock.acquire()).toThrow(`If you are sure no server is recording there, delete ${path.join(dir, LOCK_FILE)}`);
  });

  it('says the holder is still running, not what it is: all the lock tells is a live pid', () => {
    lockNaming({ started: processStartTime(other) });
    expect(() => new RecordLock(dir).acquire()).toThrow(`is locked for recording by pid ${other} (since 2026-01-01T00:00:00.000Z), which is still running`);
  });

  it('refuses a lock written before start times were kept while its pid is alive, as before', () => {
    lockNaming({});
    expect(() => new RecordLock(dir).acquire()).toThrow(RecordLockError);
  });

  it("writes its own start time and host into the lock, so a later server can tell it from a pid's next owner and from another container's", () => {
    const lock = new RecordLock(dir);
    lock.acquire();
    const written = JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as { pid: number; started?: string; host?: string };
    expect(written).toMatchObject({ pid: process.pid, started: processStartTime(process.pid), host: hostname() });
    lock.release();
  });

  it("refuses a lock from another host even under this process's pid or a dead one: another container sharing the directory, whose pids it cannot check", () => {
    for (const pid of [process.pid, 2 ** 22 + 1]) {
      writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid, token: 'another-container', since: '2026-01-01T00:00:00.000Z', host: `not-${hostname()}` }));
      expect(() => new RecordLock(dir).acquire()).toThrow(`is locked for recording by pid ${pid} on host not-${hostname()} (since 2026-01-01T00:00:00.000Z), which has touched the lock within the last 60 s`);
    }
    // Untouched for longer than a holder lets it be: nobody holds it any more (a killed container's).
    const longAgo = new Date(Date.now() - STALE_MS - 1000);
    utimesSync(path.join(dir, LOCK_FILE), longAgo, longAgo);
    const takenOver = new RecordLock(dir);
    expect(takenOverMessage(dir, takenOver.acquire()!)).toContain(`left by pid ${2 ** 22 + 1} (since 2026-01-01T00:00:00.000Z; on host not-${hostname()}, untouched for over 60 s)`);
    takenOver.release();
    // The same host (a container restarted under its name, as pid 1 again): the pid and its start time decide, as before.
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, token: 'a-dead-run', since: '2026-01-01T00:00:00.000Z', host: hostname() }));
    const lock = new RecordLock(dir);
    lock.acquire();
    lock.release();
  });

  it('is touched by its holder while held, so that a server on another host can tell a live holder from a killed one', () => {
    vi.useFakeTimers();
    try {
      const lock = new RecordLock(dir);
      lock.acquire();
      const file = path.join(dir, LOCK_FILE);
      const longAgo = new Date(Date.now() - 3_600_000);
      utimesSync(file, longAgo, longAgo);
      vi.advanceTimersByTime(REFRESH_MS);
      expect(Math.abs(statSync(file).mtimeMs - Date.now())).toBeLessThan(2000);
      lock.release();
      // Released: no longer touched.
      writeFileSync(file, '{}');
      utimesSync(file, longAgo, longAgo);
      vi.advanceTimersByTime(REFRESH_MS * 2);
      expect(Math.abs(statSync(file).mtimeMs - longAgo.getTime())).toBeLessThan(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("a process's start time", () => {
  it('is field 22 of /proc/<pid>/stat, counted after the last parenthesis: a command name may hold spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    expect(startTimeOfStat(`4242 (a) b (c) S ${fields.slice(1).join(' ')}`)).toBe('22');
    expect(startTimeOfStat(`4242 (x) 1 2 3) ${fields.join(' ')}\n`)).toBe('22');
    expect(startTimeOfStat('4242 (cut short) S 1 2')).toBeUndefined();
    expect(startTimeOfStat('no parenthesis')).toBeUndefined();
  });

  it("reads this process's own, and nothing for a pid that does not exist", () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(2 ** 22 + 1)).toBeUndefined();
  });
});

describe("a process's state", () => {
  const statWith = (name: string, state: string) => `4242 (${name}) ${state} 1 ${Array.from({ length: 45 }, (_, i) => String(i + 5)).join(' ')}\n`;

  it('is field 3 of /proc/<pid>/stat: Z (a zombie its parent has not reaped) and X (dead) have ended, the others run', () => {
    expect(endedInStat(statWith('node', 'Z'))).toBe(true);
    expect(endedInStat(statWith('node', 'X'))).toBe(true);
    for (const running of ['R', 'S', 'D', 'T', 't', 'I']) expect(endedInStat(statWith('node', running))).toBe(false);
  });

  it('is read after the last parenthesis: a command name holding ") Z" does not make a running process ended', () => {
    expect(endedInStat(statWith('a) Z (b', 'S'))).toBe(false);
    expect(endedInStat(statWith('a) S (b', 'Z'))).toBe(true);
    expect(endedInStat('no parenthesis Z')).toBe(false);
  });

  it("says this process has not ended, and nothing for a pid that does not exist", () => {
    expect(processEnded(process.pid)).toBe(false);
    expect(processEnded(2 ** 22 + 1)).toBe(false);
  });
});
