// Redaction, from the credential catalogue: credential query parameters leave stored
// URLs, keys and log lines, and the exact credential values a request carried are
// scrubbed, in every encoding the request could have carried them in, from everything
// written for it (an upstream may echo them back).
import { isCredentialHeader, isCredentialMember, keyShapedTokens, PROVIDER_DATA_HEADERS } from './catalogue.js';
import { decodeQueryText, queryParams, withoutCredentials } from './query.js';
import { scrubStreamText } from './stream-text.js';

/** Shorter values are left alone: scrubbing "x" from a recording would wreck it, and no real credential is that short. */
const MIN_SECRET_LENGTH = 8;
const REDACTED = '[redacted]';

/** The query without credentials, parameters sorted by name then value; '' when none remain. */
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const params = [...new URLSearchParams(withoutCredentials(rawQuery))];
  params.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return new URLSearchParams(params).toString();
}

/** A request URL (path and query) with credential parameters' values replaced, for logs and messages. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = queryParams(url.slice(q + 1));
  if (!params.some((param) => param.credential)) return url;
  const query = params.map((param) => `${param.separator}${param.name}${param.value === undefined ? '' : `=${param.credential ? REDACTED : param.value}`}`).join('');
  return `${url.slice(0, q)}?${query}`;
}

/**
 * The spellings a value may be echoed in: as is, percent-encoded (either case of hex),
 * form-encoded (`+` for space, by encodeURIComponent's rules and by URLSearchParams',
 * which also escapes ~ ! ' ( )), base64 (standard and URL-safe, without padding), and
 * JSON-escaped (a quote or backslash in it), as in JSON text quoted inside a string (an
 * error message that quotes the request, llama-stack's "Error code: 400 - {...}").
 */
function encodings(value: string): string[] {
  const percent = encodeURIComponent(value);
  const form = percent.replaceAll('%20', '+');
  const urlForm = new URLSearchParams([['', value]]).toString().slice(1);
  const lower = (escaped: string) => escaped.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
  const bytes = Buffer.from(value, 'utf8');
  return [
    value,
    JSON.stringify(value).slice(1, -1),
    percent,
    lower(percent),
    form,
    lower(form),
    urlForm,
    lower(urlForm),
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
  ];
}

/** The parts of one credential header value that are secrets on their own. */
function partsOf(name: string, value: string): string[] {
  const parts = [value];
  if (name === 'cookie' || name === 'set-cookie') {
    for (const pair of value.split(';')) parts.push(pair.slice(pair.indexOf('=') + 1).trim());
    return parts;
  }
  // "Bearer <token>", "Basic <base64>", "AWS4-HMAC-SHA256 Credential=<id>/..., SignedHeaders=..., Signature=<hex>".
  const space = value.indexOf(' ');
  if (space < 0) return parts;
  const rest = value.slice(space + 1).trim();
  parts.push(rest);
  if (/^basic$/i.test(value.slice(0, space))) {
    // user:password, and the password alone.
    const pair = Buffer.from(rest, 'base64').toString('utf8');
    parts.push(pair, pair.slice(pair.indexOf(':') + 1));
  }
  for (const field of rest.split(',')) {
    const eq = field.indexOf('=');
    const name = field.slice(0, Math.max(eq, 0)).trim().toLowerCase();
    if (name !== 'credential' && name !== 'signature') continue;
    const secret = field.slice(eq + 1).trim();
    // The access key id alone, too: Credential=<id>/<date>/<region>/<service>/aws4_request.
    parts.push(secret, secret.split('/')[0] ?? '');
  }
  return parts;
}

/** The secrets of the credentials last seen: a suite sends the same key with every request. */
const secretsOf = new Map<string, readonly string[]>();
const SECRETS_KEPT = 64;
const NONE: readonly string[] = [];

