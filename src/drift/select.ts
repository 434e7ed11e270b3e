// Which recordings a drift check sends, and what that costs: filters, a sample,
// an age, then the request and token budgets (tokens estimated from each
// recording's own usage).
import path from 'node:path';
import { toPlainJson, type JsonValue } from '../json/lossless.js';
import { unwrapTyped, type Recording } from '../recordings/recording.js';
import { RecordingStore } from '../recordings/store.js';
import { ageMs } from '../recordings/origin.js';

export interface Selection {
  testId?: string;
  endpoint?: string;
  /** Only recordings at least this old (ms); those of unknown age count as old. */
  olderThanMs?: number;
  /** At most this many, spread evenly over the rest (stalest first). */
  sample?: number;
  maxRequests?: number;
  maxTokens?: number;
}

export interface Selected {
  /** Relative to the recordings directory. */
  file: string;
  recording: Recording;
  tokens: number;
}

const USAGE_TOTALS: Array<string[]> = [
  ['total_tokens'],
  ['input_tokens', 'output_tokens'],
  ['prompt_tokens', 'completion_tokens'],
  ['prompt_eval_count', 'eval_count'],
  ['totalTokenCount'],
];

/** The tokens a recorded answer says it used (the largest usage any chunk reports); 0 when it does not say. */
export function recordedTokens(recording: Recording): number {
  let most = 0;
  const visit = (value: unknown, depth: number) => {
    if (depth > 6 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach((v) => visit(v, depth + 1));
    const object = value as Record<string, unknown>;
    for (const fields of USAGE_TOTALS) {
      if (fields.every((f) => typeof object[f] === 'number')) most = Math.max(most, fields.reduce((sum, f) => sum + (object[f] as number), 0));
    }
    for (const member of Object.values(object)) visit(member, depth + 1);
  };
  const body = recording.response.body;
  visit(toPlainJson(Array.isArray(body) ? body.map((c) => unwrapTyped(c)) : unwrapTyped(body as JsonValue)), 0);
  return most;
}

export async function selectRecordings(dir: string, selection: Selection, now: number): Promise<{ selected: Selected[]; unreadable: string[] }> {
  const store = await RecordingStore.open(dir);
  const selected: Selected[] = [];
  const unreadable: string[] = [];
  const ages = new Map<Selected, number | undefined>();
  for (const { file } of store.filesWithIds()) {
    let recording: Recording;
    try {
      recording = await store.read(file);
    } catch {
      unreadable.push(path.relative(store.dir, file));
      continue;
    }
    if (selection.testId !== undefined && !(recording.test_id ?? '').includes(selection.testId)) continue;
    if (selection.endpoint !== undefined && !recording.request.endpoint.includes(selection.endpoint)) continue;
    const age = ageMs(recording.response.origin, now);
    if (selection.olderThanMs !== undefined && age !== undefined && age < selection.olderThanMs) continue;
    selected.push({ file: path.relative(store.dir, file), recording, tokens: recordedTokens(recording) });
    ages.set(selected[selected.length - 1]!, age);
  }
  // Budgets and samples take the stalest first: unknown age, then oldest; by name among equals.
  const staleness = (one: Selected) => ages.get(one) ?? Number.POSITIVE_INFINITY;
  selected.sort((a, b) => staleness(b) - staleness(a) || a.file.localeCompare(b.file));
  let chosen = selected;
  if (selection.sample !== undefined && selection.sample < chosen.length) {
    const step = chosen.length / selection.sample;
    chosen = Array.from({ length: selection.sample }, (_, i) => chosen[Math.floor(i * step)]!);
  }
  const within: Selected[] = [];
  let tokens = 0;
  for (const one of chosen) {
    if (selection.maxRequests !== undefined && within.length >= selection.maxRequests) break;
    if (selection.maxTokens !== undefined && tokens + one.tokens > selection.maxTokens) continue;
    tokens += one.tokens;
    within.push(one);
  }
  return { selected: within, unreadable };
}

