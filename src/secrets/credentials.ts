// Credentials in a recording, for `verify`: the catalogue's key shapes, bearer tokens,
// credential headers and credential query parameters, found in every string and key
// of the parsed file. One pass over each string: tokens are matched by anchored
// patterns, never by a pattern free to start anywhere.
import { BEARER, isCredentialHeader, isCredentialQueryParam, KEY_SHAPES, MIN_BEARER_LENGTH } from './catalogue.js';

const TOKEN = /[A-Za-z0-9_.~-]+/g;
const QUERY_PARAM = /[?&]([A-Za-z0-9_.-]+)=([^&#\s"]*)/g;
/** Query values shorter than this are not taken for credentials (`key=id`). */
const MIN_QUERY_VALUE = 8;

function scanString(text: string, found: Set<string>): void {
  let previous: { text: string; end: number } | undefined;
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    for (const [name, shape] of KEY_SHAPES) if (shape.test(token)) found.add(name);
    if (previous && BEARER.test(previous.text) && token.length >= MIN_BEARER_LENGTH && text.slice(previous.end, match.index).trim() === '') found.add('bearer token');
    previous = { text: token, end: match.index + token.length };
  }
  if (!text.includes('?') && !text.includes('&')) return;
  for (const match of text.matchAll(QUERY_PARAM)) {
    if (isCredentialQueryParam(match[1] as string) && (match[2] as string).length >= MIN_QUERY_VALUE) found.add('credential query parameter');
  }
}

function scan(value: unknown, found: Set<string>): void {
  if (typeof value === 'string') return scanString(value, found);
  if (Array.isArray(value)) return value.forEach((item) => scan(item, found));
  if (value === null || typeof value !== 'object') return;
  const base64 = (value as Record<string, unknown>)['body_encoding'] === 'base64';
  for (const [name, item] of Object.entries(value)) {
    if (isCredentialHeader(name) && typeof item === 'string' && item !== '') found.add('credential header');
    scanString(name, found);
    // A body kept as base64 is read as the text it may be (latin1: every byte one character).
    if (base64 && name === 'body' && typeof item === 'string') scanString(Buffer.from(item, 'base64').toString('latin1'), found);
    else scan(item, found);
  }
}

/** The kinds of credential found in a parsed recording (or any JSON value), if any. */
export function findCredentials(value: unknown): string[] {
  const found = new Set<string>();
  scan(value, found);
  return [...found].sort();
}
