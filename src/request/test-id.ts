// Which test made a request: X-Test-Id, or llama-stack's provider-data headers
// (JSON with "__test_id"), as its server-mode test clients send it; and which run
// of the suite, from x-llm-replay-run.

import { PROVIDER_DATA_HEADERS } from '../secrets/catalogue.js';
import { RUN_HEADER, TEST_ID_HEADER } from './control-headers.js';
import { headerText } from './header-text.js';

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A header's value as text: UTF-8 read as such (header-text.ts). */
function textOf(value: string | string[] | undefined): string | undefined {
  const one = single(value);
  return one === undefined ? undefined : headerText(one);
}

/** The test id a request carries, null when none; `unread`: why a provider-data header that could carry one was not read. */
export function testIdFrom(headers: Record<string, string | string[] | undefined>): { testId: string | null; unread?: string } {
  const direct = textOf(headers[TEST_ID_HEADER]);
  if (direct !== undefined && direct !== '') return { testId: direct };
  let unread: string | undefined;
  for (const name of PROVIDER_DATA_HEADERS) {
    const raw = textOf(headers[name]);
    if (!raw) continue;
    try {
      const data = JSON.parse(raw) as unknown;
      const id = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)['__test_id'] : undefined;
      if (typeof id === 'string' && id !== '') return { testId: id };
      if (id !== undefined) unread ??= `${name}'s "__test_id" is ${whatItIs(id)}`;
    } catch {
      // Not the parser's message: it quotes the text around the error, which may be a key.
      unread ??= `${name} is not JSON`;
    }
  }
  return unread === undefined ? { testId: null } : { testId: null, unread };
}

/** What a "__test_id" that names no test id is instead. */
function whatItIs(id: unknown): string {
  if (id === '') return 'empty';
  if (id === null) return 'null, not a string';
  return `${Array.isArray(id) ? 'an array' : `a ${typeof id}`}, not a string`;
}

/** The run scope a request names, '' when none. */
export function runFrom(headers: Record<string, string | string[] | undefined>): string {
  return single(headers[RUN_HEADER]) ?? '';
}
