// Options for the server, from the CLI, a config file or startServer(), checked once
// against the schema (config/schema.ts) with messages that name the option and say
// what is wrong, then resolved into the ServerConfig the server runs with.
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { ConfigError } from '../errors.js';
import { compileRules, type CompiledRules } from '../keys/rules.js';
import { FaultSpecError, parseFaultRules, type FaultRule } from '../faults/spec.js';
import { envVariable, FAULTS_EXPECTED, OPTIONS, optionDefaults, optionEntries, type OptionName, type Options, type OptionSchema } from './schema.js';

export { MODES, type Mode } from './schema.js';
export { LAYOUTS, type Layout } from '../recordings/layout.js';

export type ServerOptions = Omit<Options, 'logLevel'> & {
  /** false: no log at all. */
  logLevel?: Options['logLevel'] | false;
  /** Where log lines go (default stdout). */
  logStream?: NodeJS.WritableStream;
};

export interface Route {
  /** '' for the default route. */
  prefix: string;
  upstream: URL;
  /** The upstream's URL without a trailing slash, made once: the path less the prefix is appended to it. */
  base: string;
}

function routeTo(prefix: string, upstream: URL): Route {
  return { prefix, upstream, base: upstream.href.endsWith('/') ? upstream.href.slice(0, -1) : upstream.href };
}

/** Every option with its default, and what resolving makes of a few. */
export type ServerConfig = Required<Omit<Options, 'recordings' | 'upstream' | 'routes' | 'pace' | 'normalize' | 'stateDir' | 'usageDir' | 'faults'>> & {
  recordingsDir: string;
  upstream: URL;
  /** Longest prefix first; the last is the default route (prefix ''). */
  routes: Route[];
  /** 0: no delays; otherwise how many times faster than recorded (1: as recorded). */
  paceFactor: number;
  stateDir: string;
  usageDir: string;
  rules: CompiledRules | undefined;
  /** Server-wide fault rules (more can be set per test or run through the admin API). */
  faults: FaultRule[];
  logStream?: NodeJS.WritableStream;
};

/** A JSON pointer's keys: `/routes/~1anthropic` -> ['routes', '/anthropic']. */
const keysOf = (pointer: string) => pointer.split('/').slice(1).map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));

/** `/normalize/0/ignore` -> `normalize[0].ignore`; route prefixes as `routes["/x"]`. */
function where(pointer: string): string {
  return keysOf(pointer)
    .map((key, i) => (/^\d+$/.test(key) ? `[${key}]` : !/^[A-Za-z_]\w*$/.test(key) ? `[${JSON.stringify(key)}]` : i === 0 ? key : `.${key}`))
    .join('');
}

function at(root: unknown, pointer: string): unknown {
  return keysOf(pointer).reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);
}

/** What a schema accepts, in words. */
export function expected(schema: OptionSchema): string {
  if (schema.expected) return schema.expected;
  if (schema.enum) return `one of ${schema.enum.join(', ')}`;
  switch (schema.type) {
    case 'integer':
      return `a whole number from ${schema.minimum} to ${schema.maximum}`;
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'an object';
    default:
      return schema.minLength ? 'a non-empty string' : 'a string';
  }
}

/** Throws a ConfigError naming the first thing in `value` the schema refuses. */
export function checkOptions(value: unknown, schema: TSchema = OPTIONS): void {
  const errors = Value.Errors(schema, value).filter((e) => e.keyword !== 'boolean');
  const first = errors[0];
  if (!first) return;
  // A union's branches each complain about the value; the union itself says what the whole accepts.
  const error = errors.filter((e) => e.instancePath === first.instancePath).reduce((outer, e) => (e.schemaPath.length < outer.schemaPath.length ? e : outer));
  const node = at(schema, error.schemaPath.slice(1)) as OptionSchema;
  const place = where(error.instancePath);
  if (error.keyword === 'additionalProperties') {
    const name = (error.params as { additionalProperties: string[] }).additionalProperties[0] as string;
    const known = Object.keys(node.properties ?? {}).join(', ');
    throw place ? new ConfigError(place, `unknown field "${name}"; known fields are ${known}`) : new ConfigError(name, `unknown option; known options are ${known}`);
  }
  if (error.keyword === 'required') {
    throw new ConfigError(place, `missing ${(error.params as { requiredProperties: string[] }).requiredProperties.map((name) => `"${name}"`).join(', ')}`);
  }
  throw new ConfigError(place, `expected ${expected(node)}, got ${JSON.stringify(at(value, error.instancePath))}`);
}

