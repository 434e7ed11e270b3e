// The fault grammar shared by the x-llm-replay-fault header, the admin API and the
// `faults` option: parts separated by ';', each `name=value` or a bare `reset`.
//
//   what:  status=429  retry-after=1  latency=250ms  event-latency=20ms
//          cut-after=3  malformed-at=2  stall-after=2  reset
//   when:  on=2 | on=1-2,5 (occurrences of the request)  rate=0.1 | rate=10%  seed=ci-7
//          model=gpt-4o (the body's model)  path=/anthropic (a path prefix)
//
// A bad part is refused with a message naming it; nothing is guessed.
import { LlmReplayError } from '../errors.js';

export interface Fault {
  /** Answer this HTTP error, in the endpoint's provider dialect, instead of the answer. */
  status?: number;
  /** Seconds for the error's retry-after (and its provider's equivalents). */
  retryAfterS?: number;
  /** Wait before the first byte of the answer. */
  latencyMs?: number;
  /** Wait before each stream event after the first. */
  eventLatencyMs?: number;
  /** Send this many events, then cut the connection. */
  cutAfter?: number;
  /** Close the connection before any answer. */
  reset?: boolean;
  /** Make this event (1 for the first) invalid JSON. */
  malformedAt?: number;
  /** Send this many events, then nothing, keeping the connection open. */
  stallAfter?: number;
}

/** Which occurrences of a request the fault hits: all, the listed ones, and/or a seeded fraction. */
export interface FaultWhen {
  /** 1-based occurrence ranges, inclusive. */
  on?: Array<[number, number]>;
  rate?: number;
  seed?: string;
  /** Only requests whose JSON body names this model. */
  model?: string;
  /** Only requests to this path or below it. */
  path?: string;
}

export interface FaultRule {
  fault: Fault;
  when: FaultWhen;
  /** The rule as written back in canonical form (listings, logs). */
  text: string;
}

/** A fault specification that cannot be used: says which part and why. */
export class FaultSpecError extends LlmReplayError {
  override name = 'FaultSpecError';
  constructor(
    readonly part: string,
    reason: string,
  ) {
    super(`"${part}": ${reason}`);
  }
}

const MAX_DELAY_MS = 600_000;
const MAX_COUNT = 1_000_000;

function wholeNumber(part: string, value: string, min: number, what: string): number {
  if (!/^\d{1,7}$/.test(value) || Number(value) < min || Number(value) > MAX_COUNT) {
    throw new FaultSpecError(part, `expected ${what}, a whole number from ${min} to ${MAX_COUNT}`);
  }
  return Number(value);
}

function duration(part: string, value: string): number {
  const match = /^(\d{1,9}(?:\.\d{1,3})?)(ms|s)?$/.exec(value);
  const ms = match ? Number(match[1]) * (match[2] === 's' ? 1000 : 1) : NaN;
  if (!(ms >= 0 && ms <= MAX_DELAY_MS)) throw new FaultSpecError(part, `expected a duration such as 250ms or 2s, at most ${MAX_DELAY_MS / 1000}s`);
  return Math.round(ms);
}

function statusCode(part: string, value: string): number {
  const status = /^\d{3}$/.test(value) ? Number(value) : NaN;
  if (!(status >= 400 && status <= 599)) throw new FaultSpecError(part, 'expected an HTTP error status from 400 to 599');
  return status;
}

function seconds(part: string, value: string): number {
  const s = /^\d{1,6}(?:\.\d{1,3})?$/.test(value) ? Number(value) : NaN;
  if (!(s >= 0)) throw new FaultSpecError(part, 'expected seconds, such as 1 or 0.5');
  return s;
}

function occurrences(part: string, value: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const item of value.split(',')) {
    const match = /^(\d{1,7})(?:-(\d{1,7}))?$/.exec(item.trim());
    const from = match ? Number(match[1]) : NaN;
    const to = match?.[2] !== undefined ? Number(match[2]) : from;
    if (!(from >= 1 && to >= from)) throw new FaultSpecError(part, 'expected occurrences such as 2, 1-3 or 1,4 (the first is 1)');
    ranges.push([from, to]);
  }
  return ranges;
}

function rate(part: string, value: string): number {
  const percent = value.endsWith('%');
  const number = Number(percent ? value.slice(0, -1) : value);
  const fraction = percent ? number / 100 : number;
  if (value === '' || !Number.isFinite(number) || fraction < 0 || fraction > 1) throw new FaultSpecError(part, 'expected a fraction from 0 to 1, or a percentage such as 10%');
  return fraction;
}

type Setter = (part: string, value: string, rule: { fault: Fault; when: FaultWhen }) => void;

