// Whether a rule hits one request. Never random: a seeded rate draws a number from
// a hash of (seed, test id, request key, occurrence, rule), so the same requests of
// the same test fail on every run, in every process, whatever else runs beside them.
import { createHash } from 'node:crypto';
import type { FaultWhen } from './spec.js';

export interface Occasion {
  testId: string | null;
  /** The path the client called, and the model its JSON body names. */
  path: string;
  model: string | undefined;
  key: string;
  /** 1 for the first time this test sent this request. */
  occurrence: number;
  /** The rule's place in its list, so two rules with one seed fail independently. */
  rule: number;
}

/** A number in [0, 1), a pure function of its inputs. */
export function draw(seed: string, occasion: Occasion): number {
  const digest = createHash('sha256')
    .update(JSON.stringify([seed, occasion.testId, occasion.key, occasion.occurrence, occasion.rule]))
    .digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

function underPath(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}

export function selects(when: FaultWhen, occasion: Occasion): boolean {
  if (when.model !== undefined && occasion.model !== when.model) return false;
  if (when.path !== undefined && !underPath(occasion.path, when.path)) return false;
  if (when.on && !when.on.some(([from, to]) => occasion.occurrence >= from && occasion.occurrence <= to)) return false;
  if (when.rate !== undefined && draw(when.seed ?? '', occasion) >= when.rate) return false;
  return true;
}
