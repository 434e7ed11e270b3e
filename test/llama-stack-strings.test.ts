// llama-stack's string rules as linear scanners: the same output as Python's re.sub
// with llama-stack's patterns (vectors made by Python), the same as the backtracking
// regexes they replace on random strings, and a single pass on the inputs that made
// those regexes take seconds.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeLlamaStackString } from '../src/keys/llama-stack-strings.js';
import { pythonFormatFixed } from '../src/json/python-float.js';

const vectors = JSON.parse(readFileSync(new URL('./fixtures/python-vectors.json', import.meta.url), 'utf8')) as { strings: Array<{ input: string; python: string }> };

/** The regexes llama-stack's recorder uses, in JavaScript (Python's \s and \d classes): the oracle on short strings. */
function byRegex(value: string): string {
  const S = '[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
  const D = '\\p{Nd}';
  const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
  const ascii = (text: string) =>
    text.replace(/\p{Nd}/gu, (digit) => {
      let zero = digit.codePointAt(0)!;
      while (/\p{Nd}/u.test(String.fromCodePoint(zero - 1))) zero--;
      return String((digit.codePointAt(0)! - zero) % 10);
    });
  return value
    .replace(new RegExp(`score:${S}*[-+]?${D}*\\.?${D}+(?:[eE][-+]?${D}+)?`, 'gu'), 'score: __NORMALIZED__')
    .replace(new RegExp(`,?${S}*attributes:${S}*\\{[^}]*\\}`, 'gu'), '')
    .replace(new RegExp(`document_id:${S}*${UUID}`, 'gu'), 'document_id: __NORMALIZED__')
    .replace(new RegExp(`<\\|${UUID}\\|>`, 'gu'), '<|__NORMALIZED__|>')
    .replace(new RegExp(`-?${D}+\\.${D}{4,}`, 'gu'), (match) => pythonFormatFixed(Number(ascii(match)), 5));
}

describe("llama-stack's string rules", () => {
  it(`give Python's output on ${vectors.strings.length} vectors (tricky cases and seeded random strings)`, () => {
    const wrong = vectors.strings.filter((v) => normalizeLlamaStackString(v.input) !== v.python);
    expect(wrong.map((v) => ({ input: v.input.slice(0, 80), python: v.python.slice(0, 80), ours: normalizeLlamaStackString(v.input).slice(0, 80) }))).toEqual([]);
  });

  it('give the backtracking regexes\' output on random strings', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pieces = ['0', '7', '.', '-', '+', 'e', 'E', ' ', '\u2003', '\x1c', ',', 'score:', 'attributes:', '{', '}', 'document_id:', '0a1b2c3d-4e5f-6789-abcd-ef0123456789', '<|', '|>', '٣', '𝟘', '🙂', 'a'];
    for (let i = 0; i < 5000; i++) {
      const text = Array.from({ length: Math.floor(random() * 30) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      expect(normalizeLlamaStackString(text), JSON.stringify(text)).toBe(byRegex(text));
    }
  });

  it('take one pass over inputs that take a backtracking regex seconds', () => {
    const digits = '1'.repeat(100_000);
    expect(normalizeLlamaStackString(`${digits}.`)).toBe(`${digits}.`);
    expect(normalizeLlamaStackString(`${digits}.12345`)).toBe('inf');
    expect(normalizeLlamaStackString(`-${'0'.repeat(100_000)}.000005`)).toBe('-0.00001');
    expect(normalizeLlamaStackString(`${'١'.repeat(50_000)}.${'٢'.repeat(3)}`)).toBe(`${'١'.repeat(50_000)}.${'٢'.repeat(3)}`);
    expect(normalizeLlamaStackString(`score:${' '.repeat(100_000)}x`)).toBe(`score:${' '.repeat(100_000)}x`);
    expect(normalizeLlamaStackString('attributes: {'.repeat(20_000))).toBe('attributes: {'.repeat(20_000));
    expect(normalizeLlamaStackString(`${'1.2'.repeat(30_000)}`)).toBe('1.2'.repeat(30_000));
  });
});