const PARTS: Record<string, Setter> = {
  status: (part, value, { fault }) => (fault.status = statusCode(part, value)),
  'retry-after': (part, value, { fault }) => (fault.retryAfterS = seconds(part, value)),
  latency: (part, value, { fault }) => (fault.latencyMs = duration(part, value)),
  'event-latency': (part, value, { fault }) => (fault.eventLatencyMs = duration(part, value)),
  'cut-after': (part, value, { fault }) => (fault.cutAfter = wholeNumber(part, value, 0, 'a number of events')),
  'malformed-at': (part, value, { fault }) => (fault.malformedAt = wholeNumber(part, value, 1, 'an event number (the first is 1)')),
  'stall-after': (part, value, { fault }) => (fault.stallAfter = wholeNumber(part, value, 0, 'a number of events')),
  reset: (part, value, { fault }) => {
    if (value !== '') throw new FaultSpecError(part, 'reset takes no value');
    fault.reset = true;
  },
  on: (part, value, { when }) => (when.on = occurrences(part, value)),
  rate: (part, value, { when }) => (when.rate = rate(part, value)),
  seed: (part, value, { when }) => (when.seed = text(part, value, 'a seed')),
  model: (part, value, { when }) => (when.model = text(part, value, 'a model name')),
  path: (part, value, { when }) => {
    if (!value.startsWith('/')) throw new FaultSpecError(part, 'expected a path starting with /, such as /v1/chat/completions or /anthropic');
    when.path = text(part, value, 'a path');
  },
};

const WHEN_PARTS = ['on', 'rate', 'seed', 'model', 'path'];

function text(part: string, value: string, what: string): string {
  if (value === '' || value.length > 200) throw new FaultSpecError(part, `expected ${what} of 1 to 200 characters`);
  return value;
}

/** Parts that end or replace the answer cannot be combined with each other. */
function checkCombination(fault: Fault, text: string): void {
  const ending = [fault.reset && 'reset', fault.status !== undefined && 'status', fault.cutAfter !== undefined && 'cut-after', fault.stallAfter !== undefined && 'stall-after'].filter(Boolean);
  if (ending.length > 1) throw new FaultSpecError(text, `${ending.join(' and ')} cannot be combined: each decides how the answer ends`);
  const streamOnly = [fault.malformedAt !== undefined && 'malformed-at', fault.eventLatencyMs !== undefined && 'event-latency'].filter(Boolean);
  if ((fault.reset || fault.status !== undefined) && streamOnly.length > 0) {
    throw new FaultSpecError(text, `${streamOnly.join(' and ')} cannot be combined with ${fault.reset ? 'reset' : 'status'}: there is no answer to change`);
  }
  if (fault.retryAfterS !== undefined && fault.status === undefined) throw new FaultSpecError(text, 'retry-after needs a status');
  if (Object.keys(fault).length === 0) throw new FaultSpecError(text, `names no fault; give one of ${Object.keys(PARTS).filter((name) => !WHEN_PARTS.includes(name)).join(', ')}`);
}

function canonical(fault: Fault, when: FaultWhen): string {
  const parts: string[] = [];
  if (fault.reset) parts.push('reset');
  if (fault.status !== undefined) parts.push(`status=${fault.status}`);
  if (fault.retryAfterS !== undefined) parts.push(`retry-after=${fault.retryAfterS}`);
  if (fault.latencyMs !== undefined) parts.push(`latency=${fault.latencyMs}ms`);
  if (fault.eventLatencyMs !== undefined) parts.push(`event-latency=${fault.eventLatencyMs}ms`);
  if (fault.cutAfter !== undefined) parts.push(`cut-after=${fault.cutAfter}`);
  if (fault.malformedAt !== undefined) parts.push(`malformed-at=${fault.malformedAt}`);
  if (fault.stallAfter !== undefined) parts.push(`stall-after=${fault.stallAfter}`);
  if (when.on) parts.push(`on=${when.on.map(([from, to]) => (from === to ? `${from}` : `${from}-${to}`)).join(',')}`);
  if (when.rate !== undefined) parts.push(`rate=${when.rate}`);
  if (when.seed !== undefined) parts.push(`seed=${when.seed}`);
  if (when.model !== undefined) parts.push(`model=${when.model}`);
  if (when.path !== undefined) parts.push(`path=${when.path}`);
  return parts.join(';');
}

/** Parses one rule, e.g. "status=429;on=1". Throws FaultSpecError naming the bad part. */
export function parseFaultRule(text: string): FaultRule {
  const rule = { fault: {} as Fault, when: {} as FaultWhen };
  const seen = new Set<string>();
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    const set = PARTS[name];
    if (!set) throw new FaultSpecError(part, `unknown fault part; known parts are ${Object.keys(PARTS).join(', ')}`);
    if (seen.has(name)) throw new FaultSpecError(part, `${name} is given twice`);
    seen.add(name);
    if (eq < 0 && name !== 'reset') throw new FaultSpecError(part, `expected ${name}=<value>`);
    set(part, value, rule);
  }
  checkCombination(rule.fault, text.trim());
  return { ...rule, text: canonical(rule.fault, rule.when) };
}

/** Rules from a string or a list of strings (the option and the admin API accept both). */
export function parseFaultRules(value: unknown): FaultRule[] {
  const texts = typeof value === 'string' ? [value] : Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
  if (!texts) throw new FaultSpecError(String(value), 'expected a fault string such as "status=429;on=1", or a list of them');
  return texts.map(parseFaultRule);
}
