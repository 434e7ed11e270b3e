// Fields that change on every call but mean nothing to a test, made constant in
// stored files so re-recording gives clean diffs (llama-stack's _normalize_response,
// plus numeric created_at as in OpenAI's Responses objects).
import { isJsonObject, type JsonObject, type JsonValue } from './json/lossless.js';

const EPOCH_ISO = '1970-01-01T00:00:00.000000Z';
const DURATIONS = ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration'];

export function recordedId(key: string): string {
  return `rec-${key.slice(0, 12)}`;
}

/** Normalises one object (a body or a chunk) in place. */
export function normalizeResponseObject(value: JsonValue, key: string): JsonValue {
  if (!isJsonObject(value)) return value;
  const object: JsonObject = value;
  const isModel = object['object'] === 'model';
  if ('id' in object && !isModel && typeof object['id'] === 'string') object['id'] = recordedId(key);
  if ('created' in object && !isModel) object['created'] = 0;
  if ('created_at' in object) object['created_at'] = typeof object['created_at'] === 'string' ? EPOCH_ISO : 0;
  for (const field of DURATIONS) {
    if (object[field] !== undefined && object[field] !== null) object[field] = 0;
  }
  return object;
}
