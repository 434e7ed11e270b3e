// Two JSON values pretty-printed and lined up for a side-by-side diff: lines at the
// same place (the same member path) face each other, a member only one side has
// faces a gap, and a line is marked changed when its two sides differ. Object members
// are sorted by name on both sides (their order never changes a key). Linear in the
// size of the values but for the alignment, O(n log n).
import { memberPath } from './diff.js';

interface AlignedLine {
  left?: string;
  right?: string;
  changed: boolean;
}

interface Line {
  /** Unique within one value: the member path and whether the line opens, closes or holds it. */
  id: string;
  text: string;
}

function render(value: unknown, at: string, label: string, indent: string, comma: string, out: Line[]): void {
  const container = Array.isArray(value) ? '[]' : value !== null && typeof value === 'object' ? '{}' : '';
  const members: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((item, i) => [i, item])
    : container
      ? Object.entries(value as object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      : [];
  if (!container || members.length === 0) {
    out.push({ id: at, text: `${indent}${label}${container || JSON.stringify(value)}${comma}` });
    return;
  }
  out.push({ id: `${at}${container[0]}`, text: `${indent}${label}${container[0]}` });
  members.forEach(([key, item], i) => {
    render(item, memberPath(at, key), typeof key === 'number' ? '' : `${JSON.stringify(key)}: `, `${indent}  `, i < members.length - 1 ? ',' : '', out);
  });
  out.push({ id: `${at}${container[1]}`, text: `${indent}${container[1]}${comma}` });
}

/** Indexes into `b` of the longest run of ids both share in the same order (ids are unique). */
function commonOrder(a: Line[], b: Line[]): Array<[number, number]> {
  const inB = new Map(b.map((line, j) => [line.id, j]));
  const pairs = a.flatMap((line, i): Array<[number, number]> => (inB.has(line.id) ? [[i, inB.get(line.id)!]] : []));
  // Longest increasing subsequence of the b positions (patience sorting).
  const tails: number[] = [];
  const previous: number[] = new Array<number>(pairs.length);
  for (let k = 0; k < pairs.length; k++) {
    const j = pairs[k]![1];
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tails[mid]!]![1] < j) lo = mid + 1;
      else hi = mid;
    }
    previous[k] = lo > 0 ? tails[lo - 1]! : -1;
    tails[lo] = k;
  }
  const out: Array<[number, number]> = [];
  for (let k = tails.length > 0 ? tails[tails.length - 1]! : -1; k >= 0; k = previous[k]!) out.push(pairs[k]!);
  return out.reverse();
}

const bare = (text: string): string => (text.endsWith(',') ? text.slice(0, -1) : text);

/** `a` (left) and `b` (right) as aligned lines of pretty JSON. */
export function sideBySide(a: unknown, b: unknown): AlignedLine[] {
  const left: Line[] = [];
  const right: Line[] = [];
  render(a, 'body', '', '', '', left);
  render(b, 'body', '', '', '', right);
  const out: AlignedLine[] = [];
  let i = 0;
  let j = 0;
  for (const [mi, mj] of [...commonOrder(left, right), [left.length, right.length] as [number, number]]) {
    // Unmatched lines between two matches: paired up where both sides have some (a value replaced by another shape).
    while (i < mi || j < mj) {
      const l = i < mi ? left[i++] : undefined;
      const r = j < mj ? right[j++] : undefined;
      out.push({ ...(l ? { left: l.text } : {}), ...(r ? { right: r.text } : {}), changed: true });
    }
    if (mi === left.length) break;
    const l = left[i++]!;
    const r = right[j++]!;
    out.push({ left: l.text, right: r.text, changed: bare(l.text) !== bare(r.text) });
  }
  return out;
}
