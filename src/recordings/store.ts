// The recordings directory: an index of key -> file built from file names at any
// depth, prepared answers cached in memory, and atomic writes (temp file + rename)
// so a crash or a concurrent request never leaves a half-written recording.
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { RecordingFileError } from '../errors.js';
import { parseRecording, serializeRecording, type Recording } from './recording.js';
import { prepareModelList, prepareResponse, type PreparedResponse } from '../replay/prepare.js';

export interface StoreLogger {
  warn(message: string): void;
}

export const TEMP_PREFIX = '.llm-replay-tmp-';
const KEY_FILE = /^([0-9a-f]{64})\.json$/;
const MODEL_LIST_FILE = /^models-([0-9a-f]{64})-([0-9a-f]{8})\.json$/;
const CACHE_LIMIT = 4096;

export interface IndexEntry {
  key: string;
  /** Absolute paths: one file, or several for a llama-stack model list. */
  files: string[];
  modelList: boolean;
}

export class RecordingStore {
  private readonly index = new Map<string, IndexEntry>();
  /** Prepared answers, least recently used first; `value` is set once loaded, for a synchronous answer. */
  private readonly prepared = new Map<string, { promise: Promise<PreparedResponse>; value?: PreparedResponse }>();
  private readonly pendingWrites = new Set<Promise<void>>();
  /** Recordings just written, prepared for replay only if they are asked for. */
  private readonly fresh = new Map<string, Recording>();
  /** Files that could not be used, with why; reported once at start-up. */
  readonly skipped: Array<{ file: string; reason: string }> = [];

  private constructor(readonly dir: string) {}

  /** Indexes a directory. With `removeStaleTemps`, temp files of writers no longer running are deleted. */
  static async open(dir: string, options: { removeStaleTemps?: boolean } = {}): Promise<RecordingStore> {
    const store = new RecordingStore(path.resolve(dir));
    await store.scan(store.dir, options.removeStaleTemps ?? false);
    return store;
  }

  get size(): number {
    return this.index.size;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  entry(key: string): IndexEntry | undefined {
    return this.index.get(key);
  }

  entries(): IterableIterator<IndexEntry> {
    return this.index.values();
  }

  private async scan(dir: string, removeStaleTemps: boolean): Promise<void> {
    const items = await readdir(dir, { withFileTypes: true });
    for (const item of items) {
      const full = path.join(dir, item.name);
      if (item.isDirectory()) {
        if (item.name.startsWith('.') || item.name === 'node_modules') continue;
        await this.scan(full, removeStaleTemps);
        continue;
      }
      if (item.name.startsWith(TEMP_PREFIX)) {
        if (removeStaleTemps && !writerAlive(item.name)) await unlink(full).catch(() => undefined);
        continue;
      }
      if (!item.isFile() || !item.name.endsWith('.json')) continue;
      const plain = KEY_FILE.exec(item.name);
      const models = plain ? null : MODEL_LIST_FILE.exec(item.name);
      const key = plain?.[1] ?? models?.[1];
      if (key === undefined) {
        this.skipped.push({ file: full, reason: 'its name is not <key>.json or models-<key>-<digest>.json' });
        continue;
      }
      const existing = this.index.get(key);
      if (!existing) {
        this.index.set(key, { key, files: [full], modelList: models !== null });
      } else if (models && existing.modelList) {
        existing.files.push(full);
      } else {
        this.skipped.push({ file: full, reason: `duplicate of ${path.relative(this.dir, existing.files[0] ?? '')}` });
      }
    }
  }

  /** Reads and validates one recording file. */
  async read(file: string): Promise<Recording> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new RecordingFileError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    return parseRecording(text, file);
  }

  /** The recordings behind a key (several for a model list). */
  async load(key: string): Promise<Recording[]> {
    const entry = this.index.get(key);
    return entry ? Promise.all(entry.files.map((file) => this.read(file))) : [];
  }

  /** The prepared answer for a key when it is already in memory (the replay fast path). */
  ready(key: string): PreparedResponse | undefined {
    const cached = this.prepared.get(key);
    if (cached?.value === undefined) return undefined;
    this.prepared.delete(key);
    this.prepared.set(key, cached);
    return cached.value;
  }

