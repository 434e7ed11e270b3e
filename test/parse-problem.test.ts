// What is said of text that is not JSON: the parser's own words and the line and column,
// nothing of the text; a file past a megabyte is not parsed a second time for the place.
import { expect, it } from 'vitest';
import { parseProblem } from '../src/json/parse-problem.js';

function problemOf(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return parseProblem(error, text);
  }
  throw new Error('parsed');
}

it('names the line and column where the text stops being JSON, counting the lines before it', () => {
  const said = problemOf('{\n  "a": 1,\n  "b": ,\n  "key": "sk-live-SECRET0123456789"\n}');
  expect(said).toMatch(/ at line 3, column 8$/);
  expect(said).not.toContain('sk-live');
});

it('finds the place with its own parser when JSON.parse names none, up to a megabyte; past it, only the words', () => {
  const small = `{"a": x, "key": "sk-live-SECRET0123456789"}`;
  expect(problemOf(small)).toMatch(/at line 1, column 7$/);
  const large = `{"pad": "${'p'.repeat(1 << 20)}", "a": x, "key": "sk-live-SECRET0123456789"}`;
  const said = problemOf(large);
  expect(said).not.toContain('line');
  expect(said).not.toContain('sk-live');
  expect(said).toMatch(/^Unexpected token/);
});
