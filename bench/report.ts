// Medians with min-max over the runs, the results table (Markdown) and a bar chart
// (SVG) of each figure as a ratio to its anchor.
import { writeFile } from 'node:fs/promises';

export interface Sample {
  median: number;
  min: number;
  max: number;
  /** Every run's (or round's) value, in the order measured: kept in results.json for a second look. */
  values?: number[];
}

export function summarize(values: number[]): Sample {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: NaN, min: NaN, max: NaN };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, values };
}

export function fmt(sample: Sample, digits = 0): string {
  if (!Number.isFinite(sample.median)) return 'n/a';
  const f = (n: number) => n.toFixed(digits);
  return sample.min === sample.max ? f(sample.median) : `${f(sample.median)} (${f(sample.min)}–${f(sample.max)})`;
}

export interface Bar {
  label: string;
  ratio: number;
  target?: number;
  series: 'llm-replay' | 'talkback' | 'aimock';
}

/** A horizontal bar chart of ratios to the anchors, with each target marked. */
export async function writeChart(file: string, title: string, bars: Bar[]): Promise<void> {
  const rowHeight = 26;
  const left = 400;
  const width = 1000;
  const scale = (width - left - 60) / Math.max(1.2, ...bars.map((b) => (Number.isFinite(b.ratio) ? b.ratio : 0)));
  const height = 60 + bars.length * rowHeight;
  const rows = bars.map((bar, i) => {
    const y = 40 + i * rowHeight;
    const w = Number.isFinite(bar.ratio) ? Math.max(1, bar.ratio * scale) : 0;
    const colour = { 'llm-replay': '#2f6fdf', talkback: '#9a9a9a', aimock: '#e0902f' }[bar.series];
    const target = bar.target === undefined ? '' : `<line x1="${left + bar.target * scale}" x2="${left + bar.target * scale}" y1="${y - 2}" y2="${y + 20}" stroke="#d03030" stroke-width="2"/>`;
    const value = Number.isFinite(bar.ratio) ? `${(bar.ratio * 100).toFixed(bar.ratio < 0.1 ? 1 : 0)}%` : 'n/a';
    return `<text x="${left - 8}" y="${y + 14}" text-anchor="end" font-size="12">${bar.label} (${bar.series})</text><rect x="${left}" y="${y}" width="${w}" height="18" fill="${colour}"/>${target}<text x="${left + w + 6}" y="${y + 14}" font-size="12">${value}</text>`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="15" font-weight="bold">${title}</text>${rows.join('')}<line x1="${left + scale}" x2="${left + scale}" y1="30" y2="${height - 10}" stroke="#444" stroke-dasharray="4 3"/><text x="${left + scale + 4}" y="${height - 12}" font-size="11">anchor = 100%</text></svg>\n`;
  await writeFile(file, svg);
}
