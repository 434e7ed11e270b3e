// Python's float semantics, reproduced exactly: round(x, n), f"{x:.nf}" and repr(x).
// JavaScript's toFixed breaks exact ties upwards where Python rounds half to even
// (e.g. 0.015625 -> "0.01563" vs Python's "0.01562"), so rounding is done on the
// exact binary value with BigInt arithmetic.

/** x as sign * mantissa * 2^exponent, exactly. x must be finite. */
function decompose(x: number): { negative: boolean; mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const negative = hi >>> 31 === 1;
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent: number;
  if (biased === 0) {
    exponent = -1074;
  } else {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  return { negative, mantissa, exponent };
}

/** The integer n nearest to x * 10^digits, ties to even, computed exactly. */
function scaledRoundHalfEven(x: number, digits: number): { negative: boolean; n: bigint } {
  const { negative, mantissa, exponent } = decompose(x);
  const scale = 10n ** BigInt(digits);
  if (exponent >= 0) return { negative, n: (mantissa << BigInt(exponent)) * scale };
  const numerator = mantissa * scale;
  const denominator = 1n << BigInt(-exponent);
  let n = numerator / denominator;
  const twiceRemainder = (numerator % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && n % 2n === 1n)) n += 1n;
  return { negative, n };
}

/** Python's f"{x:.{digits}f}". */
export function pythonFormatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const { negative, n } = scaledRoundHalfEven(x, digits);
  const text = n.toString().padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits);
  const fraction = text.slice(text.length - digits);
  return `${negative ? '-' : ''}${whole}${digits > 0 ? '.' + fraction : ''}`;
}

/** Python's round(x, digits) for a float x. */
export function pythonRound(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  // Python converts the correctly rounded decimal string back to the nearest double.
  return Number(pythonFormatFixed(x, digits));
}

/** Python's repr(x) for a float: shortest round-trip digits, Python's layout. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // JavaScript and Python both pick the shortest digit string that round-trips
  // (and the closest one among equals); only the layout differs.
  const [rawDigits, rawExponent] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = rawDigits.replace('.', '');
  const decimalPoint = Number(rawExponent) + 1; // value = 0.digits * 10^decimalPoint
  const sign = x < 0 ? '-' : '';
  if (decimalPoint > -4 && decimalPoint <= 16) {
    if (decimalPoint <= 0) return `${sign}0.${'0'.repeat(-decimalPoint)}${digits}`;
    if (decimalPoint >= digits.length) return `${sign}${digits}${'0'.repeat(decimalPoint - digits.length)}.0`;
    return `${sign}${digits.slice(0, decimalPoint)}.${digits.slice(decimalPoint)}`;
  }
  const exponent = decimalPoint - 1;
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const exponentText = `${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  return `${sign}${mantissa}e${exponentText}`;
}
