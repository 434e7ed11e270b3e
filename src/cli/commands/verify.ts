// `llm-replay verify DIR`: every recording parses, is named by the key of its own
// request under the scheme (a file that is not can never be hit) and by the
// occurrence it says it is, and carries no credentials. Exit 1 when anything is wrong, for CI.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { findCredentials } from '../../secrets/credentials.js';
import { keyOfRecording, type KeyScheme } from '../../keys/index.js';
import { parseRecording } from '../../recordings/recording.js';
import { RecordingStore } from '../../recordings/store.js';
import type { CompiledRules } from '../../keys/rules.js';

interface VerifyProblem {
  file: string;
  kind: 'unreadable' | 'key-mismatch' | 'occurrence-mismatch' | 'credentials' | 'unusable' | 'ignored';
  detail: string;
}

interface VerifyReport {
  checked: number;
  ok: number;
  problems: VerifyProblem[];
}

export async function verifyRecordings(dir: string, scheme: KeyScheme, onProgress?: (done: number, total: number) => void, rules?: CompiledRules): Promise<VerifyReport> {
  const store = await RecordingStore.open(dir);
  const problems: VerifyProblem[] = [
    ...store.unreadFolders.map((file) => ({ file, kind: 'ignored' as const, detail: 'hidden and node_modules folders are not read' })),
    // What --strict refuses to start on fails verify too: a refused link, a misnamed file, a duplicate.
    ...store.skipped.map(({ file, reason }) => ({ file, kind: 'unusable' as const, detail: reason })),
  ];
  const files = [...store.filesWithIds()];
  let ok = 0;
  for (const [index, { file, key, occurrence }] of files.entries()) {
    onProgress?.(index, files.length);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
      const recording = parseRecording(text, file);
      const computed = await keyOfRecording(scheme, recording, rules);
      const credentials = findCredentials(JSON.parse(text));
      if (computed !== key) {
        problems.push({ file, kind: 'key-mismatch', detail: `its request has key ${computed} under the ${scheme} scheme${rules ? ' and the normalisation rules' : ''}` });
      } else if ((recording.occurrence ?? 1) !== occurrence) {
        problems.push({ file, kind: 'occurrence-mismatch', detail: `its name says occurrence ${occurrence}, the file says ${recording.occurrence ?? 1}` });
      } else if (credentials.length > 0) {
        problems.push({ file, kind: 'credentials', detail: `contains what looks like: ${credentials.join(', ')}` });
      } else {
        ok++;
      }
    } catch (error) {
      problems.push({ file, kind: 'unreadable', detail: (error as Error).message.replace(`${file}: `, '') });
    }
  }
  onProgress?.(files.length, files.length);
  return { checked: files.length, ok, problems };
}

export function formatVerifyReport(report: VerifyReport, root: string): string {
  const lines = report.problems.map((p) => `${p.kind}: ${path.relative(root, p.file) || p.file}: ${p.detail}`);
  const count = (kind: VerifyProblem['kind']) => report.problems.filter((p) => p.kind === kind).length;
  // The recordings' own count adds up (ok and with problems); other files are counted apart.
  const unusable = count('unusable');
  const ignored = count('ignored');
  const failing = report.problems.length - unusable - ignored;
  const files = (n: number) => `${n} other ${n === 1 ? 'file' : 'files'}`;
  lines.push(`${report.checked} recordings: ${report.ok} ok, ${failing} with problems${unusable ? `; ${files(unusable)} not usable as ${unusable === 1 ? 'a recording' : 'recordings'}` : ''}${ignored ? `; ${files(ignored)} ignored` : ''}`);
  return lines.join('\n');
}
