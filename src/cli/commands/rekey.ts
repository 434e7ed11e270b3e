// `llm-replay rekey DIR`: after the key scheme or the normalisation rules change,
// every recording is renamed to the key of its stored request under the new ones
// (keeping its occurrence and folder), so nobody re-records because a rule changed.
// A dry run only reports. Two files that would take one name are left as they are
// and reported: which of them a request means is for a person to decide.
import { access, rename } from 'node:fs/promises';
import path from 'node:path';
import { keyOfRecording, type KeyScheme } from '../../keys/index.js';
import type { CompiledRules } from '../../keys/rules.js';
import { occurrenceFileName } from '../../recordings/occurrence.js';
import { RecordingStore } from '../../recordings/store.js';

interface RekeyReport {
  checked: number;
  /** Already named by their key. */
  unchanged: number;
  /** Renamed (or, in a dry run, to be renamed), relative to the directory. */
  renamed: Array<{ from: string; to: string }>;
  /** Not renamed: the new name is another file's, or another file would take it too (`taken`: that file). */
  conflicts: Array<{ file: string; to: string; taken: string }>;
  unreadable: Array<{ file: string; reason: string }>;
  dryRun: boolean;
}

const MODEL_LIST_FILE = /^models-[0-9a-f]{64}-([0-9a-f]{8})\.json$/;

/** The name a file gets under a new key: its occurrence kept, or a model list's digest. */
function renamedFile(file: string, key: string, occurrence: number): string {
  const digest = MODEL_LIST_FILE.exec(path.basename(file))?.[1];
  return path.join(path.dirname(file), digest ? `models-${key}-${digest}.json` : occurrenceFileName(key, occurrence));
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

export async function rekeyRecordings(dir: string, scheme: KeyScheme, rules: CompiledRules | undefined, dryRun: boolean, onProgress?: (done: number, total: number) => void): Promise<RekeyReport> {
  const store = await RecordingStore.open(dir);
  const relative = (file: string) => path.relative(store.dir, file);
  const files = [...store.filesWithIds()];
  const report: RekeyReport = { checked: files.length, unchanged: 0, renamed: [], conflicts: [], unreadable: [], dryRun };
  const moves: Array<{ from: string; to: string }> = [];
  for (const [index, { file, key, occurrence }] of files.entries()) {
    onProgress?.(index, files.length);
    try {
      const computed = await keyOfRecording(scheme, await store.read(file), rules);
      if (computed === key) report.unchanged++;
      else moves.push({ from: file, to: renamedFile(file, computed, occurrence) });
    } catch (error) {
      report.unreadable.push({ file: relative(file), reason: (error as Error).message.replace(`${file}: `, '') });
    }
  }
  onProgress?.(files.length, files.length);
  // A name is free when no file keeps it and no other move wants it (then none of them gets it);
  // a file moving away frees its own. A move turned down leaves its file in place, which may
  // turn down another: repeat until none is.
  let accepted = moves;
  for (;;) {
    const leaving = new Set(accepted.map((move) => move.from));
    const wanted = new Map<string, string[]>();
    for (const move of accepted) wanted.set(move.to, [...(wanted.get(move.to) ?? []), move.from]);
    const kept: typeof moves = [];
    const turnedDown: RekeyReport['conflicts'] = [];
    for (const move of accepted) {
      const rivals = (wanted.get(move.to) as string[]).filter((from) => from !== move.from);
      const holder = rivals[0] ?? (!leaving.has(move.to) && (await exists(move.to)) ? move.to : undefined);
      if (holder === undefined) kept.push(move);
      else turnedDown.push({ file: relative(move.from), to: relative(move.to), taken: relative(holder) });
    }
    accepted = kept;
    report.conflicts.push(...turnedDown);
    if (turnedDown.length === 0) break;
  }
  report.renamed = accepted.map((move) => ({ from: relative(move.from), to: relative(move.to) }));
  if (!dryRun) await applyMoves(report.renamed.map(({ from, to }) => ({ from: path.join(store.dir, from), to: path.join(store.dir, to) })));
  return report;
}

/**
 * Renames, in an order that never overwrites a file still to be moved: a file whose
 * target is another's current name waits until that one has moved (a cycle goes
 * through a temporary name).
 */
async function applyMoves(moves: Array<{ from: string; to: string }>): Promise<void> {
  const pending = new Map(moves.map((move) => [move.from, move.to]));
  while (pending.size > 0) {
    const ready = [...pending].filter(([, to]) => !pending.has(to));
    if (ready.length === 0) {
      // Every remaining target is another's current name: a cycle. Step one aside.
      const [from, to] = [...pending][0] as [string, string];
      const aside = `${from}.rekey-${process.pid}`;
      await rename(from, aside);
      pending.delete(from);
      pending.set(aside, to);
      continue;
    }
    for (const [from, to] of ready) {
      await rename(from, to);
      pending.delete(from);
    }
  }
}

export function formatRekeyReport(report: RekeyReport): string {
  const verb = report.dryRun ? 'would rename' : 'renamed';
  const lines = [
    ...report.renamed.map(({ from, to }) => `${verb}: ${from} -> ${to}`),
    ...report.conflicts.map(({ file, to, taken }) => `conflict: ${file} -> ${to}, which ${taken} has or wants too; left as it is`),
    ...report.unreadable.map(({ file, reason }) => `unreadable: ${file}: ${reason}`),
  ];
  const problems = report.conflicts.length + report.unreadable.length;
  lines.push(
    `${report.checked} recordings: ${report.unchanged} already named by their key, ${report.renamed.length} ${report.dryRun ? 'to rename (dry run: without --dry-run they are renamed)' : 'renamed'}${problems ? `, ${problems} left as they are` : ''}`,
  );
  return lines.join('\n');
}
