// Options for the server, from the CLI or from startServer(), validated once here
// with messages that name the option and say what is wrong.
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { KEY_SCHEMES, type KeyScheme } from '../keys/index.js';
import { compileRules, type CompiledRules, type NormalizeRule } from '../keys/rules.js';

export const MODES = ['replay', 'record', 'record-if-missing', 'live'] as const;
export type Mode = (typeof MODES)[number];

export const LAYOUTS = ['flat', 'by-test-file'] as const;
export type Layout = (typeof LAYOUTS)[number];

export interface ServerOptions {
  /** replay (default), record, record-if-missing or live. */
  mode?: Mode;
  /** The recordings directory (default ./recordings). */
  recordings?: string;
  /** Where requests go in record and live modes (default https://api.openai.com). */
  upstream?: string;
  /** 0 picks a free port (the default for startServer). */
  port?: number;
  host?: string;
  keyScheme?: KeyScheme;
  /** Where new recordings go: flat in the directory, or beside the test file as llama-stack does. */
  layout?: Layout;
  /** Give up on an upstream that sends nothing for this long, in ms (default 300000). */
  upstreamTimeoutMs?: number;
  /** The largest request body accepted, in bytes (default 50 MiB). */
  bodyLimit?: number;
  /** Log level for fastify's logger, or false for none (default 'info'; startServer: 'warn'). */
  logLevel?: string | false;
  /** Where log lines go (default stdout). */
  logStream?: NodeJS.WritableStream;
  /** More upstreams by path prefix, e.g. {"/anthropic": "https://api.anthropic.com"}; others go to `upstream`. */
  routes?: Record<string, string>;
  /** Replay streams at once ('fast', the default), at their recorded pace ('recorded'), or N times faster ('10x'). */
  pace?: string;
  /** Replace the upstream's ids with deterministic ones in record modes (default true). */
  statefulIds?: boolean;
  /** Where the upstream's real ids are kept between runs (default: a folder per recordings directory under the OS temp dir). */
  stateDir?: string;
  /** Keep when each stream event arrived (default true); off gives byte-identical re-recordings. */
  recordTiming?: boolean;
  /** Refuse to start when any file in the recordings directory cannot be used (default false: warn). */
  strict?: boolean;
  /** Where the usage file is written on shutdown (default <stateDir>/usage). */
  usageDir?: string;
  /** The user's normalisation rules: body fields to leave out of keys, replacements in strings. */
  normalize?: NormalizeRule[];
}

export interface Route {
  /** '' for the default route. */
  prefix: string;
  upstream: URL;
}

export interface ServerConfig {
  mode: Mode;
  recordingsDir: string;
  upstream: URL;
  port: number;
  host: string;
  keyScheme: KeyScheme;
  layout: Layout;
  upstreamTimeoutMs: number;
  bodyLimit: number;
  logLevel: string | false;
  logStream?: NodeJS.WritableStream;
  /** Longest prefix first; the last is the default route (prefix ''). */
  routes: Route[];
  /** 0: no delays; otherwise how many times faster than recorded (1: as recorded). */
  paceFactor: number;
  statefulIds: boolean;
  stateDir: string;
  recordTiming: boolean;
  strict: boolean;
  usageDir: string;
  rules: CompiledRules | undefined;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(option, `unknown value ${JSON.stringify(value)}; expected one of ${allowed.join(', ')}`);
}

function integer(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(option, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function parseUpstream(option: string, value: string): URL {
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

export function parsePace(option: string, value: unknown): number {
  if (value === undefined || value === 'fast') return 0;
  if (value === 'recorded') return 1;
  const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)x$/.exec(value) : null;
  const factor = match ? Number(match[1]) : NaN;
  if (!(factor > 0)) throw new ConfigError(option, `expected fast, recorded or a speed factor such as 10x, got ${JSON.stringify(value)}`);
  return factor;
}

function parseRoutes(value: unknown, upstream: URL): Route[] {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new ConfigError('routes', 'expected an object of path prefix -> upstream URL');
  }
  const routes: Route[] = [];
  for (const [prefix, target] of Object.entries((value ?? {}) as Record<string, unknown>)) {
    if (!/^\/[^?#\s]*[^/?#\s]$/.test(prefix)) throw new ConfigError(`routes["${prefix}"]`, 'a prefix starts with / and does not end with one');
    if (typeof target !== 'string') throw new ConfigError(`routes["${prefix}"]`, 'expected an upstream URL');
    routes.push({ prefix, upstream: parseUpstream(`routes["${prefix}"]`, target) });
  }
  routes.sort((a, b) => b.prefix.length - a.prefix.length);
  routes.push({ prefix: '', upstream });
  return routes;
}

/** The route for a path: the longest prefix that is the path or a folder of it. */
export function routeFor(routes: Route[], path: string): Route {
  return routes.find((route) => route.prefix === '' || path === route.prefix || path.startsWith(`${route.prefix}/`)) as Route;
}

export function resolveConfig(options: ServerOptions = {}): ServerConfig {
  const known = new Set(['mode', 'recordings', 'upstream', 'port', 'host', 'keyScheme', 'layout', 'upstreamTimeoutMs', 'bodyLimit', 'logLevel', 'logStream', 'routes', 'pace', 'statefulIds', 'stateDir', 'recordTiming', 'strict', 'usageDir', 'normalize']);
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new ConfigError(name, `unknown option; known options are ${[...known].join(', ')}`);
  }
  const logLevel = options.logLevel === false ? false : oneOf('logLevel', options.logLevel, LOG_LEVELS, 'info');
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.trim() === '') throw new ConfigError('host', 'must be a host name or address');
  const recordingsDir = options.recordings ?? './recordings';
  if (typeof recordingsDir !== 'string' || recordingsDir === '') throw new ConfigError('recordings', 'must be a directory path');
  const upstream = parseUpstream('upstream', options.upstream ?? 'https://api.openai.com');
  for (const flag of ['statefulIds', 'recordTiming', 'strict'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw new ConfigError(flag, 'expected true or false');
  }
  for (const dirOption of ['stateDir', 'usageDir'] as const) {
    const value = options[dirOption];
    if (value !== undefined && (typeof value !== 'string' || value === '')) throw new ConfigError(dirOption, 'must be a directory path');
  }
  const stateDir =
    options.stateDir ?? path.join(tmpdir(), 'llm-replay', createHash('sha256').update(path.resolve(recordingsDir)).digest('hex').slice(0, 16));
  return {
    mode: oneOf('mode', options.mode, MODES, 'replay'),
    recordingsDir,
    upstream,
    routes: parseRoutes(options.routes, upstream),
    paceFactor: parsePace('pace', options.pace),
    statefulIds: options.statefulIds ?? true,
    stateDir,
    recordTiming: options.recordTiming ?? true,
    strict: options.strict ?? false,
    usageDir: options.usageDir ?? path.join(stateDir, 'usage'),
    rules: compileRules(options.normalize),
    port: integer('port', options.port, 0, 0, 65535),
    host,
    keyScheme: oneOf('keyScheme', options.keyScheme, KEY_SCHEMES, 'default'),
    layout: oneOf('layout', options.layout, LAYOUTS, 'flat'),
    upstreamTimeoutMs: integer('upstreamTimeoutMs', options.upstreamTimeoutMs, 300_000, 1, 86_400_000),
    bodyLimit: integer('bodyLimit', options.bodyLimit, 50 * 1024 * 1024, 1, 2 ** 31 - 1),
    logLevel,
    ...(options.logStream ? { logStream: options.logStream } : {}),
  };
}
