// JSON that keeps every number exactly as it was written. llama-stack's key
// hashes Python's view of the body, where 1 and 1.0 differ, and recordings must
// store request bodies without losing that difference.
import { isLosslessNumber, LosslessNumber, stringify } from 'lossless-json';
import { parseLosslessJson } from './lossless-parse.js';
import { jsonTextFacts, MAX_JSON_DEPTH } from './text-facts.js';

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
  return parseLosslessJson(text);
}

/**
 * Parses JSON text so that it writes back with every number as written: with
 * JSON.parse (native, several times faster) when its numbers are all written as
 * JavaScript writes them, keeping number lexemes otherwise. Throws SyntaxError on invalid
 * input, and on JSON nested deeper than MAX_JSON_DEPTH.
 */
export function parseKeepingNumbers(text: string): JsonValue {
  return parsedJson(text).value;
}

/** A JSON text's value, and whether JSON.parse read it (`plainNumbers`: no LosslessNumber is in it). */
export interface ParsedJson {
  value: JsonValue;
  plainNumbers: boolean;
}

/** parseKeepingNumbers, saying how the value was read. */
export function parsedJson(text: string): ParsedJson {
  const facts = jsonTextFacts(text);
  // Every step after parsing recurses: deeper text is refused here, where callers keep it as text or bytes.
  if (facts.depth > MAX_JSON_DEPTH) throw new SyntaxError(`the JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
  return facts.plainNumbers ? { value: JSON.parse(text) as JsonValue, plainNumbers: true } : { value: parseLosslessJson(text), plainNumbers: false };
}

/** Whether a value holds a LosslessNumber anywhere (a walk, far cheaper than writing it out). */
function holdsLosslessNumber(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (isLosslessNumber(value)) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (holdsLosslessNumber(item)) return true;
    return false;
  }
  for (const key in value) if (holdsLosslessNumber((value as Record<string, unknown>)[key])) return true;
  return false;
}

/** Serialises JSON, writing LosslessNumbers exactly as they were parsed (JSON.stringify's own text, written natively, when there are none). */
export function stringifyLossless(value: unknown, indent?: number): string {
  const text = holdsLosslessNumber(value) ? stringify(value, undefined, indent) : JSON.stringify(value, undefined, indent);
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

/**
 * An object from its members, as JSON.parse builds one: a member named `__proto__`
 * is a member like any other (assigning it would set the prototype instead).
 */
export function jsonObject<T = JsonValue>(members: Iterable<readonly [string, T]>): Record<string, T> {
  return Object.fromEntries(members) as Record<string, T>;
}

/** Converts LosslessNumbers to plain numbers, as JSON.parse would have read them. */
export function toPlainJson(value: JsonValue): unknown {
  if (isLosslessNumber(value)) return Number(value.value);
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (isJsonObject(value)) return jsonObject(Object.keys(value).map((key) => [key, toPlainJson(value[key] as JsonValue)]));
  return value;
}

/** A JSON value with each string and number replaced by what the given functions make of it. */
export function mapLeaves(value: JsonValue, string: (s: string) => JsonValue, number: (n: number | LosslessNumber) => JsonValue): JsonValue {
  if (typeof value === 'string') return string(value);
  if (typeof value === 'number' || isLosslessNumber(value)) return number(value);
  if (Array.isArray(value)) return value.map((item) => mapLeaves(item, string, number));
  if (isJsonObject(value)) return jsonObject(Object.keys(value).map((key) => [key, mapLeaves(value[key] as JsonValue, string, number)]));
  return value;
}
