// The drift check: each selected recording's request sent live (a bounded number at
// once, no faster than the rate), each answer's shape compared with the recording's,
// and the findings grouped by endpoint and model with the recordings they touch.
import path from 'node:path';
import type { Recording } from '../recordings/recording.js';
import { compareShapes, describeFinding } from './compare.js';
import type { DriftedRecording, DriftGroup, DriftReport, FailedRecording } from './report.js';
import { DriftCheckError } from '../errors.js';
import { dialectOf } from '../request/dialect.js';
import { knownFinishReasons } from './dialect.js';
import { authHeaders, checkKeyHost, type KeyedHeaders } from './keys.js';
import { destinationOf, sendLive, type Routing } from './send.js';
import { shapeOf } from './shape.js';
import type { Selected } from './select.js';

/** `upstream`: send what no route takes here instead of to each recording's own origin; `routeOf`: the route of an endpoint. */
export interface DriftOptions extends Routing {
  /** The recordings directory the files are in (the report names it). */
  recordingsDir: string;
  concurrency: number;
  /** Requests started per second at most. */
  ratePerSecond?: number;
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
  /** Hosts the config file names (`upstream`, `routes`): a key may go there without -u. */
  configHosts?: readonly string[];
}

function modelOf(recording: Recording): string {
  return recording.request.model || recording.response.origin?.model || '-';
}

/** Runs `work` over the items, `limit` at a time, starting at most `perSecond` a second, none once `stop` is aborted. */
async function pooled<T>(items: T[], limit: number, perSecond: number | undefined, stop: AbortSignal, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let lastStart = 0;
  const gap = perSecond ? 1000 / perSecond : 0;
  const worker = async () => {
    while (next < items.length && !stop.aborted) {
      const item = items[next++]!;
      const wait = lastStart + gap - Date.now();
      lastStart = Math.max(Date.now(), lastStart + gap);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (stop.aborted) return;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** Where each key goes: `OPENAI_API_KEY -> api.openai.com`, one line per variable and host. */
export function keyDestinations(selected: Selected[], options: Routing & Pick<DriftOptions, 'env'>): string[] {
  const seen = new Set<string>();
  for (const { recording } of selected) {
    let variable: string | undefined;
    try {
      variable = authHeaders(dialectOf(recording.request.endpoint), options.env, recording).variable;
    } catch {
      continue;
    }
    if (variable) seen.add(`${variable} -> ${destinationOf(recording, options).url.host}`);
  }
  return [...seen].sort();
}

export async function checkDrift(selected: Selected[], options: DriftOptions, onProgress?: (done: number, total: number) => void): Promise<DriftReport> {
  // Every key is looked for before anything is sent: a missing one fails the check at once.
  const auth: KeyedHeaders[] = selected.map(({ recording }) => authHeaders(dialectOf(recording.request.endpoint), options.env, recording));
  const recordedShapes = selected.map(({ recording }) => shapeOf(recording.response));
  const finishSeen = new Map<string, string[]>();
  selected.forEach(({ recording }, index) => finishSeen.set(recording.request.endpoint, [...(finishSeen.get(recording.request.endpoint) ?? []), ...recordedShapes[index]!.finishReasons]));
  const knownFinish = new Map([...finishSeen].map(([endpoint, seen]) => [endpoint, knownFinishReasons(endpoint, seen)]));
  const drifted: DriftedRecording[] = [];
  const failed: FailedRecording[] = [];
  const groups = new Map<string, DriftGroup>();
  // One failure no later request can get past (the key refused) stops the sending; the rest is still reported.
  const stop = new AbortController();
  let sent = 0;
  let done = 0;
  await pooled(selected.map((one, index) => ({ one, index })), options.concurrency, options.ratePerSecond, stop.signal, async ({ one, index }) => {
    const { recording, file } = one;
    let liveAnswer;
    try {
      const { url, chosen } = destinationOf(recording, options);
      checkKeyHost(dialectOf(recording.request.endpoint), url, chosen, options.configHosts ?? [], file);
      sent++;
      liveAnswer = await sendLive(recording, url, auth[index]!.headers, { file, timeoutMs: options.timeoutMs, stop: stop.signal });
    } catch (error) {
      if (!(error instanceof DriftCheckError)) throw error;
      failed.push({ file, reason: error.message });
      if (error.stopsRun) stop.abort();
      return;
    } finally {
      done++;
      onProgress?.(done, selected.length);
    }
    const recorded = recordedShapes[index]!;
    const live = shapeOf(liveAnswer);
    const findings = compareShapes(recorded, live, knownFinish.get(recording.request.endpoint));
    if (findings.length === 0) return;
    const endpoint = recording.request.endpoint;
    const model = modelOf(recording);
    findings.sort((a, b) => a.where.localeCompare(b.where));
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
  for (const group of groups.values()) {
    group.findings.sort((a, b) => byName(a.where, b.where) || byName(a.text, b.text));
    for (const finding of group.findings) finding.files.sort(byName);
  }
  return {
    checkedAt: new Date().toISOString(),
    recordingsDir: path.resolve(options.recordingsDir),
    sent,
    unchanged: done - drifted.length - failed.length,
    groups: [...groups.values()].sort((a, b) => byName(a.endpoint, b.endpoint) || byName(a.model, b.model)),
    drifted: drifted.sort((a, b) => byName(a.file, b.file)),
    failed: failed.sort((a, b) => byName(a.file, b.file)),
    notSent: selected.length - done,
  };
}

/** Control characters and bidirectional overrides: a live answer's member names could otherwise move the cursor or recolour the terminal. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const printable = (line: string) => line.replace(UNPRINTABLE, (char) => `[U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);

export function formatDriftReport(report: DriftReport): string {
  const lines: string[] = [];
  for (const group of report.groups) {
    lines.push(`${group.endpoint}  model ${group.model}`);
    for (const finding of group.findings) {
      const shown = finding.files.slice(0, 3).join(', ');
      lines.push(`  ${finding.text}  [${finding.files.length} recording${finding.files.length === 1 ? '' : 's'}: ${shown}${finding.files.length > 3 ? ', ...' : ''}]`);
    }
  }
  if (report.failed.length > 0) lines.push('the check failed for:');
  for (const { file, reason } of report.failed) lines.push(`  ${reason.startsWith(`${file}: `) ? reason : `${file}: ${reason}`}`);
  const checked = report.drifted.length + report.unchanged;
  lines.push(
    `${checked} recording${checked === 1 ? '' : 's'} checked: ${report.drifted.length} drifted, ${report.unchanged} unchanged` +
      (report.failed.length > 0 ? `; ${report.failed.length} failed` : '') +
      (report.notSent > 0 ? `; ${report.notSent} not sent (the check stopped)` : ''),
  );
  return lines.map(printable).join('\n');
}
