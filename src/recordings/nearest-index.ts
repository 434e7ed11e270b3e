// Finds the recording nearest to a request that has none, in about the time a hit
// takes, whatever the number of recordings: candidates come from small posting
// lists (same test id, same value of a top-level field, same band of the MinHash:
// locality-sensitive hashing), the rarest first, and only a bounded number of them
// are scored. Everything is scoped to one method and endpoint.
import { combine, differingFields, hashString, likeness, MINHASH_SIZE, minhashSlot, type BodySignature } from './body-signature.js';

/** What the index needs to know of a recording. */
export interface Indexed {
  method: string;
  endpoint: string;
  testId: string | null;
  signature: BodySignature;
}

export interface NearestQuery extends Indexed {}

/** Bands of the MinHash: bodies alike in 4 slots of one band share a posting. */
const BANDS = 8;
const ROWS = MINHASH_SIZE / BANDS;
/** At most this many candidates are scored per query. */
const MAX_CANDIDATES = 64;

const GROUP = 0x67;
const TEST_ID = 0x74;

function postingKeys(item: Indexed): number[] {
  const group = hashString(`${item.method} ${item.endpoint}`);
  const keys = [combine(group, GROUP), combine(group, hashString(item.testId ?? '\u0000none', TEST_ID))];
  const { signature } = item;
  const { fieldNames, words } = signature;
  for (let i = 0; i < fieldNames.length; i++) keys.push(combine(combine(group, hashString(fieldNames[i] as string)), words[i] as number));
  for (let band = 0; band < BANDS; band++) {
    let h = combine(group, 0x62000000 + band);
    for (let row = 0; row < ROWS; row++) h = combine(h, minhashSlot(signature, band * ROWS + row));
    keys.push(h);
  }
  return keys;
}

/** Lower is nearer: a whole point per differing field or test id, and a fraction for how unlike the rest is. */
export function distance(a: Indexed, b: Indexed): number {
  return differingFields(a.signature, b.signature) + (a.testId === b.testId ? 0 : 1) + (1 - likeness(a.signature, b.signature));
}

export class NearestIndex<T extends Indexed> {
  /** Most postings hold one item (a prompt's own bands): that item alone, not an array of one. */
  private readonly postings = new Map<number, T | T[]>();

  add(item: T): void {
    for (const key of postingKeys(item)) {
      const found = this.postings.get(key);
      if (found === undefined) this.postings.set(key, item);
      else if (Array.isArray(found)) found.push(item);
      else this.postings.set(key, [found, item]);
    }
  }

  remove(item: T): void {
    for (const key of postingKeys(item)) {
      const found = this.postings.get(key);
      if (found === item) {
        this.postings.delete(key);
        continue;
      }
      const at = Array.isArray(found) ? found.indexOf(item) : -1;
      if (!Array.isArray(found) || at < 0) continue;
      found[at] = found[found.length - 1] as T;
      found.pop();
      if (found.length === 1) this.postings.set(key, found[0] as T);
    }
  }

  /** Whether any item has this method and endpoint (their group's posting: one look-up). */
  holds(method: string, endpoint: string): boolean {
    const found = this.postings.get(combine(hashString(`${method} ${endpoint}`), GROUP));
    const items = found === undefined ? [] : Array.isArray(found) ? found : [found];
    return items.some((item) => item.method === method && item.endpoint === endpoint);
  }

  /** The nearest item with the query's method and endpoint, if any has them. */
  nearest(query: NearestQuery): T | undefined {
    const lists = postingKeys(query)
      .map((key) => this.postings.get(key))
      .filter((found): found is T | T[] => found !== undefined)
      .map((found) => (Array.isArray(found) ? found : [found]))
      .sort((a, b) => a.length - b.length);
    const seen = new Set<T>();
    let best: T | undefined;
    let bestDistance = Infinity;
    for (const list of lists) {
      for (const item of list) {
        if (seen.size >= MAX_CANDIDATES) return best;
        if (seen.has(item)) continue;
        seen.add(item);
        // A posting key shared by chance with another endpoint.
        if (item.method !== query.method || item.endpoint !== query.endpoint) continue;
        const d = distance(item, query);
        if (d < bestDistance) {
          best = item;
          bestDistance = d;
        }
      }
    }
    return best;
  }
}
