// A record-mode server killed while its parent does not reap it (a supervisor that is
// busy or broken, a container's pid 1 that never waits) stays a zombie: its pid still
// answers kill(0), yet it records nothing. Its lock is taken over, not refused forever.
// The zombie is real: `sh` starts a child in the background and becomes `sleep`, which
// never waits for it, so the child stays unreaped after it exits. Linux (/proc) only.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processAlive } from '../../src/recordings/atomic-write.js';
import { processStartTime } from '../../src/recordings/process-stat.js';
import { LOCK_FILE, RecordLock } from '../../src/recordings/record-lock.js';
import { removeDir, tempDir } from '../support/harness.js';

let dir: string;
let parent: ChildProcess | undefined;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  if (parent && parent.exitCode === null && parent.signalCode === null) {
    const exited = once(parent, 'exit');
    parent.kill('SIGKILL');
    await exited;
  }
  parent = undefined;
  await removeDir(dir);
});

/** Starts a parent that never reaps its child and resolves with the child's pid once it is a zombie. */
async function zombie(): Promise<number> {
  parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
  const pid = Number(line.toString().trim());
  // The child exits at once; its state turns Z when it has. Bounded: 200 looks, 10 ms apart.
  for (let look = 0; look < 200; look++) {
    const state = readFileSync(`/proc/${pid}/stat`, 'latin1').split(')').pop()!.trim()[0];
    if (state === 'Z') return pid;
    await delay(10);
  }
  throw new Error(`pid ${pid} never became a zombie`);
}

describe.runIf(process.platform === 'linux')('a record lock held by a zombie', () => {
  it('counts the zombie as not running, though kill(0) still finds its pid', async () => {
    const pid = await zombie();
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(processAlive(pid)).toBe(false);
  });

  it('is taken over', async () => {
    const pid = await zombie();
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid, token: 'a-killed-server', since: '2026-01-01T00:00:00.000Z', started: processStartTime(pid) }));
    const lock = new RecordLock(dir);
    lock.acquire();
    expect(JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });
});
