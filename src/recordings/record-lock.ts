// One record-mode server per recordings directory. Record mode removes the later
// occurrences of an older recording of a sequence; two servers doing that in one
// directory could delete each other's new files. The lock is a file naming its
// holder's pid, its host name and, where /proc tells it, the process's start time; a
// lock left by a process no longer running (a crash, kill -9, a killed process its
// parent has not reaped) is taken over, also when its pid now belongs to another process
// (the start time differs); one held by a live holder, or by a process on another host
// (a container or machine sharing the directory: its pids are not this one's to check),
// is refused with who holds it and which file to delete if that is wrong.
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { LlmReplayError } from '../errors.js';
import { processAlive, TEMP_PREFIX } from './atomic-write.js';
import { processStartTime } from './process-stat.js';

export const LOCK_FILE = '.llm-replay-record.lock';

export interface LockHolder {
  pid: number;
  token: string;
  since: string;
  /** The holder's start time (/proc/<pid>/stat's starttime); absent in older locks and without /proc. */
  started?: string;
  /** The holder's host name (a container's is its own); absent in older locks. */
  host?: string;
}

/** A holder on another host: its pid names no process here (another container, another machine on a shared folder). */
function elsewhere(holder: LockHolder): boolean {
  return typeof holder.host === 'string' && holder.host !== hostname();
}

/** How often a holder touches its lock file; one untouched for STALE_MS has no holder left (another host's cannot be asked). */
export const REFRESH_MS = 10_000;
export const STALE_MS = 6 * REFRESH_MS;

function touchedWithin(file: string, ms: number): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs < ms;
  } catch {
    return false;
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

export class RecordLockError extends LlmReplayError {
  override name = 'RecordLockError';
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
    readonly file: string,
  ) {
    const who = elsewhere(holder)
      ? `pid ${holder.pid} on host ${holder.host} (since ${holder.since}), which has touched the lock within the last ${STALE_MS / 1000} s (another container or machine sharing the directory, whose processes this host cannot see)`
      : `pid ${holder.pid} (since ${holder.since}), which is still running`;
    super(
      `${dir} is locked for recording by ${who}: two record-mode servers on one directory could delete or mix each other's recordings. If that is an llm-replay server recording there, stop it, record into another directory, or use record-if-missing (which never removes a file). If you are sure no server is recording there, delete ${file}`,
    );
  }
}

/** A lock taken over: whose it was (undefined for an unreadable one) and why it was judged to have no holder left. */
export interface TakenOver {
  holder?: LockHolder;
  why: string;
}

/** What a start that took over a lock logs: whose it was, and why it was judged dead. */
export function takenOverMessage(dir: string, { holder, why }: TakenOver): string {
  return holder ? `took over the record lock of ${dir} left by pid ${holder.pid} (since ${holder.since}; ${why})` : `took over the record lock of ${dir}: ${why}`;
}

/** The tokens of the locks this process holds: a lock naming this pid with another token is a dead run's. */
const heldHere = new Set<string>();

/**
 * Why a lock's holder is no longer there, or undefined while it is. A holder with this
 * process's pid is alive only if a server of this process took it: a container restarted
 * after a kill gets the same pid (often 1) and must not refuse itself. Another pid is the
 * holder only while it runs and started when the holder did: a pid reused by an unrelated
 * process has another start time. Where either start time is unknown (an older lock, no
 * /proc), the pid alone decides. A holder on another host is running while it keeps
 * touching the lock file.
 */
function holderGone(holder: LockHolder, file: string): string | undefined {
  // Its pid is not to be judged from here (a container's pids repeat another's, both often 1): its holder touches it while it lives.
  if (elsewhere(holder)) return touchedWithin(file, STALE_MS) ? undefined : `on host ${holder.host}, untouched for over ${STALE_MS / 1000} s`;
  if (holder.pid === process.pid) return heldHere.has(holder.token) ? undefined : 'an earlier process with this pid, as after a container restarts';
  if (!processAlive(holder.pid)) return 'no longer running';
  if (typeof holder.started !== 'string') return undefined;
  const started = processStartTime(holder.pid);
  return started === undefined || started === holder.started ? undefined : 'its pid now belongs to another process, started at another time';
}

/** The record lock of one directory, held by one server (a second server in this process is refused too). */
export class RecordLock {
  private held = false;
  private refresh: NodeJS.Timeout | undefined;
  private readonly token = randomBytes(8).toString('hex');
  private readonly file: string;

  constructor(readonly dir: string) {
    this.file = path.join(dir, LOCK_FILE);
  }

  /**
   * Takes the lock, or throws RecordLockError naming its holder. Taking it again is a
   * no-op. Returns whose lock was taken over and why, if one was, for the log.
   */
  acquire(): TakenOver | undefined {
    if (this.held) return undefined;
    let takenOver: TakenOver | undefined;
    const started = processStartTime(process.pid);
    const mine: LockHolder = { pid: process.pid, token: this.token, since: new Date().toISOString(), host: hostname(), ...(started ? { started } : {}) };
    // Bounded: a dead holder's lock is removed once, then the create is tried again.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.create(JSON.stringify(mine))) {
        this.held = true;
        heldHere.add(this.token);
        this.refresh = setInterval(() => this.touch(), REFRESH_MS).unref();
        return takenOver;
      }
      const holder = readHolder(this.file);
      const gone = holder && holderGone(holder, this.file);
      if (holder && !gone) throw new RecordLockError(this.dir, holder, this.file);
      // Dead, or unreadable twice in a row (a lock is created whole, so only an older version's can be caught mid-write): taken over.
      if (holder || attempt > 0) {
        takenOver = holder ? { holder, why: gone as string } : (takenOver ?? { why: 'it was unreadable (empty, or not the JSON a lock holds)' });
        try {
          unlinkSync(this.file);
        } catch {
          // someone else took it over first: the next create says who
        }
      }
    }
    throw new RecordLockError(this.dir, readHolder(this.file) ?? { pid: 0, token: '', since: 'unknown' }, this.file);
  }

  /**
   * Creates the lock file whole, or returns false when there is one: written beside it and
   * hard-linked into place (a link fails on an existing name), so no other server ever reads
   * it half-written. Where links cannot be made, it is created in place.
   */
  private create(content: string): boolean {
    const temp = path.join(this.dir, `${TEMP_PREFIX}${process.pid}-lock-${this.token}`);
    try {
      writeFileSync(temp, content);
      linkSync(temp, this.file);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
    } finally {
      try {
        unlinkSync(temp);
      } catch {
        // never written
      }
    }
    try {
      writeFileSync(this.file, content, { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  /** Shows a server on another host that this holder still runs. */
  private touch(): void {
    try {
      const now = new Date();
      utimesSync(this.file, now, now);
    } catch {
      // removed by hand: the next start finds no lock
    }
  }

  /** Lets the lock go, if this server holds it. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    clearInterval(this.refresh);
    heldHere.delete(this.token);
    if (readHolder(this.file)?.token !== this.token) return;
    try {
      unlinkSync(this.file);
    } catch {
      // already gone
    }
  }
}
