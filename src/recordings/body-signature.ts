// A request body summarised in a fixed number of bytes, whatever its size, so the
// nearest recording to a replay miss can be found without holding any body in
// memory: a 32-bit hash per top-level field (which fields differ, exactly), and a
// MinHash of the body's pieces (how alike the rest is). The pieces are the leaves
// (path and value) and, for long strings, pieces of about 80 characters cut where
// the text itself says (content-defined chunking), so an edit to one sentence of a
// long prompt changes a piece or two, not every piece after it. One pass, linear in
// the body.
import { isLosslessNumber } from '../json/lossless.js';

/** How many MinHash slots: the estimate of likeness moves in steps of 1/32. */
export const MINHASH_SIZE = 32;
/** Strings longer than this are also cut into pieces. */
const LONG_STRING = 96;
/** Pieces of long strings: at least this many characters, and about 2^CUT_BITS more on average. */
const MIN_PIECE = 16;
const CUT_BITS = 6;
/** Top-level fields kept one by one; any beyond are folded into the last. */
const MAX_FIELDS = 64;

export interface BodySignature {
  /** The body's top-level field names, sorted ('' for a body that is not an object). Shared between bodies of one shape. */
  fieldNames: readonly string[];
  /**
   * One array, to keep each signature small: a hash of each field's value, in the order
   * of `fieldNames`, then the MinHash, the smallest hash of the body's pieces under each
   * of MINHASH_SIZE hash functions.
   */
  words: Uint32Array;
}

/** Slot `i` of a signature's MinHash. */
export function minhashSlot(signature: BodySignature, i: number): number {
  return signature.words[signature.fieldNames.length + i] as number;
}

// Hashes are kept as signed 32-bit integers throughout (`| 0`), which V8 keeps
// unboxed; a Uint32Array stores them as they are.
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** FNV-1a over UTF-16 code units, continuing from `seed`. */
export function hashString(text: string, seed = FNV_OFFSET): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/** murmur3's finaliser: spreads every input bit over the output. */
export function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b | 0);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35 | 0);
  return (h ^ (h >>> 16)) | 0;
}

export function combine(a: number, b: number): number {
  return mix((Math.imul(a, 31) + b) | 0);
}

const SEEDS = Int32Array.from({ length: MINHASH_SIZE }, (_, i) => mix((0x9e3779b9 + Math.imul(i, 0x7f4a7c15)) | 0));

/** Interned field-name lists: bodies of the same shape share one array. */
const shapes = new Map<string, readonly string[]>();

function internShape(names: string[]): readonly string[] {
  const id = names.join('\u0000');
  let shared = shapes.get(id);
  if (!shared) {
    shared = Object.freeze(names);
    shapes.set(id, shared);
  }
  return shared;
}

class PieceCollector {
  private readonly seen = new Set<number>();

  add(piece: number): void {
    this.seen.add(piece | 0);
  }

  /** Writes the MinHash into `out` from `at`. */
  minhash(out: Int32Array, at: number): void {
    out.fill(0x7fffffff, at, at + MINHASH_SIZE);
    for (const piece of this.seen) {
      for (let i = 0; i < MINHASH_SIZE; i++) {
        const v = mix(piece ^ (SEEDS[i] as number));
        if (v < (out[at + i] as number)) out[at + i] = v;
      }
    }
  }
}

/** A random value per byte, for the rolling (gear) hash that cuts long strings. */
const GEAR = Int32Array.from({ length: 256 }, (_, i) => mix((Math.imul(i + 1, 0x9e3779b1 | 0) + 0x632be5ab) | 0));

/**
 * A long string's hash, with each piece of it added under `place`. A piece ends where
 * the rolling hash of the last 32 characters has its top CUT_BITS bits clear (at least
 * MIN_PIECE characters in): where depends on the text alone, in any language or none.
 */
