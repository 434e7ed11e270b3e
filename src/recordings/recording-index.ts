// Where each key's recordings are: key -> files, one per occurrence in ascending order,
// or the parts of a llama-stack model list. In memory only; the store keeps it in step
// with the directory.
import path from 'node:path';
import { recordingId } from './occurrence.js';

export interface IndexEntry {
  key: string;
  /** Absolute paths: one per occurrence in ascending order, or the parts of a llama-stack model list. */
  files: string[];
  /** The occurrence of each file (1 for every part of a model list). */
  occurrences: number[];
  modelList: boolean;
}

/** Where an occurrence goes among the sorted ones: its index, and whether it is there already. */
function slotOf(entry: IndexEntry, occurrence: number): { index: number; found: boolean } {
  let index = 0;
  while (index < entry.occurrences.length && (entry.occurrences[index] as number) < occurrence) index++;
  return { index, found: entry.occurrences[index] === occurrence };
}

export class RecordingIndex {
  /**
   * For the usual key, recorded once as `<key>.json`, only its folder is kept, one
   * string shared by every file in it (a large directory holds 100,000 keys: an entry
   * object and an absolute path each cost several times the key); anything else (more
   * occurrences, model lists) keeps its whole entry.
   */
  private readonly byKey = new Map<string, string | IndexEntry>();
  private readonly folders = new Map<string, string>();
  /** How many recordings: one per occurrence, one per model list. */
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  entry(key: string): IndexEntry | undefined {
    const found = this.byKey.get(key);
    return typeof found === 'string' ? { key, files: [path.join(found, `${key}.json`)], occurrences: [1], modelList: false } : found;
  }

  *entries(): IterableIterator<IndexEntry> {
    for (const key of this.byKey.keys()) yield this.entry(key)!;
  }

  /** Every file with the recording id usage data names it by (`<key>`, `<key>.<n>`; a model list's parts: `<key>`). */
  *filesWithIds(): Generator<{ id: string; file: string; key: string; occurrence: number }> {
    for (const entry of this.entries()) {
      for (const [i, file] of entry.files.entries()) {
        const occurrence = entry.occurrences[i] as number;
        yield { id: recordingId(entry.key, occurrence), file, key: entry.key, occurrence };
      }
    }
  }

  /** Whether a key is a model list: its parts are one answer, with no occurrences. */
  isModelList(key: string): boolean {
    const found = this.byKey.get(key);
    return found !== undefined && typeof found !== 'string' && found.modelList;
  }

  /** The file of one occurrence of a key (a model list's first part), if recorded. */
  fileOf(key: string, occurrence: number): string | undefined {
    const found = this.byKey.get(key);
    if (found === undefined) return undefined;
    if (typeof found === 'string') return occurrence === 1 ? path.join(found, `${key}.json`) : undefined;
    if (found.modelList) return found.files[0];
    const slot = slotOf(found, occurrence);
    return slot.found ? found.files[slot.index] : undefined;
  }

  /**
   * Indexes one file found on disk (`dir`: the scan's one string for its folder); returns
   * the file it duplicates (the same occurrence of the key), if any, which is kept instead.
   */
  found(key: string, dir: string, name: string, occurrence: number, modelList: boolean): string | undefined {
    if (!this.byKey.has(key)) {
      this.byKey.set(key, modelList || occurrence !== 1 ? { key, files: [path.join(dir, name)], occurrences: [occurrence], modelList } : dir);
      this.count++;
      return undefined;
    }
    const entry = this.full(key);
    if (modelList && entry.modelList) {
      entry.files.push(path.join(dir, name));
      entry.occurrences.push(1);
      return undefined;
    }
    const slot = !modelList && !entry.modelList ? slotOf(entry, occurrence) : { index: 0, found: true };
    if (slot.found) return entry.files[slot.index] ?? '';
    entry.files.splice(slot.index, 0, path.join(dir, name));
    entry.occurrences.splice(slot.index, 0, occurrence);
    this.count++;
    return undefined;
  }

  /** Indexes a file just written for a key (a new file: one already indexed is rewritten in place). */
  written(key: string, file: string, occurrence: number, modelList: boolean): void {
    if (!this.byKey.has(key)) {
      this.byKey.set(key, modelList || occurrence !== 1 ? { key, files: [file], occurrences: [occurrence], modelList } : this.folder(path.dirname(file)));
      this.count++;
      return;
    }
    const entry = this.full(key);
    if (modelList !== entry.modelList) {
      // A key recorded one way and now the other (a listing that failed, then answered): the new file replaces the old.
      this.count += 1 - (entry.modelList ? 1 : entry.files.length);
      this.byKey.set(key, { key, files: [file], occurrences: [occurrence], modelList });
      return;
    }
    if (modelList) {
      if (!entry.files.includes(file)) {
        entry.files.push(file);
        entry.occurrences.push(1);
      }
      return;
    }
    const slot = slotOf(entry, occurrence);
    entry.files.splice(slot.index, 0, file);
    entry.occurrences.splice(slot.index, 0, occurrence);
    this.count++;
  }

  /** Drops a file removed from the directory. */
  removed(key: string, file: string): void {
    const entry = this.byKey.has(key) ? this.full(key) : undefined;
    const at = entry ? entry.files.indexOf(file) : -1;
    if (!entry || at < 0) return;
    entry.files.splice(at, 1);
    entry.occurrences.splice(at, 1);
    if (!entry.modelList) this.count--;
    if (entry.files.length === 0) {
      this.byKey.delete(key);
      if (entry.modelList) this.count--;
    }
  }

  /** A key's entry as an object kept in the index, to be changed in place. */
  private full(key: string): IndexEntry {
    const found = this.byKey.get(key);
    if (typeof found !== 'string') return found as IndexEntry;
    const entry = this.entry(key) as IndexEntry;
    this.byKey.set(key, entry);
    return entry;
  }

  /** One string per folder, however many recordings are saved into it. */
  private folder(dir: string): string {
    let shared = this.folders.get(dir);
    if (shared === undefined) this.folders.set(dir, (shared = dir));
    return shared;
  }
}
