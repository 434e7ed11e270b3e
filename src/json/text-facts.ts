// Two facts about valid JSON text, found in one pass outside its strings: how deeply
// it nests, and whether JSON.parse may have changed the value of a number in it.
// A number of up to 15 significant digits without an exponent is always read back
// exactly (a double holds 15 decimal digits); anything longer, or with an exponent,
// may have been rounded, or read as Infinity or 0.

interface JsonTextFacts {
  depth: number;
  /** True when some number may not be exactly what JSON.parse read. */
  roundedNumbers: boolean;
}

const LONGEST_EXACT = 15;

/** JSON nested deeper is kept as bytes: every recursive step after parsing would overflow the stack (Python's json stops near 1000). */
export const MAX_JSON_DEPTH = 512;

/** The index of the quote that closes a string starting at `start` (one preceded by an even run of backslashes). */
export function closingQuote(text: string, start: number): number {
  let end = text.indexOf('"', start);
  while (end >= 0) {
    let backslashes = 0;
    while (end - 1 - backslashes >= start && text.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return text.length;
}

export function jsonTextFacts(text: string): JsonTextFacts {
  let depth = 0;
  let max = 0;
  let roundedNumbers = false;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
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
  return { depth: max, roundedNumbers };
}
