// Fields that change on every call but mean nothing to a test, made constant in
// stored files so re-recording gives clean diffs (llama-stack's _normalize_response,
// plus numeric created_at as in OpenAI's Responses objects).
import { isJsonObject, type JsonObject, type JsonValue } from '../json/lossless.js';

const EPOCH_ISO = '1970-01-01T00:00:00.000000Z';
const DURATIONS = ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration'];

export function recordedId(key: string): string {
  return `rec-${key.slice(0, 12)}`;
}

/** What each field made constant becomes: `created` 0 (but a model's), a timestamp 0 or the epoch as text, a duration 0. */
const CONSTANT_FIELDS = new Map<string, 'created' | 'timestamp' | 'duration'>([
  ['created', 'created'],
  ['created_at', 'timestamp'],
  ['completed_at', 'timestamp'],
  ...DURATIONS.map((field) => [field, 'duration'] as const),
]);

/** Timestamps and durations at any depth (a Responses event carries its response nested): one pass over each object's members. */
function normalizeTimes(value: JsonValue): void {
  if (Array.isArray(value)) {
    for (const item of value) normalizeTimes(item);
    return;
  }
  if (!isJsonObject(value)) return;
  const object: JsonObject = value;
  for (const name in object) {
    const item = object[name];
    if (item === null || item === undefined) continue;
    const field = CONSTANT_FIELDS.get(name);
    if (field === undefined) {
      if (typeof item === 'object') normalizeTimes(item);
    } else if (field === 'timestamp') {
      object[name] = typeof item === 'string' ? EPOCH_ISO : 0;
    } else if (field === 'duration' || object['object'] !== 'model') {
      object[name] = 0;
    }
  }
}

/**
 * Normalises one object (a body or a chunk) in place. `replaceId` is false when the
 * ids were already made deterministic (stateful-id mode) and must stay as they are.
 */
export function normalizeResponseObject(value: JsonValue, key: string, replaceId = true): JsonValue {
  if (!isJsonObject(value)) return value;
  if (replaceId && typeof value['id'] === 'string' && value['object'] !== 'model') value['id'] = recordedId(key);
  normalizeTimes(value);
  return value;
}
