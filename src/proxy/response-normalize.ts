// Fields that change on every call but mean nothing to a test, made constant in
// stored files so re-recording gives clean diffs (llama-stack's _normalize_response,
// plus numeric created_at as in OpenAI's Responses objects).
import { isJsonObject, type JsonObject, type JsonValue } from '../json/lossless.js';

const EPOCH_ISO = '1970-01-01T00:00:00.000000Z';
const DURATIONS = ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration'];

export function recordedId(key: string): string {
  return `rec-${key.slice(0, 12)}`;
}

const TIMESTAMPS = ['created_at', 'completed_at'];

/** Timestamps and durations at any depth (a Responses event carries its response nested). */
function normalizeTimes(value: JsonValue): void {
  if (Array.isArray(value)) {
    for (const item of value) normalizeTimes(item);
    return;
  }
  if (!isJsonObject(value)) return;
  const object: JsonObject = value;
  if ('created' in object && object['object'] !== 'model' && object['created'] !== null) object['created'] = 0;
  for (const field of TIMESTAMPS) {
    const current = object[field];
    if (current !== undefined && current !== null) object[field] = typeof current === 'string' ? EPOCH_ISO : 0;
  }
  for (const field of DURATIONS) {
    if (object[field] !== undefined && object[field] !== null) object[field] = 0;
  }
  for (const item of Object.values(object)) if (typeof item === 'object' && item !== null) normalizeTimes(item);
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
