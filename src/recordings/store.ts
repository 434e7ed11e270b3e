// The recordings directory: an index of key -> file built from file names at any
// depth, recordings just written kept in memory until first read, and atomic writes
// so a crash or a concurrent request never leaves a half-written recording. It knows
// recordings, not HTTP: what a recording answers is the replay layer's business.
import { readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { RecordingFileError } from '../errors.js';
import { parseRecording, serializeRecording, type Recording } from './recording.js';
import { TEMP_PREFIX, writeAtomically, writerAlive } from './atomic-write.js';

export interface StoreLogger {
  warn(message: string): void;
}

const KEY_FILE = /^[0-9a-f]{64}\.json$/;
const KEY_FILE_LENGTH = 64 + '.json'.length;
const MODEL_LIST_FILE = /^models-([0-9a-f]{64})-([0-9a-f]{8})\.json$/;
const CACHE_LIMIT = 4096;

export interface IndexEntry {
  key: string;
  /** Absolute paths: one file, or several for a llama-stack model list. */
  files: string[];
  modelList: boolean;
}

/** A recording that has just reached the disk. */
export interface WrittenRecording {
  key: string;
  /** Absolute path. */
  file: string;
  recording: Recording;
  bytes: number;
}

export class RecordingStore {
  /**
   * Where each key's file is. For the usual `<key>.json` only its folder is kept, one
   * string shared by every file in it (a large directory holds 100,000 keys: an entry
   * object and an absolute path each cost several times the key); anything else
   * (model lists) keeps its whole entry.
   */
  private readonly index = new Map<string, string | IndexEntry>();
  private readonly folders = new Map<string, string>();
  private readonly saveListeners: Array<(key: string) => void> = [];
  private readonly writtenListeners: Array<(written: WrittenRecording) => void> = [];
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
    const found = this.index.get(key);
    return typeof found === 'string' ? { key, files: [path.join(found, `${key}.json`)], modelList: false } : found;
  }

  *entries(): IterableIterator<IndexEntry> {
    for (const key of this.index.keys()) yield this.entry(key)!;
  }

  private async scan(dir: string, removeStaleTemps: boolean): Promise<void> {
    const items = await readdir(dir, { withFileTypes: true });
    for (const item of items) {
      const { name } = item;
      // The usual file first, with no path built: the folder string is shared by all of them.
      if (name.length === KEY_FILE_LENGTH && name.endsWith('.json') && item.isFile() && KEY_FILE.test(name)) {
        this.add(name.slice(0, 64), dir, name, false);
        continue;
      }
      const full = path.join(dir, name);
      if (item.isDirectory()) {
        if (name.startsWith('.') || name === 'node_modules') continue;
        await this.scan(full, removeStaleTemps);
        continue;
      }
      if (name.startsWith(TEMP_PREFIX)) {
        if (removeStaleTemps && !writerAlive(name)) await unlink(full).catch(() => undefined);
        continue;
      }
      if (!item.isFile() || !name.endsWith('.json')) continue;
      const models = MODEL_LIST_FILE.exec(name);
      if (models?.[1] === undefined) {
        this.skipped.push({ file: full, reason: 'its name is not <key>.json or models-<key>-<digest>.json' });
        continue;
      }
      this.add(models[1], dir, name, true);
    }
  }

  /** Indexes one file found by the scan. */
  private add(key: string, dir: string, name: string, modelList: boolean): void {
    const existing = this.entry(key);
    if (!existing) {
      this.index.set(key, modelList ? { key, files: [path.join(dir, name)], modelList } : dir);
    } else if (modelList && existing.modelList) {
      existing.files.push(path.join(dir, name));
    } else {
      this.skipped.push({ file: path.join(dir, name), reason: `duplicate of ${path.relative(this.dir, existing.files[0] ?? '')}` });
    }
  }

  /** One string per folder, however many recordings are saved into it. */
  private folder(dir: string): string {
    let shared = this.folders.get(dir);
    if (shared === undefined) this.folders.set(dir, (shared = dir));
    return shared;
  }

  /** Reads and validates one recording file (`exactNumbers` false: numbers as JSON.parse reads them, for a look only). */
  async read(file: string, exactNumbers = true): Promise<Recording> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new RecordingFileError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    return parseRecording(text, file, exactNumbers);
  }

  /** The recordings behind a key (several for a model list). */
  async load(key: string): Promise<Recording[]> {
    const entry = this.entry(key);
    return entry ? Promise.all(entry.files.map((file) => this.read(file))) : [];
  }

  /** The recordings behind a key (several for a model list): one just written comes from memory. */
  recordingsOf(key: string): Promise<Recording[]> | undefined {
    if (!this.index.has(key)) return undefined;
    const recording = this.fresh.get(key);
    if (recording) {
      this.fresh.delete(key);
      return Promise.resolve([recording]);
    }
    return this.load(key);
  }

  /** Calls `listener` with the key of every recording written (or being written) from now on. */
  onSave(listener: (key: string) => void): void {
    this.saveListeners.push(listener);
  }

  /** Calls `listener` once each recording saved from now on is on disk. */
  onWritten(listener: (written: WrittenRecording) => void): void {
    this.writtenListeners.push(listener);
  }

  /**
   * Stores a recording: answerable at once from memory, on disk atomically.
   * `relativeDir` is where a new key goes; a key already on disk is rewritten in place.
   */
  save(key: string, recording: Recording, relativeDir: string, fileName = `${key}.json`): Promise<void> {
    const existing = this.entry(key);
    const target = existing && !existing.modelList ? (existing.files[0] as string) : path.join(this.dir, relativeDir, fileName);
    const modelList = fileName.startsWith('models-');
    if (modelList && existing?.modelList) {
      if (!existing.files.includes(target)) existing.files.push(target);
    } else if (!modelList && path.basename(target) === `${key}.json`) {
      this.index.set(key, this.folder(path.dirname(target)));
    } else {
      this.index.set(key, { key, files: [target], modelList });
    }
    for (const listener of this.saveListeners) listener(key);
    if (!modelList) {
      this.fresh.set(key, recording);
      if (this.fresh.size > CACHE_LIMIT) this.fresh.delete(this.fresh.keys().next().value as string);
    }
    const text = serializeRecording(recording);
    const write = writeAtomically(target, text)
      .then(
        () => {
          const written = { key, file: target, recording, bytes: Buffer.byteLength(text) };
          for (const listener of this.writtenListeners) listener(written);
        },
        (error: unknown) => {
          // Not on disk means not recorded: forget it so the next request tries again.
          if (!existing) {
            this.index.delete(key);
            this.fresh.delete(key);
            for (const listener of this.saveListeners) listener(key);
          }
          throw new RecordingFileError(target, `cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
        },
      )
      .finally(() => this.pendingWrites.delete(write));
    this.pendingWrites.add(write);
    return write;
  }

  /** Waits for every write in flight (used on shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pendingWrites]);
  }
}
