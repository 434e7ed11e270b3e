// Credentials in a recording, for `verify`: the catalogue's key shapes, bearer tokens,
// credential headers and credential query parameters, found in every string and member
// name of the parsed file, also percent-encoded or in base64, and in the joined text of
// a streamed answer (a key split across two events). One pass over each string: tokens
// are matched by anchored patterns, never by a pattern free to start anywhere.
import { BEARER, CREDENTIAL_HEADERS, isCredentialHeader, KEY_SHAPES, MIN_BEARER_LENGTH } from './catalogue.js';
import { decodeQueryText, queryParams } from './query.js';
import { joinedStreamTexts } from './stream-text.js';

const TOKEN = /[A-Za-z0-9_.~-]+/g;
/**
 * A URL's query, or a form body: what follows '?' up to a space or quote. Repeats are
 * bounded (a name of 4 KB, a value of 64 KB at a time): an unbounded one keeps a
 * backtracking entry for every character, and a string of a few million (a base64
 * image) overflows the pattern's stack.
 */
const QUERY = /(?:^|\?)([^?#\s"]{0,4096}=[^#\s"]{0,65536})/g;
/** A run that may be base64 of a key (the shortest key shape is 20 characters, 28 in base64), read 64 KB at a time (a multiple of 4: the parts decode as the whole would). */
const BASE64 = /[A-Za-z0-9+/_-]{28,65536}={0,2}/g;
/** Query values shorter than this are not taken for credentials (`key=id`). */
const MIN_QUERY_VALUE = 8;

function scanTokens(text: string, found: Set<string>): void {
  let previous: { text: string; end: number } | undefined;
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    for (const [name, shape] of KEY_SHAPES) if (shape.test(token)) found.add(name);
    if (previous && BEARER.test(previous.text) && token.length >= MIN_BEARER_LENGTH && text.slice(previous.end, match.index).trim() === '') found.add('bearer token');
    previous = { text: token, end: match.index + token.length };
  }
}

function scanString(text: string, found: Set<string>): void {
  scanTokens(text, found);
  if (text.includes('%') || text.includes('+')) scanTokens(decodeQueryText(text), found);
  for (const match of text.matchAll(BASE64)) {
    const decoded = Buffer.from(match[0], 'base64').toString('latin1');
    // Only text: random bytes decoded from an id are no key.
    if (/^[\x20-\x7e]*$/.test(decoded)) scanTokens(decoded, found);
  }
  if (!text.includes('=')) return;
  for (const match of text.matchAll(QUERY)) {
    for (const param of queryParams(match[1] as string)) {
      if (param.credential && param.value !== undefined && param.value.length >= MIN_QUERY_VALUE && param.value !== '[redacted]' && param.value !== '%5Bredacted%5D') found.add('credential query parameter');
    }
  }
}

function scan(value: unknown, found: Set<string>, inHeaders = false): void {
  if (typeof value === 'string') return scanString(value, found);
  if (Array.isArray(value)) return value.forEach((item) => scan(item, found));
  if (value === null || typeof value !== 'object') return;
  const base64 = (value as Record<string, unknown>)['body_encoding'] === 'base64';
  for (const [name, item] of Object.entries(value)) {
    // Any name that says secret in a headers object; elsewhere (a body's members) only the catalogued ones.
    const credential = inHeaders ? isCredentialHeader(name) : CREDENTIAL_HEADERS.has(name.toLowerCase());
    if (credential && typeof item === 'string' && item !== '' && item !== '[redacted]') found.add('credential header');
    scanString(name, found);
    // A body kept as base64 is read as the text it may be (latin1: every byte one character).
    if (base64 && name === 'body' && typeof item === 'string') scanString(Buffer.from(item, 'base64').toString('latin1'), found);
    else scan(item, found, name.toLowerCase() === 'headers');
  }
}

/** The kinds of credential found in a parsed recording (or any JSON value), if any. */
export function findCredentials(value: unknown): string[] {
  const found = new Set<string>();
  scan(value, found);
  const response = (value as { response?: { is_streaming?: unknown; body?: unknown } } | null)?.response;
  if (response?.is_streaming === true && Array.isArray(response.body)) for (const text of joinedStreamTexts(response.body)) scanString(text, found);
  return [...found].sort();
}
