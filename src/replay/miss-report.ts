// What a replay miss tells the user: which request missed (key, method, endpoint,
// test id), the nearest recording with a short diff of the two bodies (usually one
// parameter changed), and how to record it.
import path from 'node:path';
import { bodyDifferences } from '../json/diff.js';
import { isJsonObject, toPlainJson } from '../json/lossless.js';
import type { RequestKey } from '../keys/index.js';
import type { ClientRequest } from '../request/client-request.js';
import type { RecordingStore } from '../recordings/store.js';

interface Summary {
  file: string;
  method: string;
  endpoint: string;
  testId: string | null;
  body: unknown;
}

export interface MissReport {
  message: string;
  key: string;
  method: string;
  endpoint: string;
  testId: string | null;
  nearest?: { file: string; testId: string | null; differences: string[] };
}

const summaries = new WeakMap<RecordingStore, Map<string, Summary | null>>();
const MAX_DIFFERENCES = 8;

async function summariesOf(store: RecordingStore): Promise<Summary[]> {
  let cache = summaries.get(store);
  if (!cache) summaries.set(store, (cache = new Map()));
  const out: Summary[] = [];
  for (const entry of store.entries()) {
    for (const file of entry.files) {
      let summary = cache.get(file);
      if (summary === undefined) {
        try {
          const recording = await store.read(file);
          const { request } = recording;
          summary = { file, method: request.method, endpoint: request.endpoint, testId: recording.test_id, body: toPlainJson(request.body) };
        } catch {
          summary = null;
        }
        cache.set(file, summary);
      }
      if (summary) out.push(summary);
    }
  }
  return out;
}

function clip(text: string | undefined): string {
  if (text === undefined) return '(absent)';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export async function describeMiss(store: RecordingStore, client: ClientRequest, key: RequestKey): Promise<MissReport> {
  const stored = key.storedBody();
  const requested = isJsonObject(stored) || Array.isArray(stored) ? toPlainJson(stored) : stored;
  const candidates = (await summariesOf(store)).filter((s) => s.endpoint === key.endpoint && s.method === key.method);
  let best: { summary: Summary; differences: string[]; score: number } | undefined;
  for (const summary of candidates) {
    const differences = bodyDifferences(summary.body, requested).map((d) => `${d.path}: recorded ${clip(d.a)}, requested ${clip(d.b)}`);
    if (summary.testId !== client.testId) differences.unshift(`test id: recorded ${JSON.stringify(summary.testId)}, requested ${JSON.stringify(client.testId)}`);
    const score = differences.length;
    if (!best || score < best.score) best = { summary, differences, score };
  }
  const lines = [
    `llm-replay: no recording for ${key.method} ${client.path} (test id: ${client.testId === null ? 'none' : JSON.stringify(client.testId)}; key ${key.key}).`,
  ];
  const report: MissReport = { message: '', key: key.key, method: key.method, endpoint: key.endpoint, testId: client.testId };
  if (best) {
    const file = path.relative(process.cwd(), best.summary.file);
    const shown = best.differences.slice(0, MAX_DIFFERENCES);
    const more = best.differences.length - shown.length;
    lines.push(`Nearest recording: ${file} (test id: ${best.summary.testId === null ? 'none' : JSON.stringify(best.summary.testId)}), which differs in:`);
    lines.push(...shown.map((d) => `  ${d}`));
    if (more > 0) lines.push(`  ... and ${more} more`);
    if (best.differences.length === 0) lines.push('  nothing visible in method, endpoint, body or test id: the query string or key scheme differs.');
    report.nearest = { file, testId: best.summary.testId, differences: best.differences };
  } else {
    lines.push(`No recording has ${key.method} ${key.endpoint} at all.`);
  }
  lines.push('To record it, run llm-replay with --mode record-if-missing (LLM_REPLAY_MODE=record-if-missing) and give the client its real API key.');
  report.message = lines.join('\n');
  return report;
}
