// The user's own normalisation rules (config file "normalize"): body fields to leave
// out of the key, llama-stack's string rules, and regex replacements inside strings,
// optionally per path prefix. The default scheme is exact; these make it looser.
// A request a rule applies to carries the rules' fingerprint in its key, so changing
// the rules is visible as misses rather than silently matching other recordings.
import { createHash } from 'node:crypto';
import Type, { type Static } from 'typebox';
import { ConfigError } from '../errors.js';
import { isJsonObject, jsonObject, mapLeaves, type JsonValue } from '../json/lossless.js';
import { normalizeLlamaStackString } from './llama-stack-strings.js';

const STRING_RULES = ['llama-stack'] as const;
type StringRules = (typeof STRING_RULES)[number];

export const NormalizeRuleSchema = Type.Object(
  {
    /** Only requests whose path starts with this (default: all). */
    path: Type.Optional(Type.String()),
    /** Body fields to leave out, as dotted paths; `*` matches any key or array index. */
    ignore: Type.Optional(Type.Array(Type.String({ minLength: 1, expected: 'a dotted field path' }))),
    /** Built-in string rules for every string of the body: 'llama-stack' (decimals, scores, ids, attributes). */
    strings: Type.Optional(Type.Enum(STRING_RULES)),
    /** Replacements in every string of the body, in order. */
    replace: Type.Optional(Type.Array(Type.Object({ pattern: Type.String(), flags: Type.Optional(Type.String()), with: Type.String() }, { additionalProperties: false }))),
  },
  { additionalProperties: false },
);
type NormalizeRule = Static<typeof NormalizeRuleSchema>;

export interface CompiledRules {
  rules: Array<{ path: string; ignore: string[][]; strings?: StringRules; replace: Array<[RegExp, string]> }>;
  fingerprint: string;
}

/** Rules already checked against NormalizeRuleSchema (config/options.ts), compiled. */
export function compileRules(value: NormalizeRule[] | undefined): CompiledRules | undefined {
  if (value === undefined) return undefined;
  const rules = value.map(({ path = '', ignore = [], strings, replace = [] }, i) => {
    const compiled = replace.map((r, j): [RegExp, string] => {
      try {
        return [new RegExp(r.pattern, `${(r.flags ?? '').replace('g', '')}g`), r.with];
      } catch (error) {
        throw new ConfigError(`normalize[${i}].replace[${j}].pattern`, (error as Error).message);
      }
    });
    return { path, ignore: ignore.map((p) => p.split('.')), ...(strings ? { strings } : {}), replace: compiled };
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
  const kept: Array<[string, JsonValue]> = [];
  for (const [key, item] of Object.entries(value)) {
    if (head === '*' || head === key) {
      if (rest.length > 0) kept.push([key, dropPath(item, rest)]);
    } else {
      kept.push([key, item]);
    }
  }
  return jsonObject(kept);
}

const unchanged = <T>(value: T): T => value;

export function rulesApply(rules: CompiledRules, path: string): boolean {
  return rules.rules.some((rule) => path.startsWith(rule.path));
}

/** The body as the user's rules for this path see it. */
export function applyRules(rules: CompiledRules, path: string, body: JsonValue): JsonValue {
  let out = body;
  for (const rule of rules.rules) {
    if (!path.startsWith(rule.path)) continue;
    for (const segments of rule.ignore) out = dropPath(out, segments);
    if (rule.strings === 'llama-stack') out = mapLeaves(out, normalizeLlamaStackString, unchanged);
    const { replace } = rule;
    if (replace.length > 0) out = mapLeaves(out, (text) => replace.reduce((s, [pattern, replacement]) => s.replace(pattern, replacement), text), unchanged);
  }
  return out;
}
