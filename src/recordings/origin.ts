// When and against what a recording was made (`response.origin`): the upstream host,
// the model that answered, the API version headers the provider sent, and the time,
// so a suite can tell how old its recordings are and which to check for drift.
// Older files and llama-stack's have none; their age is unknown.
import { isJsonObject, type JsonValue } from '../json/lossless.js';

export interface RecordingOrigin {
  /** ISO time it was recorded; left out under --no-record-timing, which promises byte-identical re-recordings. */
  recorded_at?: string;
  /** The upstream's host (and port when not the default). */
  upstream: string;
  /** The `model` the answer named (often more exact than the request's: a dated snapshot). */
  model?: string;
  /** The API version headers the provider answered with, e.g. openai-version. */
  version_headers?: Record<string, string>;
}

/** Headers providers send to say which version of their API answered. */
export const VERSION_HEADERS = ['openai-version', 'anthropic-version', 'x-goog-api-version', 'api-version'] as const;

/** The model the answer names: OpenAI, Anthropic and Ollama's `model`, a Responses or Anthropic stream's nested one, Gemini's `modelVersion`. */
export function answeredModel(body: JsonValue): string | undefined {
  const values = Array.isArray(body) ? body : [body];
  for (const value of values) {
    if (!isJsonObject(value)) continue;
    const inner = value['__data__'] ?? value;
    if (!isJsonObject(inner)) continue;
    for (const holder of [inner, inner['response'], inner['message']]) {
      if (!isJsonObject(holder)) continue;
      const model = holder['model'] ?? holder['modelVersion'];
      if (typeof model === 'string' && model !== '') return model;
    }
  }
  return undefined;
}

/** The problem with a file's `response.origin`, or undefined when it is absent or well formed. */
export function originProblem(origin: unknown): string | undefined {
  if (origin === undefined) return undefined;
  if (!isJsonObject(origin)) return '"response.origin" must be an object';
  if (typeof origin['upstream'] !== 'string') return '"response.origin.upstream" must be a string';
  const at = origin['recorded_at'];
  if (at !== undefined && (typeof at !== 'string' || Number.isNaN(Date.parse(at)))) return '"response.origin.recorded_at" must be an ISO date and time';
  if (origin['model'] !== undefined && typeof origin['model'] !== 'string') return '"response.origin.model" must be a string';
  const versions = origin['version_headers'];
  if (versions !== undefined && (!isJsonObject(versions) || Object.values(versions).some((v) => typeof v !== 'string'))) {
    return '"response.origin.version_headers" must be an object of header names to strings';
  }
  return undefined;
}

/** Milliseconds since it was recorded, or undefined when unknown. */
export function ageMs(origin: RecordingOrigin | undefined, now: number): number | undefined {
  const at = origin?.recorded_at;
  return at === undefined ? undefined : now - Date.parse(at);
}

/** "3d", "5h", "12m": the age to show; "unknown" when the file does not say. */
export function formatAge(ms: number | undefined): string {
  if (ms === undefined) return 'unknown';
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes}m`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)}h`;
  return `${Math.floor(minutes / 1440)}d`;
}

/** "30d", "12h", "90m" -> milliseconds; undefined when not such a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)\s*(m|h|d|w)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}
