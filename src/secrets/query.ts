// A query string as the credential catalogue reads it: parameters separated by `&` or
// `;` (some gateways and signed URLs use `;`), names judged decoded. Kept as written so
// a URL can be rewritten without re-encoding what it does not touch.
import { isCredentialQueryParam } from './catalogue.js';

interface QueryParam {
  /** The name as written (still percent-encoded). */
  name: string;
  /** The value as written, '' when there is none; undefined for a bare name. */
  value: string | undefined;
  /** The separator before it ('' for the first). */
  separator: string;
  credential: boolean;
}

export function queryParams(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  let separator = '';
  for (const part of rawQuery.split(/([&;])/)) {
    if (part === '&' || part === ';') {
      separator = part;
      continue;
    }
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    params.push({ name, value: eq < 0 ? undefined : part.slice(eq + 1), separator, credential: isCredentialQueryParam(name) });
    separator = '';
  }
  return params;
}

/** `text` percent-decoded as a form value (`+` for space); as written when malformed. */
export function decodeQueryText(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

/** The query with every credential parameter left out, the rest as written; a `;` keeps its place. */
export function withoutCredentials(rawQuery: string): string {
  const params = queryParams(rawQuery);
  if (!params.some((param) => param.credential)) return rawQuery;
  return params
    .filter((param) => !param.credential)
    .map((param, i) => `${i === 0 ? '' : param.separator || '&'}${param.name}${param.value === undefined ? '' : `=${param.value}`}`)
    .join('');
}