  /** The prepared answer for a key, or undefined when there is no recording. */
  lookup(key: string): Promise<PreparedResponse> | undefined {
    const cached = this.prepared.get(key);
    if (cached) {
      this.prepared.delete(key);
      this.prepared.set(key, cached);
      return cached.promise;
    }
    const entry = this.index.get(key);
    if (!entry) return undefined;
    const recording = this.fresh.get(key);
    if (recording) {
      this.fresh.delete(key);
      const promise = Promise.resolve(prepareResponse(recording));
      this.remember(key, promise);
      return promise;
    }
    const promise = this.load(key).then((recordings) =>
      entry.modelList ? prepareModelList(recordings) : prepareResponse(recordings[0] as Recording),
    );
    // A broken file is reported on every request until it is fixed, not cached as broken.
    promise.catch(() => this.prepared.delete(key));
    this.remember(key, promise);
    return promise;
  }

  private remember(key: string, promise: Promise<PreparedResponse>): void {
    const entry: { promise: Promise<PreparedResponse>; value?: PreparedResponse } = { promise };
    promise.then(
      (value) => (entry.value = value),
      () => undefined,
    );
    this.prepared.set(key, entry);
    if (this.prepared.size > CACHE_LIMIT) {
      const oldest = this.prepared.keys().next().value;
      if (oldest !== undefined) this.prepared.delete(oldest);
    }
  }

  /**
   * Stores a recording: answerable at once from memory, on disk atomically.
   * `relativeDir` is where a new key goes; a key already on disk is rewritten in place.
   */
  save(key: string, recording: Recording, relativeDir: string, fileName = `${key}.json`): Promise<void> {
    const existing = this.index.get(key);
    const target = existing && !existing.modelList ? (existing.files[0] as string) : path.join(this.dir, relativeDir, fileName);
    const modelList = fileName.startsWith('models-');
    if (modelList && existing?.modelList) {
      if (!existing.files.includes(target)) existing.files.push(target);
    } else {
      this.index.set(key, { key, files: [target], modelList });
    }
    this.prepared.delete(key);
    if (!modelList) {
      this.fresh.set(key, recording);
      if (this.fresh.size > CACHE_LIMIT) this.fresh.delete(this.fresh.keys().next().value as string);
    }
    const write = writeAtomically(target, serializeRecording(recording))
      .catch((error: unknown) => {
        // Not on disk means not recorded: forget it so the next request tries again.
        if (!existing) {
          this.index.delete(key);
          this.prepared.delete(key);
          this.fresh.delete(key);
        }
        throw new RecordingFileError(target, `cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      })
      .finally(() => this.pendingWrites.delete(write));
    this.pendingWrites.add(write);
    return write;
  }

  /** Waits for every write in flight (used on shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pendingWrites]);
  }

  /** Reads every recording; returns the ones that cannot be used, with why. */
  async validate(): Promise<Array<{ file: string; reason: string }>> {
    const bad: Array<{ file: string; reason: string }> = [];
    for (const entry of [...this.index.values()]) {
      for (const file of entry.files) {
        try {
          await this.read(file);
        } catch (error) {
          bad.push({ file, reason: (error as Error).message.replace(`${file}: `, '') });
        }
      }
    }
    return bad;
  }
}

/** Temp files are named .llm-replay-tmp-<pid>-<random>: is that process still running? */
function writerAlive(name: string): boolean {
  const pid = Number(name.slice(TEMP_PREFIX.length).split('-')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Folders already known to exist: creating them again costs a system call per recording. */
const knownDirs = new Set<string>();

/**
 * Writes to a temporary file and renames it into place. Synchronous on purpose: a
 * recording is a few kilobytes into the page cache, far quicker done at once than as
 * four trips through libuv's thread pool, which record mode's latency would pay for.
 */
async function writeAtomically(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  if (!knownDirs.has(dir)) {
    mkdirSync(dir, { recursive: true });
    knownDirs.add(dir);
  }
  const temp = path.join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    try {
      writeFileSync(temp, text, { flag: 'wx' });
    } catch (error) {
      // The folder went away since it was seen: make it again, once.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      knownDirs.delete(dir);
      mkdirSync(dir, { recursive: true });
      writeFileSync(temp, text, { flag: 'wx' });
    }
    renameSync(temp, file);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // never created
    }
    throw error;
  }
}
