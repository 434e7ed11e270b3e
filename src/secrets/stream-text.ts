// A stream's text is split across its events: "sk-proj-abc" in one delta, "def..." in
// the next. Each run of strings at the same place in the events (choices.0.delta.content,
// delta.text, message.content ...) is read joined, in order, so a secret split at any
// event boundary is found; scrubbing it changes only the strings it spans, so every
// event keeps its place and shape.

type Leaf = { chunk: number; path: string[] };

/** Every string in `chunks`, grouped by where it sits in its event (array indexes included), in stream order. */
function stringRuns(chunks: readonly unknown[]): Map<string, Array<Leaf & { text: string }>> {
  const runs = new Map<string, Array<Leaf & { text: string }>>();
  const walk = (value: unknown, chunk: number, path: string[]) => {
    if (typeof value === 'string') {
      const place = JSON.stringify(path);
      let run = runs.get(place);
      if (!run) runs.set(place, (run = []));
      run.push({ chunk, path, text: value });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, chunk, [...path, String(i)]));
    } else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      // Plain objects only: a number kept exactly (LosslessNumber) is no text.
      for (const [name, item] of Object.entries(value)) walk(item, chunk, [...path, name]);
    }
  };
  chunks.forEach((chunk, i) => walk(chunk, i, []));
  return runs;
}

/** The joined text of each place in a stream's events that holds strings in more than one event. */
export function joinedStreamTexts(chunks: readonly unknown[]): string[] {
  return [...stringRuns(chunks).values()].filter((run) => run.length > 1).map((run) => run.map((leaf) => leaf.text).join(''));
}

/** Where each secret occurs in `text`: [start, end) spans, longest secret first, not overlapping. */
function spansOf(text: string, secrets: readonly string[]): Array<[number, number]> {
  const taken = new Uint8Array(text.length);
  const spans: Array<[number, number]> = [];
  for (const secret of secrets) {
    for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + secret.length)) {
      if (taken.subarray(at, at + secret.length).some((bit) => bit === 1)) continue;
      taken.fill(1, at, at + secret.length);
      spans.push([at, at + secret.length]);
    }
  }
  return spans;
}

function withString(value: unknown, path: readonly string[], text: string): unknown {
  if (path.length === 0) return text;
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(value)) return value.map((item, i) => (String(i) === head ? withString(item, rest, text) : item));
  return { ...(value as Record<string, unknown>), [head]: withString((value as Record<string, unknown>)[head], rest, text) };
}

/**
 * The chunks with every secret in the joined text of each place replaced: the string
 * where it starts holds `replacement`, the rest of it leaves the strings it spanned.
 * The chunks themselves when no secret spans two events.
 */
export function scrubStreamText<T>(chunks: readonly T[], secrets: readonly string[], replacement: string): T[] {
  let out: unknown[] | undefined;
  for (const run of stringRuns(chunks).values()) {
    if (run.length < 2) continue;
    const joined = run.map((leaf) => leaf.text).join('');
    const spans = spansOf(joined, secrets);
    if (spans.length === 0) continue;
    const removed = new Uint8Array(joined.length);
    const starts = new Set<number>();
    for (const [start, end] of spans) {
      removed.fill(1, start, end);
      starts.add(start);
    }
    let offset = 0;
    for (const leaf of run) {
      let text = '';
      for (let i = offset; i < offset + leaf.text.length; i++) {
        if (starts.has(i)) text += replacement;
        if (removed[i] === 0) text += joined[i];
      }
      offset += leaf.text.length;
      if (text === leaf.text) continue;
      out ??= [...chunks];
      out[leaf.chunk] = withString(out[leaf.chunk], leaf.path, text);
    }
  }
  return (out ?? chunks) as T[];
}
