// The differing leaves of two JSON values, by path (body.messages[0].content), for
// miss reports, `llm-replay diff` and the inspector page.

/** The path of a member: `at.name`, or `at["odd name"]`, or `at[3]` for an index. */
export function memberPath(at: string, key: string | number): string {
  return typeof key === 'number' ? `${at}[${key}]` : /^[A-Za-z_]\w*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
}

function flatten(value: unknown, at: string, out: Map<string, string>): void {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(at, '[]');
    value.forEach((item, i) => flatten(item, memberPath(at, i), out));
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) out.set(at, '{}');
    for (const [key, item] of entries) flatten(item, memberPath(at, key), out);
  } else {
    out.set(at, JSON.stringify(value));
  }
}

export interface Difference {
  path: string;
  /** JSON text of each side's value; undefined where that side has none. */
  a: string | undefined;
  b: string | undefined;
}

/** The differing leaves of two bodies. */
export function bodyDifferences(a: unknown, b: unknown): Difference[] {
  const left = new Map<string, string>();
  const right = new Map<string, string>();
  flatten(a, 'body', left);
  flatten(b, 'body', right);
  const out: Difference[] = [];
  for (const at of new Set([...left.keys(), ...right.keys()])) {
    if (left.get(at) !== right.get(at)) out.push({ path: at, a: left.get(at), b: right.get(at) });
  }
  return out;
}

