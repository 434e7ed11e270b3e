// llama-stack's body normalisation (RECORDINGS.md section 2), shared by both key
// schemes: floats rounded to 5 decimals, long decimals inside strings likewise,
// and the file-search noise (scores, attributes, document ids) made stable.
import { isJsonObject, isLosslessNumber, isFloatLexeme, LosslessNumber, type JsonValue } from '../json/lossless.js';
import { pythonFloatRepr, pythonFormatFixed, pythonRound } from '../json/python-float.js';

// Python's \s and \d are Unicode-aware for str patterns; these classes match them.
const S = '[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const D = '\\p{Nd}';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

const SCORE = new RegExp(`score:${S}*[-+]?${D}*\\.?${D}+(?:[eE][-+]?${D}+)?`, 'gu');
const ATTRIBUTES = new RegExp(`,?${S}*attributes:${S}*\\{[^}]*\\}`, 'gu');
const DOCUMENT_ID = new RegExp(`document_id:${S}*${UUID}`, 'gu');
const CHUNK_MARKER = new RegExp(`<\\|${UUID}\\|>`, 'gu');
const LONG_DECIMAL = new RegExp(`-?${D}+\\.${D}{4,}`, 'gu');
const UNICODE_DIGIT = /\p{Nd}/u;

/** Maps any Unicode decimal digit to ASCII, as Python's float() accepts them. */
function asciiDigits(text: string): string {
  return text.replace(/\p{Nd}/gu, (digit) => {
    let start = digit.codePointAt(0)!;
    // Decimal digits come in contiguous runs of ten, zero first.
    while (start > 0 && UNICODE_DIGIT.test(String.fromCodePoint(start - 1))) start--;
    return String((digit.codePointAt(0)! - start) % 10);
  });
}

export function normalizeString(value: string): string {
  let out = value;
  if (out.includes('score:')) out = out.replace(SCORE, 'score: __NORMALIZED__');
  if (out.includes('attributes:')) out = out.replace(ATTRIBUTES, '');
  if (out.includes('document_id:')) out = out.replace(DOCUMENT_ID, 'document_id: __NORMALIZED__');
  if (out.includes('<|')) out = out.replace(CHUNK_MARKER, '<|__NORMALIZED__|>');
  // A long decimal needs a '.', which most strings do not have.
  if (!out.includes('.')) return out;
  return out.replace(LONG_DECIMAL, (match) => pythonFormatFixed(Number(asciiDigits(match)), 5));
}

export interface NormalizeOptions {
  /** llama-stack drops stream_options for Bedrock hosts, whose value varies per run. */
  dropStreamOptions?: boolean;
}

function walk(value: JsonValue, numberRule: (n: number | LosslessNumber) => JsonValue): JsonValue {
  if (typeof value === 'string') return normalizeString(value);
  if (typeof value === 'number' || isLosslessNumber(value)) return numberRule(value);
  if (Array.isArray(value)) return value.map((item) => walk(item, numberRule));
  if (isJsonObject(value)) {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) out[key] = walk(item, numberRule);
    return out;
  }
  return value;
}

function dropTopLevel(body: JsonValue, options: NormalizeOptions): JsonValue {
  if (!isJsonObject(body)) return body;
  if (!options.dropStreamOptions && !('extra_body' in body) && !('extra_query' in body)) return body;
  const out = { ...body };
  for (const field of ['extra_body', 'extra_query']) {
    const nested = out[field];
    if (isJsonObject(nested) && 'project_id' in nested) {
      const { project_id: _dropped, ...rest } = nested;
      out[field] = rest;
    }
  }
  if (options.dropStreamOptions) delete out['stream_options'];
  return out;
}

/** Python semantics on a lossless tree: only lexemes Python reads as floats are rounded. */
function roundLosslessFloat(n: number | LosslessNumber): JsonValue {
  if (typeof n === 'number') return n;
  if (!isFloatLexeme(n.value)) return n;
  const rounded = pythonRound(Number(n.value), 5);
  return Number.isFinite(rounded) ? new LosslessNumber(pythonFloatRepr(rounded)) : n;
}

/** JSON.parse semantics: every non-integer number is rounded. */
function roundPlainNumber(n: number | LosslessNumber): JsonValue {
  const value = typeof n === 'number' ? n : Number(n.value);
  return Number.isInteger(value) ? value : pythonRound(value, 5);
}

export function normalizeLosslessBody(body: JsonValue, options: NormalizeOptions = {}): JsonValue {
  return dropTopLevel(walk(body, roundLosslessFloat), options);
}

export function normalizePlainBody(body: JsonValue, options: NormalizeOptions = {}): JsonValue {
  return dropTopLevel(walk(body, roundPlainNumber), options);
}
