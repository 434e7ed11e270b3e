// Byte-for-byte Python `json.dumps(value, sort_keys=True)` with its defaults
// (ensure_ascii, ", " and ": " separators), over a lossless JSON tree.
import { isFloatLexeme, isJsonObject, isLosslessNumber, type JsonValue } from './lossless.js';
import { pythonFloatRepr } from './python-float.js';

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** Python's ensure_ascii string encoding; UTF-16 code units give surrogate pairs for free. */
export function pythonString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    const code = value.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    else out += '\\u' + code.toString(16).padStart(4, '0');
  }
  return out + '"';
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

export function pythonNumber(lexeme: string): string {
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
