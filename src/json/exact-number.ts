// A JSON number keyed by its value: 0.7, 0.70 and 7e-1 are one number, and two
// numbers that differ are never one, however many digits they carry or however far
// beyond a double's range they go (where JSON.parse would round them, or read
// Infinity). The text is what JSON.stringify writes whenever that text has the
// number's exact value, so ordinary numbers read as they always have.

interface Decimal {
  negative: boolean;
  /** Significant digits, no leading or trailing zeros; '' for zero. */
  digits: string;
  /** value = digits * 10^exponent. */
  exponent: bigint;
}

const LEXEME = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/;

/** The exact value of a JSON number lexeme (or of a number as JavaScript writes it). */
function decimalOf(lexeme: string): Decimal | undefined {
  const match = LEXEME.exec(lexeme);
  if (!match) return undefined;
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  const all = whole + fraction;
  let first = 0;
  while (first < all.length && all.charCodeAt(first) === 48) first++;
  let last = all.length;
  while (last > first && all.charCodeAt(last - 1) === 48) last--;
  const digits = all.slice(first, last);
  if (digits === '') return { negative: false, digits, exponent: 0n };
  return { negative: sign === '-', digits, exponent: BigInt(exponent) - BigInt(fraction.length) + BigInt(all.length - last) };
}

function same(a: Decimal, b: Decimal): boolean {
  return a.negative === b.negative && a.digits === b.digits && a.exponent === b.exponent;
}

/**
 * The key text of a JSON number lexeme: JSON.stringify(Number(lexeme)) when that has
 * the lexeme's exact value (every number of up to 15 significant digits within a
 * double's range), else the exact value as `[-]<digits>e<exponent>`.
 */
export function exactNumberText(lexeme: string): string {
  const exact = decimalOf(lexeme);
  // Not a JSON number (never from a parser): its text is all there is.
  if (!exact) return lexeme;
  if (exact.digits === '') return '0';
  const value = Number(lexeme);
  if (Number.isFinite(value) && value !== 0) {
    const text = JSON.stringify(value);
    const written = decimalOf(text);
    if (written && same(written, exact)) return text;
  }
  return `${exact.negative ? '-' : ''}${exact.digits}e${exact.exponent}`;
}
