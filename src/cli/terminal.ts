// Terminal manners: colour only on a TTY (and never with NO_COLOR), progress lines
// only on a TTY, plain text otherwise.
import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

export function colour(stream: NodeJS.WriteStream = process.stdout): (style: Style, text: string) => string {
  const enabled = stream.isTTY === true && !process.env['NO_COLOR'] && process.env['TERM'] !== 'dumb';
  return (style, text) => (enabled ? styleText(style, text) : text);
}

/** A progress reporter that rewrites one stderr line on a TTY, and says nothing elsewhere. */
export function progress(label: string): { update(done: number, total: number): void; done(): void } {
  if (!process.stderr.isTTY) return { update() {}, done() {} };
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      process.stderr.write(`\r${label} ${done}/${total}`);
    },
    done() {
      process.stderr.write('\r\x1b[K');
    },
  };
}

/** Pads a table's columns to the widest cell. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/**
 * What a terminal acts on rather than shows: control characters (an escape sequence can
 * move the cursor or retitle the window), bidirectional controls (U+202E reverses the rest of
 * the line), line and paragraph separators. Other invisible characters (joiners inside emoji,
 * soft hyphens) are left as they are.
 */
const ACTED_ON = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/gu;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** `text` as a table cell: cut to `max` characters as a reader counts them (an emoji is one), then what a terminal acts on shown as its code point ([U+202E]). */
export function printable(text: string, max = Infinity): string {
  let cut = text;
  if (text.length > max) {
    const kept: string[] = [];
    for (const { segment } of graphemes.segment(text)) {
      if (kept.length === max) break;
      kept.push(segment);
    }
    if (kept.join('').length < text.length) cut = `${kept.slice(0, max - 1).join('')}…`;
  }
  return cut.replace(ACTED_ON, (char) => `[U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}
