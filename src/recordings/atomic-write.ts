// Writes that never leave a half-written file: a temporary file beside the target,
// renamed into place. Temp files carry the writer's pid so a later start can tell
// the leftovers of a dead process from a write in flight.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { makeDirs } from './make-dirs.js';
import { processEnded } from './process-stat.js';

export const TEMP_PREFIX = '.llm-replay-tmp-';

/** Unique within this process by its counter, across processes by pid and a random part drawn once. */
const tempStem = `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}-`;
let tempCount = 0;

/** Temp files are named .llm-replay-tmp-<pid>-<random>-<n>: is that process still running? */
export function writerAlive(name: string): boolean {
  const pid = Number(name.slice(TEMP_PREFIX.length).split('-')[0]);
  return Number.isInteger(pid) && pid > 0 && processAlive(pid);
}

/**
 * Whether a process is running (one of another user's counts: kill(0) is refused, not
 * absent). A killed process its parent has not reaped still answers kill(0): /proc says it ended.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !processEnded(pid);
}

/** `name` (one plain name) in `dir`: path.join's result without its normalising pass, made for every recording. */
export function childPath(dir: string, name: string): string {
  return dir.endsWith(path.sep) ? `${dir}${name}` : `${dir}${path.sep}${name}`;
}

/** Folders already known to exist: creating them again costs a system call per recording. */
const knownDirs = new Set<string>();

/**
 * Writes to a temporary file and renames it into place. Synchronous on purpose: a
 * recording is a few kilobytes into the page cache, far quicker done at once than as
 * four trips through libuv's thread pool, which record mode's latency would pay for.
 */
export async function writeAtomically(file: string, text: string): Promise<void> {
  writeAtomicallyNow(file, text);
}

/** A new file, never an existing one: the temp name is this process's own. */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;

/** Writes `bytes` to a file that must not exist yet. */
function writeNew(file: string, bytes: Buffer): void {
  const fd = openSync(file, CREATE_NEW, 0o666);
  try {
    // A short write (a nearly full disk) goes on from where it stopped.
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
  } finally {
    closeSync(fd);
  }
}

/** writeAtomically, done before it returns (throws when it cannot be done); the file's size in bytes. */
export function writeAtomicallyNow(file: string, content: string | Buffer): number {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const dir = path.dirname(file);
  if (!knownDirs.has(dir)) {
    makeDirs(dir);
    knownDirs.add(dir);
  }
  const temp = childPath(dir, `${tempStem}${++tempCount}`);
  try {
    try {
      writeNew(temp, bytes);
    } catch (error) {
      // The folder went away since it was seen: make it again, once.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      knownDirs.delete(dir);
      makeDirs(dir);
      writeNew(temp, bytes);
    }
    renameSync(temp, file);
    return bytes.length;
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // never created
    }
    throw error;
  }
}

/** Whether a file can be created in `dir`: undefined when it can, else the error's code. Tries it, as root ignores permission bits. */
export function cannotWriteIn(dir: string): string | undefined {
  const probe = path.join(dir, `${TEMP_PREFIX}${process.pid}-probe-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(probe, '', { flag: 'wx' });
    unlinkSync(probe);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
}
