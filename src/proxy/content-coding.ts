// The content codings llm-replay undoes (it asks upstreams for identity, but some
// compress all the same): gzip, deflate and br, one or several in a row. An answer in
// any other coding (zstd, compress) cannot be read, so it is passed on as it came, with
// its Content-Encoding, and not written (unless it has no body: failure-policy.ts).
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { IncomingHttpHeaders } from 'node:http';

type Decoder = () => NodeJS.ReadWriteStream;

const DECODERS: ReadonlyMap<string, Decoder> = new Map([
  ['gzip', createGunzip],
  ['x-gzip', createGunzip],
  ['deflate', createInflate],
  ['br', createBrotliDecompress],
]);

const NONE: readonly string[] = [];

/** The codings of an answer, in the order they were applied ('identity' is none). */
function codingsOf(headers: IncomingHttpHeaders): readonly string[] {
  const value = headers['content-encoding'];
  // Most answers name none: nothing made for them, on every exchange (the forwarder and the failure policy both ask).
  if (value === undefined) return NONE;
  const text = Array.isArray(value) ? value.join(',') : value;
  return text.split(',').map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== '' && coding !== 'identity');
}

/** The decoders that undo an answer's codings, last applied first; undefined when one of them is not known. */
export function decodersFor(headers: IncomingHttpHeaders): Decoder[] | undefined {
  const decoders: Decoder[] = [];
  for (const coding of [...codingsOf(headers)].reverse()) {
    const decoder = DECODERS.get(coding);
    if (!decoder) return undefined;
    decoders.push(decoder);
  }
  return decoders;
}

/** The answer's Content-Encoding when llm-replay cannot undo it, else undefined. */
export function unreadableCoding(headers: IncomingHttpHeaders): string | undefined {
  return decodersFor(headers) ? undefined : codingsOf(headers).join(', ');
}
