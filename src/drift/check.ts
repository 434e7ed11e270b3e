// The drift check: each selected recording's request sent live (a bounded number at
// once, no faster than the rate), each answer's shape compared with the recording's,
// and the findings grouped by endpoint and model with the recordings they touch.
import path from 'node:path';
import type { Recording } from '../recordings/recording.js';
import { compareShapes, describeFinding } from './compare.js';
import type { DriftedRecording, DriftGroup, DriftReport } from './report.js';
import { authHeaders, dialectOf, liveUrl, sendLive } from './send.js';
import { shapeOf } from './shape.js';
import type { Selected } from './select.js';

export interface DriftOptions {
  /** The recordings directory the files are in (the report names it). */
  recordingsDir: string;
  /** Send here instead of each recording's own origin. */
  upstream?: URL;
  concurrency: number;
  /** Requests started per second at most. */
  ratePerSecond?: number;
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
}

function modelOf(recording: Recording): string {
  return recording.request.model || recording.response.origin?.model || '-';
}

/** Runs `work` over the items, `limit` at a time, starting at most `perSecond` a second. */
async function pooled<T>(items: T[], limit: number, perSecond: number | undefined, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let lastStart = 0;
  const gap = perSecond ? 1000 / perSecond : 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      const wait = lastStart + gap - Date.now();
      lastStart = Math.max(Date.now(), lastStart + gap);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

export async function checkDrift(selected: Selected[], options: DriftOptions, onProgress?: (done: number, total: number) => void): Promise<DriftReport> {
  // Every key is looked for before anything is sent: a missing one fails the check at once.
  const auth = selected.map(({ recording }) => authHeaders(dialectOf(recording.request.endpoint), options.env, recording));
  const drifted: DriftedRecording[] = [];
  const groups = new Map<string, DriftGroup>();
  let done = 0;
  await pooled(selected.map((one, index) => ({ one, index })), options.concurrency, options.ratePerSecond, async ({ one, index }) => {
    const { recording, file } = one;
    const liveAnswer = await sendLive(recording, liveUrl(recording, options.upstream), auth[index]!, options.timeoutMs);
    const recorded = shapeOf(recording.response);
    const live = shapeOf(liveAnswer);
    const findings = compareShapes(recorded, live);
    onProgress?.(++done, selected.length);
    if (findings.length === 0) return;
    const endpoint = recording.request.endpoint;
    const model = modelOf(recording);
    drifted.push({ file, endpoint, model, findings: findings.map(describeFinding), recorded, live });
    const groupKey = `${endpoint}\n${model}`;
    let group = groups.get(groupKey);
    if (!group) groups.set(groupKey, (group = { endpoint, model, findings: [] }));
    for (const finding of findings) {
      const text = describeFinding(finding);
      const same = group.findings.find((f) => f.text === text);
      if (same) same.files.push(file);
      else group.findings.push({ ...finding, text, files: [file] });
    }
  });
  const byName = (a: string, b: string) => a.localeCompare(b);
  for (const group of groups.values()) for (const finding of group.findings) finding.files.sort(byName);
  return {
    checkedAt: new Date().toISOString(),
    recordingsDir: path.resolve(options.recordingsDir),
    sent: selected.length,
    unchanged: selected.length - drifted.length,
    groups: [...groups.values()].sort((a, b) => byName(a.endpoint, b.endpoint) || byName(a.model, b.model)),
    drifted: drifted.sort((a, b) => byName(a.file, b.file)),
  };
}

export function formatDriftReport(report: DriftReport): string {
  const lines: string[] = [];
  for (const group of report.groups) {
    lines.push(`${group.endpoint}  model ${group.model}`);
    for (const finding of group.findings) {
      const shown = finding.files.slice(0, 3).join(', ');
      lines.push(`  ${finding.text}  [${finding.files.length} recording${finding.files.length === 1 ? '' : 's'}: ${shown}${finding.files.length > 3 ? ', ...' : ''}]`);
    }
  }
  lines.push(`${report.sent} recordings checked: ${report.drifted.length} drifted, ${report.unchanged} unchanged`);
  return lines.join('\n');
}
