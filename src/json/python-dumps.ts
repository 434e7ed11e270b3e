// Byte-for-byte Python `json.dumps(value, sort_keys=True)` with its defaults
// (ensure_ascii, ", " and ": " separators), over a lossless JSON tree.
import { isFloatLexeme, isJsonObject, isLosslessNumber, type JsonValue } from './lossless.js';
import { pythonFloatRepr } from './python-float.js';

const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const HEX_DIGITS = Buffer.from('0123456789abcdef');

/**
 * Python's ensure_ascii string encoding. JSON.stringify escapes the same characters
 * below 0x7f the same way (\" \\ \b \f \n \r \t, other controls as lower-case
 * \u00xx); Python also escapes DEL and every UTF-16 unit above it, which gives
 * surrogate pairs for astral characters. Written into one buffer: a long non-ASCII
 * prompt would otherwise cost a string concatenation per character.
 */
function pythonString(value: string): string {
  if (PLAIN.test(value)) return `"${value}"`;
  const json = JSON.stringify(value);
  let length = json.length;
  for (let i = 0; i < json.length; i++) if (json.charCodeAt(i) >= 0x7f) length += 5;
  if (length === json.length) return json;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (let i = 0; i < json.length; i++) {
    const unit = json.charCodeAt(i);
    if (unit < 0x7f) {
      out[at++] = unit;
      continue;
    }
    out[at++] = 92; // \
    out[at++] = 117; // u
    out[at++] = HEX_DIGITS[unit >> 12] as number;
    out[at++] = HEX_DIGITS[(unit >> 8) & 15] as number;
    out[at++] = HEX_DIGITS[(unit >> 4) & 15] as number;
    out[at++] = HEX_DIGITS[unit & 15] as number;
  }
  return out.toString('latin1');
}

/** Python orders str keys by code point; JavaScript's default sort uses UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const left = Array.from(a);
  const right = Array.from(b);
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const diff = (left[i] as string).codePointAt(0)! - (right[i] as string).codePointAt(0)!;
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

function pythonNumber(lexeme: string): string {
  if (isFloatLexeme(lexeme)) return pythonFloatRepr(Number(lexeme));
  return BigInt(lexeme).toString();
}

export function pythonDumps(value: JsonValue): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return pythonString(value);
  if (typeof value === 'number') {
    return Number.isInteger(value) && !Object.is(value, -0) ? BigInt(value).toString() : pythonFloatRepr(value);
  }
  if (isLosslessNumber(value)) return pythonNumber(value.value);
  if (Array.isArray(value)) return '[' + value.map(pythonDumps).join(', ') + ']';
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort(compareCodePoints);
    return '{' + keys.map((key) => pythonString(key) + ': ' + pythonDumps(value[key] as JsonValue)).join(', ') + '}';
  }
  throw new TypeError(`not a JSON value: ${String(value)}`);
}
