// What is wrong with text that is not JSON, said without quoting the text: JSON.parse
// quotes up to ten characters either side of an unexpected token, and this project's
// parser the character it found, and the text may be a recording that holds a
// credential. What is kept: the parser's own words for what went wrong, and where.
import { parseLosslessJson } from './lossless-parse.js';

/**
 * A message that names a position, with nothing of the text before it: JSON.parse's ("Expected
 * ',' or '}' after property value in JSON at position 35") and this project's parser's ("a
 * digit expected at position 7, found …"). Their words quote only JSON's own punctuation, in
 * single quotes; the text JSON.parse quotes comes in double quotes, so a message with a double
 * quote before the position is not taken for one of these.
 */
const AT_POSITION = /^([^"]*?)(?: in JSON)? at position (\d+)/s;

/** Files past this are not parsed a second time only to find where they stop being JSON (this project's parser takes seconds over megabytes). */
const REPARSED_UP_TO = 1 << 20;

function lineAndColumn(text: string, position: number): string {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < position; at = text.indexOf('\n', at + 1)) {
    line++;
    lineStart = at + 1;
  }
  return `line ${line}, column ${position - lineStart + 1}`;
}

function atPosition(message: string, text: string): string | undefined {
  const at = AT_POSITION.exec(message);
  return at ? `${at[1]!.trim()} at ${lineAndColumn(text, Number(at[2]))}` : undefined;
}

/** What is wrong with `text`, which a JSON parser refused with `error`, and where (line and column), quoting none of it. */
export function parseProblem(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const said = atPosition(message, text);
  if (said !== undefined) return said;
  // JSON.parse says no position for an unexpected token or end: this project's parser finds it, in a file of a reasonable size.
  if (text.length <= REPARSED_UP_TO) {
    try {
      parseLosslessJson(text);
    } catch (again) {
      const found = atPosition(again instanceof Error ? again.message : '', text);
      if (found !== undefined) return found;
    }
  }
  // Neither said where: the words before anything quoted.
  return message.split(/['",]/)[0]!.trim() || 'unreadable';
}
