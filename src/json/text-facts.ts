// Facts about valid JSON text, found in one pass outside its strings: how deeply it
// nests, whether JSON.parse may have changed the value of a number in it, and whether
// every number is written as JSON.stringify writes what JSON.parse reads of it.
// A number of up to 15 significant digits without an exponent is always read back
// exactly (a double holds 15 decimal digits); anything longer, or with an exponent,
// may have been rounded, or read as Infinity or 0.

interface JsonTextFacts {
  depth: number;
  /** True when some number may not be exactly what JSON.parse read. */
  roundedNumbers: boolean;
  /** True when every number reads and writes back as written (`1`, `0.7`; not `1.0`, `1e3`, `0.70`): JSON.parse and JSON.stringify then keep the text's numbers. */
  plainNumbers: boolean;
}

const LONGEST_EXACT = 15;

/** JSON nested deeper is kept as bytes: every recursive step after parsing would overflow the stack (Python's json stops near 1000). */
export const MAX_JSON_DEPTH = 512;

/**
 * The index of the quote that closes a string starting at `start` (one preceded by an
 * even run of backslashes), looked for before `limit`; `limit` when there is none.
 */
export function closingQuote(text: string, start: number, limit = text.length): number {
  let end = text.indexOf('"', start);
  while (end >= 0 && end < limit) {
    let backslashes = 0;
    while (end - 1 - backslashes >= start && text.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return limit;
}

export function jsonTextFacts(text: string): JsonTextFacts {
  let depth = 0;
  let max = 0;
  let roundedNumbers = false;
  let plainNumbers = true;
  let digits = 0;
  /** Where the number being read began, -1 outside one. */
  let numberStart = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    const inNumber = (ch >= 48 && ch <= 57) || ch === 46 || ch === 45 || ch === 43 || ((ch === 101 || ch === 69) && numberStart >= 0);
    if (inNumber) {
      if (numberStart < 0) numberStart = i;
    } else if (numberStart >= 0) {
      if (plainNumbers && !writtenAsRead(text.slice(numberStart, i))) plainNumbers = false;
      numberStart = -1;
    }
    if (ch === 34) {
      i = closingQuote(text, i + 1);
      digits = 0;
    } else if (ch >= 48 && ch <= 57) {
      if (++digits > LONGEST_EXACT) roundedNumbers = true;
    } else if (ch === 46 || ch === 45) {
      // '.' and '-' belong to the number around them
    } else {
      // An exponent follows a digit ('true' and 'false' have an 'e' too).
      if ((ch === 101 || ch === 69) && digits > 0) roundedNumbers = true;
      else if (ch === 91 || ch === 123) max = Math.max(max, ++depth);
      else if (ch === 93 || ch === 125) depth--;
      digits = 0;
    }
  }
  if (numberStart >= 0 && !writtenAsRead(text.slice(numberStart))) plainNumbers = false;
  return { depth: max, roundedNumbers, plainNumbers };
}

/** Whether JavaScript writes the number a lexeme reads as with the same lexeme. */
function writtenAsRead(lexeme: string): boolean {
  return String(Number(lexeme)) === lexeme;
}
