// What the inspector lists: the catalogue's entries (read in the background from
// start-up, kept up to date on writes), sorted by test id then file, and re-sorted
// only when the catalogue has changed.
import type { CatalogueEntry, RecordingCatalogue } from '../../recordings/catalogue.js';
import type { RecordingRow } from './contract.js';

export interface RowSource {
  /** Every recording catalogued so far, sorted, recordings just written included. */
  rows(): RecordingRow[];
  /** A row by its file, relative to the recordings directory. */
  byFile(file: string): RecordingRow | undefined;
  /** Files the catalogue could not read (relative to the recordings directory), with why. */
  unreadable(): Array<{ file: string; reason: string }>;
  /** Files read of files known, unreadable ones included: the list is complete when they are equal. */
  progress(): { done: number; total: number };
}

/** "item 9" before "item 10". */
const naturally = new Intl.Collator('en', { numeric: true });
const sorted = new WeakMap<RecordingCatalogue, { version: number; rows: CatalogueEntry[] }>();

export function recordingRows(catalogue: RecordingCatalogue): RowSource {
  return {
    rows() {
      let cached = sorted.get(catalogue);
      if (!cached || cached.version !== catalogue.version) {
        const rows = [...catalogue.entries()].sort((a, b) => naturally.compare(a.testId ?? '', b.testId ?? '') || a.occurrence - b.occurrence || naturally.compare(a.file, b.file));
        sorted.set(catalogue, (cached = { version: catalogue.version, rows }));
      }
      return cached.rows;
    },
    byFile: (file) => catalogue.get(file),
    unreadable: () => [...catalogue.problems].map(([file, reason]) => ({ file, reason })).sort((a, b) => naturally.compare(a.file, b.file)),
    progress() {
      const { read, total } = catalogue.progress;
      // Files it could not read are listed too (unreadable), and the health count counts them.
      const files = catalogue.size + catalogue.problems.size;
      return catalogue.complete ? { done: files, total: files } : { done: read, total };
    },
  };
}
