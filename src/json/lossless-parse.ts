// A strict JSON parser that keeps every number's lexeme (as a LosslessNumber) and
// reads duplicate members as JSON.parse and Python do (the last one wins). Strings
// are found with indexOf and read natively, so a long prompt costs a scan, not a
// loop per character: lossless-json's own parser took ~130 ns a character, and a
// request body is parsed this way on the llama-stack scheme's key path.
import { LosslessNumber } from 'lossless-json';
import { closingQuote } from './text-facts.js';

type Value = null | boolean | string | LosslessNumber | Value[] | { [key: string]: Value };

const CONTROL = /[\x00-\x1f]/;

class Parser {
  i = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    const found = this.i < this.text.length ? JSON.stringify(this.text[this.i]) : 'the end';
    throw new SyntaxError(`${what} expected at position ${this.i}, found ${found}`);
  }

  space(): void {
    const { text } = this;
    let i = this.i;
    for (; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch !== 32 && ch !== 10 && ch !== 13 && ch !== 9) break;
    }
    this.i = i;
  }

  value(): Value {
    this.space();
    const ch = this.text.charCodeAt(this.i);
    if (ch === 34) return this.string();
    if (ch === 123) return this.object();
    if (ch === 91) return this.array();
    if (ch === 45 || (ch >= 48 && ch <= 57)) return this.number();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return value;
      }
    }
    return this.fail('a JSON value');
  }

  string(): string {
    const { text } = this;
    const start = this.i + 1;
    const end = closingQuote(text, start);
    if (end >= text.length) {
      this.i = text.length;
      return this.fail('a closing quote');
    }
    const raw = text.slice(start, end);
    this.i = end + 1;
    if (raw.indexOf('\\') < 0) {
      if (CONTROL.test(raw)) {
        this.i = start + raw.search(CONTROL);
        return this.fail('a string without control characters');
      }
      return raw;
    }
    // Escapes (and the checks on them) are JSON.parse's own.
    try {
      return JSON.parse(text.slice(start - 1, end + 1)) as string;
    } catch (error) {
      // Its position is in the string alone: said in the text, as every other failure is.
      const at = /at position (\d+)/.exec((error as Error).message);
      this.i = start - 1 + (at ? Number(at[1]) : 0);
      return this.fail('a valid escape or character in a string');
    }
  }

  number(): LosslessNumber {
    const { text } = this;
    const start = this.i;
    let i = start;
    const digits = () => {
      const from = i;
      while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
      return i - from;
    };
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (digits() === 0) {
      this.i = i;
      return this.fail('a digit');
    }
    if (text[i] === '.') {
      i++;
      if (digits() === 0) {
        this.i = i;
        return this.fail('a digit');
      }
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (digits() === 0) {
        this.i = i;
        return this.fail('a digit');
      }
    }
    this.i = i;
    return new LosslessNumber(text.slice(start, i));
  }

  array(): Value[] {
    this.i++;
    const out: Value[] = [];
    this.space();
    if (this.text[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.space();
      const ch = this.text[this.i++];
      if (ch === ']') return out;
      if (ch !== ',') {
        this.i--;
        return this.fail("',' or ']'");
      }
    }
  }

  object(): { [key: string]: Value } {
    this.i++;
    const members = new Map<string, Value>();
    this.space();
    if (this.text[this.i] === '}') {
      this.i++;
      return {};
    }
    for (;;) {
      this.space();
      if (this.text[this.i] !== '"') return this.fail('a member name');
      const name = this.string();
      this.space();
      if (this.text[this.i++] !== ':') {
        this.i--;
        return this.fail("':'");
      }
      // The last of duplicate members wins, but keeps the first one's place, as in JSON.parse.
      members.set(name, this.value());
      this.space();
      const ch = this.text[this.i++];
      if (ch === '}') return Object.fromEntries(members);
      if (ch !== ',') {
        this.i--;
        return this.fail("',' or '}'");
      }
    }
  }
}

/** Parses JSON text keeping number lexemes. Throws SyntaxError (with the position) on invalid input. */
export function parseLosslessJson(text: string): Value {
  const parser = new Parser(text);
  const value = parser.value();
  parser.space();
  if (parser.i < text.length) parser.fail('the end');
  return value;
}
