// llama-stack's string rules (RECORDINGS.md section 2), as linear scanners. Its
// recorder applies five regular expressions to every string of a body:
//
//   score:\s*[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?   -> "score: __NORMALIZED__"
//   ,?\s*attributes:\s*\{[^}]*\}              -> removed
//   document_id:\s*<uuid>                     -> "document_id: __NORMALIZED__"
//   <\|<uuid>\|>                               -> "<|__NORMALIZED__|>"
//   -?\d+\.\d{4,}                             -> f"{float(m):.5f}"
//
// in that order, with Python's Unicode \s and \d. Run by a backtracking engine the
// last one takes time in the square of a digit run (100,000 digits and a dot: 5 s),
// so each is written out here as a single pass that finds exactly the matches the
// regex finds (leftmost, greedy, non-overlapping) and replaces them the same way.
// test/llama-stack-strings.test.ts checks them against the regexes themselves.
import { pythonFormatFixed } from '../json/python-float.js';

/** Python's \s for str patterns (all BMP code units). */
function isSpace(code: number): boolean {
  return (
    (code >= 9 && code <= 13) ||
    (code >= 0x1c && code <= 0x20) ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

const ND = /^\p{Nd}$/u;
/** Decimal digits beyond ASCII, by code point: their value, or -1 for a non-digit. Filled as met. */
const digitValues = new Map<number, number>();

/** The value of a Unicode decimal digit (\p{Nd}, Python's \d), or -1. */
function digitValue(codePoint: number): number {
  if (codePoint >= 48 && codePoint <= 57) return codePoint - 48;
  if (codePoint < 0x80) return -1;
  let value = digitValues.get(codePoint);
  if (value === undefined) {
    if (!ND.test(String.fromCodePoint(codePoint))) {
      value = -1;
    } else {
      // Decimal digits come in contiguous runs of ten, zero first.
      let zero = codePoint;
      while (zero > 0 && ND.test(String.fromCodePoint(zero - 1))) zero--;
      value = (codePoint - zero) % 10;
    }
    digitValues.set(codePoint, value);
  }
  return value;
}

/** Where the run of digits starting at i ends, and how many digits (code points) it holds. */
function digitRun(text: string, i: number): { end: number; count: number; ascii: boolean } {
  let end = i;
  let count = 0;
  let ascii = true;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    if (code >= 48 && code <= 57) {
      end++;
    } else if (code < 0x80) {
      break;
    } else {
      const point = text.codePointAt(end) as number;
      if (digitValue(point) < 0) break;
      ascii = false;
      end += point > 0xffff ? 2 : 1;
    }
    count++;
  }
  return { end, count, ascii };
}

function skipSpaces(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

const HEX = /^[0-9a-f]$/;
/** True when a lower-case 8-4-4-4-12 uuid starts at i. */
function uuidAt(text: string, i: number): boolean {
  if (i + 36 > text.length) return false;
  for (let k = 0; k < 36; k++) {
    const ch = text[i + k] as string;
    if (k === 8 || k === 13 || k === 18 || k === 23) {
      if (ch !== '-') return false;
    } else if (!HEX.test(ch)) {
      return false;
    }
  }
  return true;
}

/** Replaces the non-overlapping matches that `matchAt` finds at each occurrence of `literal`. */
function replaceAfterLiteral(text: string, literal: string, matchAt: (at: number) => number, replacement: string): string {
  let at = text.indexOf(literal);
  if (at < 0) return text;
  let out = '';
  let copied = 0;
  while (at >= 0) {
    const end = matchAt(at);
    if (end < 0) {
      at = text.indexOf(literal, at + 1);
      continue;
    }
    out += text.slice(copied, at) + replacement;
    copied = end;
    at = text.indexOf(literal, end);
  }
  return out + text.slice(copied);
}

/** score:\s*[-+]?\d*\.?\d+(?:[eE][-+]?\d+)? starting at `at`: its end, or -1. */
function scoreEnd(text: string, at: number): number {
  const start = skipSpaces(text, at + 'score:'.length);
  const sign = text[start] === '-' || text[start] === '+' ? start + 1 : start;
  let end = mantissaEnd(text, sign);
  // Without the sign the mantissa would start at the sign itself, which is no digit or dot.
  if (end < 0) return -1;
  const e = text[end];
  if (e === 'e' || e === 'E') {
    let digits = end + 1;
    if (text[digits] === '-' || text[digits] === '+') digits++;
    const run = digitRun(text, digits);
    if (run.count > 0) end = run.end;
  }
  return end;
}

/** \d*\.?\d+ at i, greedy: its end, or -1. */
function mantissaEnd(text: string, i: number): number {
  const whole = digitRun(text, i);
  if (text[whole.end] === '.') {
    const fraction = digitRun(text, whole.end + 1);
    if (fraction.count > 0) return fraction.end;
  }
  // No digits after a dot: \d+ takes the last digit of the whole part, if any.
  return whole.count > 0 ? whole.end : -1;
}

/** ,?\s*attributes:\s*\{[^}]*\} for every occurrence of "attributes:" (removed). */
function removeAttributes(text: string): string {
  let at = text.indexOf('attributes:');
  if (at < 0) return text;
  let out = '';
  let copied = 0;
  while (at >= 0) {
    const brace = skipSpaces(text, at + 'attributes:'.length);
    if (text[brace] !== '{') {
      at = text.indexOf('attributes:', at + 1);
      continue;
    }
    const close = text.indexOf('}', brace + 1);
    // No '}' after this '{': none after any later one either.
    if (close < 0) break;
    // The leftmost start: the spaces before, and a comma before them.
    let start = at;
    while (start > copied && isSpace(text.charCodeAt(start - 1))) start--;
    if (start > copied && text[start - 1] === ',') start--;
    out += text.slice(copied, start);
    copied = close + 1;
    at = text.indexOf('attributes:', copied);
  }
  return out + text.slice(copied);
}

/** -?\d+\.\d{4,}, each match replaced by Python's f"{float(m):.5f}". */
function roundLongDecimals(text: string): string {
  if (!text.includes('.')) return text;
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code < 0x80 && !(code >= 48 && code <= 57)) {
      i++;
      continue;
    }
    const whole = digitRun(text, i);
    if (whole.count === 0) {
      i += (text.codePointAt(i) as number) > 0xffff ? 2 : 1;
      continue;
    }
    if (text[whole.end] !== '.') {
      i = whole.end;
      continue;
    }
    const fraction = digitRun(text, whole.end + 1);
    if (fraction.count < 4) {
      // The digits after the dot may start a match of their own.
      i = whole.end + 1;
      continue;
    }
    const start = i > copied && text[i - 1] === '-' ? i - 1 : i;
    let number = text.slice(start, fraction.end);
    if (!whole.ascii || !fraction.ascii) number = asciiDigits(number);
    out += text.slice(copied, start) + pythonFormatFixed(Number(number), 5);
    copied = fraction.end;
    i = fraction.end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** A matched decimal (digits, a dot, perhaps a leading minus) with every Unicode digit as its ASCII digit, as Python's float() reads it. */
function asciiDigits(text: string): string {
  const out = Buffer.allocUnsafe(text.length);
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      out[length++] = code;
      continue;
    }
    const point = text.codePointAt(i) as number;
    if (point > 0xffff) i++;
    out[length++] = 48 + digitValue(point);
  }
  return out.toString('latin1', 0, length);
}

/** llama-stack's string normalisation, in linear time. */
export function normalizeLlamaStackString(value: string): string {
  let out = replaceAfterLiteral(value, 'score:', (at) => scoreEnd(value, at), 'score: __NORMALIZED__');
  out = removeAttributes(out);
  const afterAttributes = out;
  out = replaceAfterLiteral(
    afterAttributes,
    'document_id:',
    (at) => {
      const id = skipSpaces(afterAttributes, at + 'document_id:'.length);
      return uuidAt(afterAttributes, id) ? id + 36 : -1;
    },
    'document_id: __NORMALIZED__',
  );
  const afterIds = out;
  out = replaceAfterLiteral(afterIds, '<|', (at) => (uuidAt(afterIds, at + 2) && afterIds.startsWith('|>', at + 38) ? at + 40 : -1), '<|__NORMALIZED__|>');
  return roundLongDecimals(out);
}
