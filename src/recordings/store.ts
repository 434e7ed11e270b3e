// The recordings directory: an index of key -> files (one per occurrence, or the
// parts of a llama-stack model list) built from file names at any depth,
// recordings just written kept in memory until first read, and atomic writes so a
// crash or a concurrent request never leaves a half-written recording. It knows
// recordings, not HTTP: what a recording answers is the replay layer's business.
import { readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { RecordingFileError } from '../errors.js';
import { parseRecording, type Recording } from './recording.js';
import { storedForm } from './stored-form.js';
import { childPath, writeAtomicallyNow } from './atomic-write.js';
import { occurrenceFileName, recordingId } from './occurrence.js';
import { scanDirectory } from './directory-scan.js';
import { RecordLock, takenOverMessage } from './record-lock.js';
import { FolderGuard } from './folder-guard.js';
import { TurnBatch } from './turn-batch.js';
import { RecordingIndex, type IndexEntry } from './recording-index.js';

const CACHE_LIMIT = 4096;

/** A recording that has just reached the disk. */
export interface WrittenRecording {
  key: string;
  /** Absolute path. */
  file: string;
  recording: Recording;
  bytes: number;
}

export class RecordingStore {
  /** Where each key's files are. */
  private readonly index = new RecordingIndex();
  private readonly saveListeners: Array<(id: string) => void> = [];
  private readonly writtenListeners: Array<(written: WrittenRecording) => void> = [];
  private readonly removedListeners: Array<(file: string, removedHere: boolean) => void> = [];
  /** Files this process saved: never removed as part of an older sequence. Those of keys in ownKeys are not listed. */
  private readonly savedHere = new Set<string>();
  /**
   * Keys this process wrote before any file of theirs was known: every file of theirs in
   * the index is this process's (after the scan at open, the index gains only this
   * store's own writes). The usual recording, a new key, costs a key kept here rather
   * than its file's path.
   */
  private readonly ownKeys = new Set<string>();
  /** Keys whose older recording this process began replacing (record mode wrote their occurrence 1 anew over one). */
  private readonly replaced = new Set<string>();
  /** The saves of each turn, made together at its end. */
  private readonly saves = new TurnBatch();
  /** Where a by-test-file folder may be written: never through a link leading out. */
  private readonly guard: FolderGuard;
  /** Recordings just written, by recording id, prepared for replay only if they are asked for. */
  private readonly fresh = new Map<string, Recording>();
  /** Files that could not be used, with why; reported once at start-up. */
  readonly skipped: Array<{ file: string; reason: string }> = [];
  /** Folders not read (hidden ones, node_modules: nothing is written there); reported at start-up. */
  readonly unreadFolders: string[] = [];
  /** Links to a file or folder the scan reads where it is: not read twice, and nothing is lost. */
  readonly aliases: string[] = [];
  /** Temp files of writers no longer running removed at open; reported at start-up. */
  removedTemps = 0;

  private readonly recordLock: RecordLock;
  /** False for a store made without its directory (empty()): it never read one, and cannot answer or record. */
  opened = true;

  private constructor(readonly dir: string) {
    this.recordLock = new RecordLock(dir);
    this.guard = new FolderGuard(dir);
  }

  /**
   * Takes the directory's record lock (record mode removes files: one such server per
   * directory), or throws RecordLockError naming who holds it. Returns a line for the log
   * when a dead holder's lock was taken over.
   */
  lockForRecording(): string | undefined {
    const takenOver = this.recordLock.acquire();
    return takenOver && takenOverMessage(this.dir, takenOver);
  }

  /** Lets the record lock go (on close), if held. */
  unlock(): void {
    this.recordLock.release();
  }

  /** A store of no recordings, for a directory that is not there (live mode, which reads and writes none). */
  static empty(dir: string): RecordingStore {
    const store = new RecordingStore(path.resolve(dir));
    store.opened = false;
    return store;
  }

  /** Indexes a directory. With `removeStaleTemps`, temp files of writers no longer running are deleted. */
  static async open(dir: string, options: { removeStaleTemps?: boolean } = {}): Promise<RecordingStore> {
    const store = new RecordingStore(path.resolve(dir));
    const found = await scanDirectory(store.dir, options.removeStaleTemps ?? false, (file) => {
      const duplicated = store.index.found(file.key, file.dir, file.name, file.occurrence, file.modelList);
      if (duplicated !== undefined) store.skipped.push({ file: path.join(file.dir, file.name), reason: `duplicate of ${path.relative(store.dir, duplicated)}` });
    });
    store.skipped.push(...found.skipped);
    store.unreadFolders.push(...found.unreadFolders);
    store.aliases.push(...found.aliases);
    store.removedTemps = found.removedTemps;
    return store;
  }

  /** How many recordings: one per occurrence, one per model list. */
  get size(): number {
    return this.index.size;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  entry(key: string): IndexEntry | undefined {
    return this.index.entry(key);
  }

  entries(): IterableIterator<IndexEntry> {
    return this.index.entries();
  }

  /** Every file with the recording id usage data names it by (`<key>`, `<key>.<n>`; a model list's parts: `<key>`). */
  filesWithIds(): Generator<{ id: string; file: string; key: string; occurrence: number }> {
    return this.index.filesWithIds();
  }

  /** Reads and validates one recording file (`exactNumbers` false: numbers as JSON.parse reads them, for a look only). */
  async read(file: string, exactNumbers = true): Promise<Recording> {
    return this.readNow(file, exactNumbers);
  }

  /**
   * The same, synchronously. A recording is read once and then answered from memory,
   * and parsing it blocks as long as reading it does: a synchronous read of a small
   * file costs a quarter of the CPU of fs/promises' (25 against 90 µs for 2 KB, no
   * file handle, no hand-off to the thread pool), which was most of a first answer.
   */
  readNow(file: string, exactNumbers = true, forAnswer = false): Recording {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new RecordingFileError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'access');
    }
    return parseRecording(text, file, exactNumbers, forAnswer);
  }

  /** The file of one occurrence of a key (a model list's first part), if recorded. */
  fileOf(key: string, occurrence: number): string | undefined {
    return this.index.fileOf(key, occurrence);
  }

  /**
   * The recordings behind one occurrence of a key (every part of a model list), read
   * now: one just written comes from memory. Throws RecordingFileError for a file that
   * cannot be used.
   */
  recordingsOf(key: string, occurrence = 1): Recording[] | undefined {
    if (!this.index.has(key)) return undefined;
    if (this.index.isModelList(key)) return this.index.entry(key)!.files.map((file) => this.readNow(file, true, true));
    const id = recordingId(key, occurrence);
    const recording = this.fresh.get(id);
    if (recording) {
      this.fresh.delete(id);
      return [recording];
    }
    const file = this.fileOf(key, occurrence);
    return file === undefined ? undefined : [this.readNow(file, true, true)];
  }

  /** Calls `listener` with the recording id (`<key>` or `<key>.<n>`) of every recording written (or being written) from now on. */
  onSave(listener: (id: string) => void): void {
    this.saveListeners.push(listener);
  }

  /** Calls `listener` once each recording saved from now on is on disk. */
  onWritten(listener: (written: WrittenRecording) => void): void {
    this.writtenListeners.push(listener);
  }

  /** Calls `listener` with each file removed from the directory from now on (`removedHere` false: it was gone already, and is only forgotten). */
  onRemoved(listener: (file: string, removedHere: boolean) => void): void {
    this.removedListeners.push(listener);
  }

  /**
   * Whether a key's sequence is an older recording being replaced: it has files this process
   * did not write, or record mode already wrote its occurrence 1 anew over such files (a
   * later occurrence then written out of turn would leave a hole in the new one).
   */
  replacingOlder(key: string): boolean {
    const entry = this.entry(key);
    return this.replaced.has(key) || (entry !== undefined && entry.files.some((file) => !this.isSavedHere(key, file)));
  }

  private isSavedHere(key: string, file: string): boolean {
    return this.ownKeys.has(key) || this.savedHere.has(file);
  }

  /**
   * Occurrence 1 of a key is being recorded anew: the later occurrences of the older
   * recording (files this process did not save: from before this server started, as one
   * record-mode server holds the directory) go first, highest down, so a crash at any
   * point leaves the older sequence's first occurrences and never a hole; then
   * occurrence 1 is written, then the new later ones. Files this process saved (other
   * runs' or tests' recordings of the same request) are never removed. Throws
   * RecordingFileError for a file that cannot be removed (the save then fails).
   */
  private removeOlderSequence(key: string): void {
    const entry = this.entry(key);
    if (!entry || entry.modelList) return;
    const stale = entry.files.flatMap((file, i) => ((entry.occurrences[i] as number) > 1 && !this.isSavedHere(key, file) ? [[file, entry.occurrences[i] as number] as const] : []));
    for (const [file, occurrence] of stale.reverse()) {
      let removedHere = true;
      try {
        unlinkSync(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new RecordingFileError(file, `cannot be removed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'access');
        // Gone already (removed by hand, a checkout): forgotten all the same, but not this process's doing.
        removedHere = false;
      }
      this.forget(key, file, recordingId(key, occurrence));
      for (const listener of this.removedListeners) listener(file, removedHere);
    }
  }

  /**
   * Stores a recording of one occurrence of a key: answerable from memory and on disk
   * atomically, both at the end of this turn of the event loop. A later occurrence says
   * which it is inside. `relativeDir` is where a new key goes (later occurrences go beside
   * the first); one already on disk is rewritten in place. `fileName` names a model list's
   * part. `keepInMemory` false: answered from memory only until it is on disk, then read
   * from its file (record mode, which answers none of what it writes: thousands of
   * recordings held for nothing would cost the garbage collector on every exchange).
   *
   * The recordings saved in one turn (the answers that ended together) are stored one
   * after the other at its end, each written synchronously: the file system's code and data
   * stay in the CPU's caches from one write to the next, which costs less than each write
   * alone among other work (bench/GAPS.md). Nothing of a recording is visible before its
   * own write: no request is answered from a recording that is not on disk yet.
   */
  save(key: string, recording: Recording, relativeDir: string, options: SaveOptions): Promise<void> {
    return this.saves.run(() => this.saveNow(key, recording, relativeDir, options));
  }

  /**
   * One save, synchronous from start to end: the older sequence's removal, the write,
   * then the index and memory, so that nothing of a recording is seen before it is on
   * disk and a failed one leaves nothing behind it.
   */
  private saveNow(key: string, recording: Recording, relativeDir: string, options: SaveOptions): void {
    const modelList = options.fileName?.startsWith('models-') ?? false;
    // A model list is one answer, the union of its parts: it has no occurrences.
    const occurrence = modelList ? 1 : (options.occurrence ?? 1);
    const { recording: stored, bytes: fileBytes } = storedForm(recording, occurrence, options.secrets);
    const existing = this.entry(key);
    const existed = modelList ? undefined : this.fileOf(key, occurrence);
    const target = existed ?? childPath(this.folderFor(existing, relativeDir, modelList), options.fileName ?? occurrenceFileName(key, occurrence));
    // The older sequence's later files go first: a crash before the write leaves its first occurrences.
    const replacing = options.newSequence === true && occurrence === 1 && !modelList && this.replacingOlder(key);
    if (replacing) this.removeOlderSequence(key);
    let size: number;
    try {
      size = writeAtomicallyNow(target, fileBytes);
    } catch (error) {
      // Not on disk means not recorded: nothing of it is kept, and the next request tries again.
      throw new RecordingFileError(target, `cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'access');
    }
    if (existed === undefined) this.index.written(key, target, occurrence, modelList);
    const id = modelList ? key : recordingId(key, occurrence);
    if (replacing) this.replaced.add(key);
    if (existing === undefined) this.ownKeys.add(key);
    else if (!this.ownKeys.has(key)) this.savedHere.add(target);
    for (const listener of this.saveListeners) listener(id);
    if (!modelList && options.keepInMemory !== false) {
      this.fresh.set(id, stored);
      if (this.fresh.size > CACHE_LIMIT) this.fresh.delete(this.fresh.keys().next().value as string);
    }
    const written = { key, file: target, recording: stored, bytes: size };
    for (const listener of this.writtenListeners) listener(written);
  }

  /** The folder a recording of a key goes in: beside its other occurrences, else where its test's recordings go. */
  private folderFor(existing: IndexEntry | undefined, relativeDir: string, modelList: boolean): string {
    // Beside the first occurrence, when there is one (an older sequence's later files alone are about to go).
    const first = existing && !existing.modelList && !modelList ? existing.files[existing.occurrences.indexOf(1)] : undefined;
    return first !== undefined ? path.dirname(first) : this.guard.inside(relativeDir);
  }

  private forget(key: string, file: string, id: string): void {
    this.index.removed(key, file);
    this.fresh.delete(id);
    for (const listener of this.saveListeners) listener(id);
  }

  /** Waits for every save queued (used on shutdown), and for any a finishing exchange asks for meanwhile. */
  drain(): Promise<void> {
    return this.saves.drain();
  }
}

interface SaveOptions {
  /** The credentials of the request it answers (none: `[]`, said, never forgotten): scrubbed from what is written and kept, wherever they are in it. */
  secrets: readonly string[];
  occurrence?: number;
  fileName?: string;
  newSequence?: boolean;
  keepInMemory?: boolean;
}
