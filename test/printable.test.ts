// A table cell from what a recording file says: a terminal must show it, never act on it,
// and a long one is cut where a reader would count, not inside an emoji.
import { expect, it } from 'vitest';
import { printable } from '../src/cli/terminal.js';

it('shows what a terminal would act on as its code point, and leaves other text as it is', () => {
  expect(printable('\u202eevil.py::t')).toBe('[U+202E]evil.py::t');
  expect(printable('a\tb\x1b[31mc\nd')).toBe('a[U+0009]b[U+001B][31mc[U+000A]d');
  // Joiners inside emoji, a subdivision flag's tags, a soft hyphen: shown by the terminal as text.
  for (const text of ['👩‍💻 test', '🏴󠁧󠁢󠁳󠁣󠁴󠁿 ok', 'soft\u00adhyphen']) expect(printable(text)).toBe(text);
});

it('cuts a long cell to its first characters as a reader counts them, never inside an emoji or an escape', () => {
  expect(printable('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
  expect(printable('a👨‍👩‍👧‍👦b', 3)).toBe('a👨‍👩‍👧‍👦b');
  expect(printable('a👨‍👩‍👧‍👦bcd', 3)).toBe('a👨‍👩‍👧‍👦…');
  expect(printable(`\u202e${'x'.repeat(20)}`, 5)).toBe('[U+202E]xxx…');
});
