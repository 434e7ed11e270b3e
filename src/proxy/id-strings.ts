// Where an upstream id is rewritten in a JSON text (a body, an NDJSON line, an SSE frame
// or its data): only in a string value that is the id ("x" never rewrites the key
// "index" or the text "max x box"), and, for an id shaped as upstreams make them, also
// where it stands as a whole word inside a string value (a URL or path naming it:
// ".../batches/msgbatch_01.../results"). One pass over the text: each string is looked
// up whole, searched only for the few upstream-shaped ids of this event, and no regular
// expression can backtrack. The same replacements apply to the parsed value in place
// (replaceIdValues), so that what is recorded need not be parsed a second time.

import { isJsonObject, type JsonValue } from '../json/lossless.js';
import { closingQuote } from '../json/text-facts.js';

/** An id-shaped word inside a string: letters, digits, '-' and '_'. */
const WORD = /[A-Za-z0-9_-]+/g;

/**
 * `whole`: ids replaced where a string value is exactly the id. `inside`: those of them
 * (shaped like an upstream's) also replaced as a word within a string value.
 */
export function replaceIdStrings(text: string, whole: ReadonlyMap<string, string>, inside: ReadonlyMap<string, string>): string {
  let out = '';
  let copied = 0;
  // The end of the line being scanned: a JSON string never spans a raw line break, so a
  // quote not closed on its line (an SSE field, a comment) opens no string.
  let lineEnd = -1;
  let at = text.indexOf('"');
  while (at !== -1) {
    if (lineEnd < at) {
      lineEnd = text.indexOf('\n', at);
      if (lineEnd === -1) lineEnd = text.length;
    }
    // Looked for on this line only: a quote left open on a line would otherwise send every later one to the end of the text.
    const end = closingQuote(text, at + 1, lineEnd);
    if (end >= lineEnd) {
      at = lineEnd < text.length ? text.indexOf('"', lineEnd + 1) : -1;
      continue;
    }
    const replaced = isKey(text, end + 1) ? undefined : replacedValue(text, at, end, whole, inside);
    if (replaced !== undefined) {
      out += text.slice(copied, at) + JSON.stringify(replaced);
      copied = end + 1;
    }
    at = text.indexOf('"', end + 1);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * replaceIdStrings for a text that is JSON as a whole (a body, an NDJSON line; never an
 * SSE frame, whose other lines are not JSON), at the cost of a search for each id when,
 * as in nearly every answer, each of them stands only as a whole string value written
 * plainly (`"id": "chatcmpl-..."`): then those tokens are what the full scan would replace.
 */
export function replaceIdsInJson(text: string, whole: ReadonlyMap<string, string>, inside: ReadonlyMap<string, string>): string {
  const found = plainTokens(text, whole);
  if (found === undefined) return replaceIdStrings(text, whole, inside);
  let out = '';
  let copied = 0;
  for (const { at, real, id } of found) {
    out += text.slice(copied, at) + id;
    copied = at + real.length;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * replaceIdsInJson for `text` as `bytes`, its UTF-8: where the ids stand plainly, the
 * bytes around them are kept, spared being made again from the text (an id of plain
 * characters takes a byte each, so it stands in the bytes where it stands in the text,
 * shifted by the extra bytes of the characters before it).
 */
export function replaceIdsInJsonBytes(text: string, bytes: Buffer, whole: ReadonlyMap<string, string>, inside: ReadonlyMap<string, string>): { bytes: Buffer; plain: boolean } {
  const found = plainTokens(text, whole);
  if (found === undefined) return { bytes: Buffer.from(replaceIdStrings(text, whole, inside)), plain: false };
  return { bytes: replacedTokens(text, bytes, found), plain: true };
}

/** `bytes` with the ids plainTokens found in their text replaced. */
function replacedTokens(text: string, bytes: Buffer, found: ReadonlyArray<{ at: number; real: string; id: string }>): Buffer {
  if (found.length === 0) return bytes;
  let size = bytes.length;
  for (const { real, id } of found) size += id.length - real.length;
  const out = Buffer.allocUnsafe(size);
  // Where each id stands in the bytes: where the last one ended, plus the bytes of the text between them.
  let copied = 0;
  let written = 0;
  let scanned = 0;
  for (const { at, real, id } of found) {
    const offset = copied + Buffer.byteLength(text.slice(scanned, at));
    written += bytes.copy(out, written, copied, offset);
    written += out.write(id, written, 'latin1');
    copied = offset + real.length;
    scanned = at + real.length;
  }
  bytes.copy(out, written, copied);
  return out;
}

/** Characters JSON writes as they are, and no escape can stand for but \u: an id of them is found by a search of the text. */
const PLAIN = /^[\x20\x21\x23-\x2e\x30-\x5b\x5d-\x7e]+$/;

/**
 * What may follow a string's closing quote in JSON: an id starting with one of these,
 * found between two quotes, may stand between two strings ("a",","b") rather than as one.
 */
const AFTER_STRING = /^[\x20,:\]}]/;

/**
 * Where each id stands in the text, in order, when it stands only as a whole string value;
 * undefined when an id also stands elsewhere (inside a longer string, as a key, after an
 * escaped quote), or could stand where a search cannot see it (a \u escape), which the
 * full scan decides. In valid JSON an unescaped quote followed by a character that cannot
 * follow a string opens one.
 */
function plainTokens(text: string, whole: ReadonlyMap<string, string>): Array<{ at: number; real: string; id: string }> | undefined {
  if (text.includes('\\u')) return undefined;
  const found: Array<{ at: number; real: string; id: string }> = [];
  for (const [real, id] of whole) {
    if (!PLAIN.test(real) || !PLAIN.test(id) || AFTER_STRING.test(real)) return undefined;
    for (let at = text.indexOf(real); at !== -1; at = text.indexOf(real, at + real.length)) {
      const end = at + real.length;
      if (text.charCodeAt(at - 1) !== 34 || text.charCodeAt(at - 2) === 92 || text.charCodeAt(end) !== 34 || isKey(text, end + 1)) return undefined;
      found.push({ at, real, id });
    }
  }
  return found.sort((a, b) => a.at - b.at);
}

/** Whether the string that ended before `after` is an object's key (a ':' follows). */
function isKey(text: string, after: number): boolean {
  let at = after;
  for (;;) {
    const code = text.charCodeAt(at);
    if (code === 32 || code === 9 || code === 10 || code === 13) at++;
    else return code === 58;
  }
}

/** The new value of the string from quote `open` to quote `close`, or undefined when it stays. */
function replacedValue(text: string, open: number, close: number, whole: ReadonlyMap<string, string>, inside: ReadonlyMap<string, string>): string | undefined {
  let value = text.slice(open + 1, close);
  if (value.includes('\\')) {
    try {
      value = JSON.parse(text.slice(open, close + 1)) as string;
    } catch {
      return undefined;
    }
  }
  return replacedString(value, whole, inside);
}

/** A string value with its ids replaced, or undefined when it stays. */
function replacedString(value: string, whole: ReadonlyMap<string, string>, inside: ReadonlyMap<string, string>): string | undefined {
  const id = whole.get(value);
  if (id !== undefined) return id;
  if (!containsAny(value, inside)) return undefined;
  let changed = false;
  const next = value.replace(WORD, (word) => {
    const replacement = inside.get(word);
    if (replacement === undefined) return word;
    changed = true;
    return replacement;
  });
  return changed ? next : undefined;
}

/**
 * replaceIdValues for a value whose text replaceIdsInJsonBytes found plain (every id
 * standing as a whole string value): no string holds one inside it, and a string of
 * another length than an id's is none of them, so it is not hashed to find out.
 */
export function replaceWholeIdValues(value: JsonValue, whole: ReadonlyMap<string, string>): void {
  replaceWholeValues(value, whole, new Set(Array.from(whole.keys(), (real) => real.length)));
}

function replaceWholeValues(value: JsonValue, whole: ReadonlyMap<string, string>, lengths: ReadonlySet<number>): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as JsonValue;
      if (typeof item !== 'string') replaceWholeValues(item, whole, lengths);
      else if (lengths.has(item.length)) {
        const id = whole.get(item);
        if (id !== undefined) value[i] = id;
      }
    }
    return;
  }
  if (!isJsonObject(value)) return;
  for (const name in value) {
    const item = value[name] as JsonValue;
    if (typeof item !== 'string') replaceWholeValues(item, whole, lengths);
    else if (lengths.has(item.length)) {
      const id = whole.get(item);
      if (id !== undefined) value[name] = id;
    }
  }
}

/**
 * The same replacements in a parsed value, in place: what parsing the replaced text
 * would give, without parsing it again (string values only, never member names).
 */
export function replaceIdValues(value: JsonValue, whole: ReadonlyMap<string, string>, inside: ReadonlyMap<string, string>): void {
  // A scalar at the top cannot change in place; it holds no id field, so it never has replacements.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as JsonValue;
      if (typeof item === 'string') {
        const replaced = replacedString(item, whole, inside);
        if (replaced !== undefined) value[i] = replaced;
      } else replaceIdValues(item, whole, inside);
    }
    return;
  }
  if (!isJsonObject(value)) return;
  for (const name in value) {
    const item = value[name] as JsonValue;
    if (typeof item === 'string') {
      const replaced = replacedString(item, whole, inside);
      // An own member named __proto__ (JSON allows it) stays a member when assigned.
      if (replaced !== undefined) value[name] = replaced;
    } else replaceIdValues(item, whole, inside);
  }
}

function containsAny(value: string, ids: ReadonlyMap<string, string>): boolean {
  for (const real of ids.keys()) if (value.includes(real)) return true;
  return false;
}
