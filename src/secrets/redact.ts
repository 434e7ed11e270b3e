// Where providers put credentials. These reach the upstream in record and live
// modes and never a recording file, a key or a log line.

export const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'set-cookie',
  'openai-organization',
  'openai-project',
]);

const SECRET_QUERY_PARAMS = new Set(['key', 'api_key', 'api-key', 'apikey', 'access_token', 'token', 'sig', 'signature']);

export function isSecretQueryParam(name: string): boolean {
  return SECRET_QUERY_PARAMS.has(name.toLowerCase());
}

/** The query without credentials, parameters sorted by name then value; '' when none remain. */
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const params = [...new URLSearchParams(rawQuery)].filter(([name]) => !isSecretQueryParam(name));
  params.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return new URLSearchParams(params).toString();
}

/** A request URL (path and query) with credential parameters replaced, for logs. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const name of [...params.keys()]) {
    if (isSecretQueryParam(name)) {
      params.set(name, '[redacted]');
      changed = true;
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}
