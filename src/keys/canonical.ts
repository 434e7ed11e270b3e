// The default scheme's keyed text of a JSON value: object members sorted by name
// (UTF-16 code units, as Array.prototype.sort and json-stable-stringify order them),
// no whitespace, strings exactly as sent (JSON.stringify's escaping), and numbers by
// their exact value (json/exact-number.ts). It takes JSON.parse's output, or a
// lossless tree for bodies whose numbers JSON.parse would round, and gives the same
// text for the same values either way: the server and `verify` share it.
import { isLosslessNumber } from '../json/lossless.js';
import { exactNumberText } from '../json/exact-number.js';

export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      // JSON.parse's numbers: their exact value (the body was checked for numbers it would round).
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return 'null';
  }
  if (isLosslessNumber(value)) return exactNumberText(value.value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const names = Object.keys(object).sort();
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    out += `${i === 0 ? '' : ','}${JSON.stringify(name)}:${canonicalJson(object[name])}`;
  }
  return `${out}}`;
}
