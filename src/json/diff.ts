// The differing leaves of two JSON values, by path (body.messages[0].content), for
// miss reports, `llm-replay diff` and the inspector page.

/** The path of a member: `at.name`, or `at["odd name"]`, or `at[3]` for an index. */
export function memberPath(at: string, key: string | number): string {
  return typeof key === 'number' ? `${at}[${key}]` : /^[A-Za-z_]\w*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
}

interface Difference {
  path: string;
  /** JSON text of each side's value; undefined where that side has none. */
  a: string | undefined;
  b: string | undefined;
}

/** The differing leaves of two bodies; an empty list or object against a full one, or values of different kinds, differ as a whole. */
export function bodyDifferences(a: unknown, b: unknown): Difference[] {
  const out: Difference[] = [];
  differences(a, b, 'body', out);
  return out;
}

type Kind = 'array' | 'object' | 'leaf' | 'absent';

function kindOf(value: unknown): Kind {
  if (value === undefined) return 'absent';
  if (Array.isArray(value)) return 'array';
  return value !== null && typeof value === 'object' ? 'object' : 'leaf';
}

const isEmpty = (value: unknown, kind: Kind) => (kind === 'array' ? (value as unknown[]).length === 0 : kind === 'object' ? Object.keys(value as object).length === 0 : false);
const text = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));

function differences(a: unknown, b: unknown, at: string, out: Difference[]): void {
  const [ka, kb] = [kindOf(a), kindOf(b)];
  // A member only one side has: its leaves, each against nothing (a new nested field reads field by field).
  const container = (kind: Kind) => kind === 'array' || kind === 'object';
  const oneSided = (ka === 'absent' && container(kb) && !isEmpty(b, kb)) || (kb === 'absent' && container(ka) && !isEmpty(a, ka));
  const sameContainer = ka === kb && container(ka) && isEmpty(a, ka) === isEmpty(b, kb);
  if (!oneSided && !sameContainer) {
    if (text(a) !== text(b)) out.push({ path: at, a: text(a), b: text(b) });
    return;
  }
  if ((ka === 'array' || kb === 'array') && ka !== 'object' && kb !== 'object') {
    const left = (a ?? []) as unknown[];
    const right = (b ?? []) as unknown[];
    for (let i = 0; i < Math.max(left.length, right.length); i++) differences(left[i], right[i], memberPath(at, i), out);
    return;
  }
  const left = (a ?? {}) as Record<string, unknown>;
  const right = (b ?? {}) as Record<string, unknown>;
  for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) differences(Object.hasOwn(left, key) ? left[key] : undefined, Object.hasOwn(right, key) ? right[key] : undefined, memberPath(at, key), out);
}