/** The exact credential values a request carried (headers and query), in every encoding, longest first. */
export function requestSecrets(headers: Record<string, string | string[] | undefined>, rawQuery: string): readonly string[] {
  // The credentials themselves name the answer: worked out once for each set of them.
  let carried = '';
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && (isCredentialHeader(name) || PROVIDER_DATA_HEADERS.includes(name))) carried += `${name}\n${Array.isArray(value) ? value.join('\n') : value}\n\n`;
  }
  // Most requests have no query: not split for nothing on every exchange.
  const params = rawQuery === '' ? [] : queryParams(rawQuery).filter((param) => param.credential && param.value !== undefined);
  for (const param of params) carried += `?${param.value as string}\n`;
  if (carried === '') return NONE;
  let secrets = secretsOf.get(carried);
  if (secrets === undefined) {
    secrets = secretsFrom(headers, params);
    if (secretsOf.size >= SECRETS_KEPT) secretsOf.clear();
    secretsOf.set(carried, secrets);
  }
  return secrets;
}

function secretsFrom(headers: Record<string, string | string[] | undefined>, params: ReadonlyArray<{ value?: string | undefined }>): readonly string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (PROVIDER_DATA_HEADERS.includes(name)) {
      for (const one of Array.isArray(value) ? value : [value]) for (const secret of providerDataSecrets(one)) values.add(secret);
    } else if (isCredentialHeader(name)) {
      for (const one of Array.isArray(value) ? value : [value]) for (const part of partsOf(name.toLowerCase(), one)) values.add(part);
    }
  }
  for (const param of params) {
    values.add(param.value as string);
    values.add(decodeQueryText(param.value as string));
  }
  const found = new Set<string>();
  for (const value of values) if (value.length >= MIN_SECRET_LENGTH) for (const spelling of encodings(value)) found.add(spelling);
  return [...found].filter((secret) => secret.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/**
 * The credentials in a provider-data header: every string under a member whose name says
 * secret, at any depth, with its parts as an Authorization header's (`Bearer <token>`).
 * A header sent twice (joined with ", ") is read as both; one that is not JSON at all
 * is a credential whole, since what it holds cannot be told, and so is each word of it
 * shaped like a key.
 */
function providerDataSecrets(text: string): string[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    try {
      data = JSON.parse(`[${text}]`);
    } catch {
      // Its words shaped like keys too: an echo of the key alone is scrubbed as well.
      return [text, ...keyShapedTokens(text)];
    }
  }
  const found: string[] = [];
  // A walk with its own stack: a header nested thousands deep cannot overflow the call stack.
  const pending: Array<{ value: unknown; secret: boolean }> = [{ value: data, secret: false }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, secret } = next;
    if (typeof value === 'string') {
      if (secret) found.push(...partsOf('authorization', value));
    } else if (typeof value === 'object' && value !== null) {
      for (const [name, item] of Object.entries(value)) pending.push({ value: item, secret: secret || (!Array.isArray(value) && isCredentialMember(name)) });
    }
  }
  return found;
}

/** A body kept as base64 (not JSON, not text the recording could hold): the secrets scrubbed from its bytes. */
function scrubBase64(body: string, secrets: readonly string[]): string {
  const bytes = Buffer.from(body, 'base64');
  const scrubbed = scrubBytes(bytes, secrets);
  return scrubbed === bytes ? body : scrubbed.toString('base64');
}

/** Bytes with every secret in them (as UTF-8) replaced by [redacted]; the same buffer when none is there. */
export function scrubBytes(body: Buffer, secrets: readonly string[]): Buffer {
  let bytes = body;
  for (const secret of secrets) {
    const needle = Buffer.from(secret, 'utf8');
    if (bytes.indexOf(needle) < 0) continue;
    const parts: Buffer[] = [];
    let from = 0;
    for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, from)) {
      parts.push(bytes.subarray(from, at), Buffer.from(REDACTED));
      from = at + needle.length;
    }
    parts.push(bytes.subarray(from));
    bytes = Buffer.concat(parts);
  }
  return bytes;
}

/**
 * `value` with every secret in its strings replaced by [redacted], and in the bytes of
 * bodies kept as base64 (an object with `body_encoding: "base64"`: a text or binary
 * answer can echo a key too); parts without one are returned as they are.
 */