/**
 * The options set by LLM_REPLAY_* environment variables (the schema's, as the CLI reads
 * them), for starting a server outside the CLI (the vitest helper); `except` names
 * options the caller decides itself. A bad value is a ConfigError naming the variable.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv, except: readonly OptionName[] = []): ServerOptions {
  const options: Record<string, unknown> = {};
  for (const [name, schema] of optionEntries()) {
    const variable = envVariable(schema);
    const text = variable ? env[variable] : undefined;
    if (!variable || text === undefined || text === '' || except.includes(name)) continue;
    const value = Value.Convert(schema, text);
    if (!Value.Check(schema, value)) throw new ConfigError(variable, `expected ${expected(schema)}, got ${JSON.stringify(text)}`);
    options[name] = value;
  }
  return options as ServerOptions;
}

function parseUpstream(option: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(option, `not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(option, `must be an http or https URL, got ${JSON.stringify(value)}`);
  }
  if (url.username || url.password) throw new ConfigError(option, 'must not carry credentials; clients send their own');
  if (url.search || url.hash) throw new ConfigError(option, 'must not have a query or fragment');
  return url;
}

/** A pace the schema accepted: 0 for fast, else how many times faster than recorded. */
function parsePace(pace: string): number {
  return pace === 'fast' ? 0 : pace === 'recorded' ? 1 : Number(pace.slice(0, -1));
}

/** A `routes` option checked: its routes, longest prefix first, then the default route to `upstream`. */
export function parseRoutes(value: Record<string, string>, upstream: URL): Route[] {
  const routes: Route[] = [];
  for (const [prefix, target] of Object.entries(value)) {
    if (!/^\/[^?#\s]*[^/?#\s]$/.test(prefix)) throw new ConfigError(`routes["${prefix}"]`, 'a prefix starts with / and does not end with one');
    routes.push(routeTo(prefix, parseUpstream(`routes["${prefix}"]`, target)));
  }
  routes.sort((a, b) => b.prefix.length - a.prefix.length);
  routes.push(routeTo('', upstream));
  return routes;
}

/** Fault rules the schema let through as strings: each must parse. */
function faultRules(value: string | string[] | undefined): FaultRule[] {
  if (value === undefined) return [];
  try {
    return parseFaultRules(value);
  } catch (error) {
    if (error instanceof FaultSpecError) throw new ConfigError('faults', `expected ${FAULTS_EXPECTED}, got ${JSON.stringify(value)} (${error.message})`);
    throw error;
  }
}

/** The route for a path: the longest prefix that is the path or a folder of it. */
export function routeFor(routes: Route[], path: string): Route {
  return routes.find((route) => route.prefix === '' || path === route.prefix || path.startsWith(`${route.prefix}/`)) as Route;
}

/** The state folder of a recordings directory when none is given: one per directory, under the OS temp folder. */
export function defaultStateDir(recordings: string): string {
  return path.join(tmpdir(), 'llm-replay', createHash('sha256').update(path.resolve(recordings)).digest('hex').slice(0, 16));
}

export function resolveConfig(options: ServerOptions = {}): ServerConfig {
  const { logStream, logLevel, ...rest } = options;
  const given = { ...rest, ...(logLevel === false ? { logLevel: 'silent' as const } : logLevel === undefined ? {} : { logLevel }) };
  checkOptions(given);
  const { recordings, upstream, routes = {}, pace, normalize, stateDir, usageDir, faults, ...plain } = { ...optionDefaults(), ...given } as Required<Options>;
  const upstreamUrl = parseUpstream('upstream', upstream);
  const state = stateDir ?? defaultStateDir(recordings);
  return {
    ...plain,
    recordingsDir: recordings,
    upstream: upstreamUrl,
    routes: parseRoutes(routes, upstreamUrl),
    paceFactor: parsePace(pace),
    stateDir: state,
    usageDir: usageDir ?? path.join(state, 'usage'),
    rules: compileRules(normalize),
    faults: faultRules(faults),
    ...(logStream ? { logStream } : {}),
  };
}
