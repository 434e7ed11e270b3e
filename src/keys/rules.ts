// The user's own normalisation rules (config file "normalize"): body fields to leave
// out of the key, and regex replacements inside strings, optionally per path prefix.
// A request a rule applies to carries the rules' fingerprint in its key, so changing
// the rules is visible as misses rather than silently matching other recordings.
import { createHash } from 'node:crypto';
import Type, { type Static } from 'typebox';
import { ConfigError } from '../errors.js';
import { isJsonObject, type JsonValue } from '../json/lossless.js';

export const NormalizeRuleSchema = Type.Object(
  {
    /** Only requests whose path starts with this (default: all). */
    path: Type.Optional(Type.String()),
    /** Body fields to leave out, as dotted paths; `*` matches any key or array index. */
    ignore: Type.Optional(Type.Array(Type.String({ minLength: 1, expected: 'a dotted field path' }))),
    /** Replacements in every string of the body, in order. */
    replace: Type.Optional(Type.Array(Type.Object({ pattern: Type.String(), flags: Type.Optional(Type.String()), with: Type.String() }, { additionalProperties: false }))),
  },
  { additionalProperties: false },
);
export type NormalizeRule = Static<typeof NormalizeRuleSchema>;

export interface CompiledRules {
  rules: Array<{ path: string; ignore: string[][]; replace: Array<[RegExp, string]> }>;
  fingerprint: string;
}

/** Rules already checked against NormalizeRuleSchema (config/options.ts), compiled. */
export function compileRules(value: NormalizeRule[] | undefined): CompiledRules | undefined {
  if (value === undefined) return undefined;
  const rules = value.map(({ path = '', ignore = [], replace = [] }, i) => {
    const compiled = replace.map((r, j): [RegExp, string] => {
      try {
        return [new RegExp(r.pattern, `${(r.flags ?? '').replace('g', '')}g`), r.with];
      } catch (error) {
        throw new ConfigError(`normalize[${i}].replace[${j}].pattern`, (error as Error).message);
      }
    });
    return { path, ignore: ignore.map((p) => p.split('.')), replace: compiled };
  });
  const fingerprint = createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
  return { rules, fingerprint };
}

function dropPath(value: JsonValue, segments: string[]): JsonValue {
  const [head, ...rest] = segments;
  if (head === undefined) return value;
  if (Array.isArray(value)) {
    if (head !== '*' && !/^\d+$/.test(head)) return value;
    return value.map((item, i) => (head === '*' || Number(head) === i ? (rest.length === 0 ? undefined : dropPath(item, rest)) : item)).filter((item) => item !== undefined) as JsonValue;
  }
  if (!isJsonObject(value)) return value;
  const out: Record<string, JsonValue> = {};
  for (const [key, item] of Object.entries(value)) {
    if (head === '*' || head === key) {
      if (rest.length > 0) out[key] = dropPath(item, rest);
    } else {
      out[key] = item;
    }
  }
  return out;
}

function replaceStrings(value: JsonValue, replace: Array<[RegExp, string]>): JsonValue {
  if (typeof value === 'string') return replace.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), value);
  if (Array.isArray(value)) return value.map((item) => replaceStrings(item, replace));
  if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replaceStrings(item, replace)]));
  return value;
}

export function rulesApply(rules: CompiledRules, path: string): boolean {
  return rules.rules.some((rule) => path.startsWith(rule.path));
}

/** The body as the user's rules for this path see it. */
export function applyRules(rules: CompiledRules, path: string, body: JsonValue): JsonValue {
  let out = body;
  for (const rule of rules.rules) {
    if (!path.startsWith(rule.path)) continue;
    for (const segments of rule.ignore) out = dropPath(out, segments);
    if (rule.replace.length > 0) out = replaceStrings(out, rule.replace);
  }
  return out;
}