function scrubSecrets<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') {
    let out: string = value;
    for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
    return out as T;
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const scrubbed = scrubSecrets(item, secrets);
      if (scrubbed !== item) (copy ??= [...value])[i] = scrubbed;
    });
    return (copy ?? value) as T;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    let copy: Record<string, unknown> | undefined;
    const base64 = (value as Record<string, unknown>)['body_encoding'] === 'base64';
    let renamed = false;
    for (const [name, item] of Object.entries(value)) {
      const scrubbed = base64 && name === 'body' && typeof item === 'string' ? scrubBase64(item, secrets) : scrubSecrets(item, secrets);
      if (scrubbed !== item) (copy ??= { ...(value as Record<string, unknown>) })[name] = scrubbed;
      if (scrubSecrets(name, secrets) !== name) renamed = true;
    }
    // A member name can echo a secret too (a map keyed by the key): the members renamed, in order.
    if (renamed) return renamedMembers(copy ?? (value as Record<string, unknown>), secrets) as T;
    return (copy ?? value) as T;
  }
  return value;
}

/** Members with secrets in their names scrubbed, in order; a name that would collide with another gets a number, so no member is lost. */
function renamedMembers(value: Record<string, unknown>, secrets: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    const scrubbed = scrubSecrets(name, secrets);
    let unique = scrubbed;
    // Names kept as they are stay unique among themselves; a renamed one steps around all of them.
    for (let n = 2; unique !== name && (Object.hasOwn(value, unique) || Object.hasOwn(out, unique)); n++) unique = `${scrubbed} ${n}`;
    out[unique] = item;
  }
  return out;
}

/** Whether JSON.stringify writes a string holding `secret` with the secret unchanged in it. */
function writtenAsIs(secret: string): boolean {
  return !/["\\\u0000-\u001f\ud800-\udfff]/.test(secret);
}

/** What the quick search needs of a list of secrets, kept while the list is (requestSecrets keeps one list per set of credentials). */
interface SearchedFor {
  /** Whether JSON writes each of them as it is (see writtenAsIs): else the quick search cannot tell. */
  plain: boolean;
  /** The secrets none of the others is part of, as UTF-8. */
  cores: readonly Buffer[];
}
const searchedFor = new WeakMap<readonly string[], SearchedFor>();

/**
 * A text holds one of `secrets` only if it holds one of their cores, those none of the
 * others is part of ('Bearer sk-...' and its encodings hold 'sk-...'; padded base64 holds
 * the unpadded): a key's many encodings are a few searches.
 */
function searchFor(secrets: readonly string[]): SearchedFor {
  let entry = searchedFor.get(secrets);
  if (entry === undefined) {
    const cores = secrets.filter((secret, i) => !secrets.some((other, j) => j !== i && secret.includes(other) && (secret !== other || j < i)));
    entry = { plain: secrets.every(writtenAsIs), cores: cores.map((core) => Buffer.from(core)) };
    searchedFor.set(secrets, entry);
  }
  return entry;
}

/**
 * A recording (or any value) scrubbed of `secrets`; a streamed answer's chunks first as
 * the text they join into, so a secret split across two events is found too. `json`: the
 * UTF-8 bytes of its JSON (any indent), when the caller has made them already (searched as
 * bytes: a text with characters beyond Latin-1, as most answers have, costs several times
 * as much). The value itself comes back when it holds none.
 */
export function scrubRecorded<T>(value: T, secrets: readonly string[], json?: Buffer): T {
  if (secrets.length === 0) return value;
  const response = (value as { response?: { is_streaming?: unknown; body?: unknown } } | null)?.response;
  const streamed = response?.is_streaming === true && Array.isArray(response.body);
  // Most recordings hold none of the request's secrets: one search of the JSON tells,
  // where JSON writes each secret as it is (no quote, backslash, control character or
  // surrogate in it), no body is kept as base64 (whose bytes are searched decoded: any
  // body_encoding member sends it to the full walk), and a stream's events are not each
  // other's neighbours in it.
  const search = streamed ? undefined : searchFor(secrets);
  if (search?.plain) {
    const bytes = json ?? Buffer.from(JSON.stringify(value));
    if (!bytes.includes('"body_encoding"') && !search.cores.some((core) => bytes.includes(core))) return value;
  }
  if (streamed) {
    const chunks = (response as { body: unknown[] }).body;
    const body = scrubStreamText(chunks, secrets, REDACTED);
    if (body !== chunks) value = { ...value, response: { ...response, body } };
  }
  return scrubSecrets(value, secrets);
}
