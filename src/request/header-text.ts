// Text in a header value. HTTP carries bytes; Node reads each byte of a header value
// as one Latin-1 character, so a client's UTF-8 (`ü` as C3 BC) arrives as `Ã¼`. The
// test id is read back as UTF-8 whenever its bytes are valid UTF-8, and as Latin-1
// otherwise (a client that sent `ü` as the one byte FC, as fetch does).
import { isUtf8 } from 'node:buffer';

/** Characters a header value read from the wire can hold; anything above came from llm-replay itself. */
const ONLY_BYTES = /^[\0-\xff]*$/;
const NOT_ASCII = /[\x80-\xff]/;

/** The text a header value read from the wire carries: its bytes as UTF-8 when they are UTF-8, else as they were read. */
export function headerText(value: string): string {
  if (!NOT_ASCII.test(value) || !ONLY_BYTES.test(value)) return value;
  const bytes = Buffer.from(value, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : value;
}

/** A header value carrying `text` as a UTF-8 client sends it, in the form Node reads it (headerText's inverse). */
export function wireHeaderValue(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}