function hashLongString(text: string, place: number, pieces: PieceCollector): number {
  let full = FNV_OFFSET;
  let piece = FNV_OFFSET;
  let gear = 0;
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    piece = Math.imul(piece ^ c, FNV_PRIME);
    gear = ((gear << 1) + (GEAR[c & 255] as number)) | 0;
    if (++length >= MIN_PIECE && gear >>> (32 - CUT_BITS) === 0) {
      pieces.add(mix(piece ^ place));
      full = combine(full, piece);
      piece = FNV_OFFSET;
      length = 0;
    }
  }
  if (length > 0) {
    pieces.add(mix(piece ^ place));
    full = combine(full, piece);
  }
  return full;
}

/**
 * The hash of a value at a path; every leaf is added as a piece. `place` names where
 * the value sits with array indices left out, so a message inserted before others
 * leaves the pieces of the long texts after it unchanged. Key order does not matter.
 */
function hashValue(value: unknown, path: number, place: number, pieces: PieceCollector): number {
  let h: number;
  if (value === null || typeof value !== 'object' || isLosslessNumber(value)) {
    if (typeof value === 'string') {
      h = value.length > LONG_STRING ? hashLongString(value, place, pieces) : hashString(value, 0x73);
    } else {
      // Numbers as JSON.parse reads them (1 and 1.0 alike), booleans, null.
      const number = isLosslessNumber(value) ? Number(value.value) : value;
      h = hashString(String(number), typeof number === 'number' ? 0x6e : 0x6c);
    }
    pieces.add(combine(path, h));
    return combine(path, h);
  }
  if (Array.isArray(value)) {
    h = combine(path, value.length ^ 0x61000000);
    const inner = combine(place, 0x5b5d);
    for (let i = 0; i < value.length; i++) h = combine(h, hashValue(value[i], combine(path, i), inner, pieces));
    return h;
  }
  // Objects: the sum of the members' hashes, so member order is irrelevant.
  h = combine(path, 0x7b7d);
  for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
    const nameHash = hashString(name);
    h = (h + hashValue(item, combine(path, nameHash), combine(place, nameHash), pieces)) | 0;
  }
  return h;
}

/** The signature of a JSON body (number lexemes count as the numbers they spell: 1 and 1.0 alike). */
export function signBody(body: unknown): BodySignature {
  const pieces = new PieceCollector();
  const root = FNV_OFFSET;
  let names: string[];
  let values: unknown[];
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const entries = Object.entries(body as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    names = entries.map(([name]) => name);
    values = entries.map(([, value]) => value);
  } else {
    names = [''];
    values = [body];
  }
  const fields = Math.min(names.length, MAX_FIELDS);
  const words = new Int32Array(fields + MINHASH_SIZE);
  for (let i = 0; i < values.length; i++) {
    const field = combine(root, hashString(names[i] as string));
    const h = hashValue(values[i], field, field, pieces);
    const slot = Math.min(i, MAX_FIELDS - 1);
    words[slot] = slot === i ? h : combine(words[slot] as number, h);
  }
  if (names.length > MAX_FIELDS) names = [...names.slice(0, MAX_FIELDS - 1), '\u0000more'];
  pieces.minhash(words, fields);
  return { fieldNames: internShape(names), words: new Uint32Array(words.buffer) };
}

/** How many top-level fields differ (present on one side only, or with other values). */
export function differingFields(a: BodySignature, b: BodySignature): number {
  if (a.fieldNames === b.fieldNames) {
    let n = 0;
    for (let i = 0; i < a.fieldNames.length; i++) if (a.words[i] !== b.words[i]) n++;
    return n;
  }
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.fieldNames.length || j < b.fieldNames.length) {
    const x = a.fieldNames[i];
    const y = b.fieldNames[j];
    if (y === undefined || (x !== undefined && x < y)) (n++, i++);
    else if (x === undefined || y < x) (n++, j++);
    else {
      if (a.words[i] !== b.words[j]) n++;
      i++;
      j++;
    }
  }
  return n;
}

/** The share of MinHash slots two signatures agree on: an estimate of how alike the bodies are (0 to 1). */
export function likeness(a: BodySignature, b: BodySignature): number {
  let same = 0;
  const x = a.fieldNames.length;
  const y = b.fieldNames.length;
  for (let i = 0; i < MINHASH_SIZE; i++) if (a.words[x + i] === b.words[y + i]) same++;
  return same / MINHASH_SIZE;
}
