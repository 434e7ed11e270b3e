// JSON that keeps every number exactly as it was written. llama-stack's key
// hashes Python's view of the body, where 1 and 1.0 differ, and recordings must
// store request bodies without losing that difference.
import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';

export { LosslessNumber, isLosslessNumber };

export type JsonValue =
  | null
  | boolean
  | string
  | number
  | LosslessNumber
  | JsonValue[]
  | { [key: string]: JsonValue };

export type JsonObject = { [key: string]: JsonValue };

/** Parses JSON text keeping number lexemes. Throws SyntaxError on invalid input. */
export function parseLossless(text: string): JsonValue {
  return parse(text) as JsonValue;
}

/** Serialises JSON, writing LosslessNumbers exactly as they were parsed. */
export function stringifyLossless(value: unknown, indent?: number): string {
  const text = stringify(value, undefined, indent);
  if (text === undefined) throw new TypeError('value cannot be serialised as JSON');
  return text;
}

/** True for a number lexeme that Python's json module reads as a float. */
export function isFloatLexeme(lexeme: string): boolean {
  return /[.eE]/.test(lexeme);
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

/** Converts LosslessNumbers to plain numbers, as JSON.parse would have read them. */
export function toPlainJson(value: JsonValue): unknown {
  if (isLosslessNumber(value)) return Number(value.value);
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (isJsonObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = toPlainJson(item);
    return out;
  }
  return value;
}
