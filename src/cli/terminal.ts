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

/** What a terminal would act on rather than show (controls, bidirectional and other format characters; not the joiner inside emoji). */
const UNSHOWN = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/**
 * `text` as a table cell: what a terminal would act on shown as its code point ([U+202E]
 * would otherwise reverse the rest of the line), and cut to `max` characters.
 */
export function printable(text: string, max = Infinity): string {
  const shown = text.replace(UNSHOWN, (char) => (char === '\u200d' ? char : `[U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`));
  if (shown.length <= max) return shown;
  const chars = [...shown];
  return chars.length <= max ? shown : `${chars.slice(0, max - 1).join('')}…`;
}
