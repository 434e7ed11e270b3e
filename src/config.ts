// Options for the server, from the CLI or from startServer(), validated once here
// with messages that name the option and say what is wrong.
import { ConfigError } from './errors.js';
import { KEY_SCHEMES, type KeyScheme } from './keys/index.js';

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

export function resolveConfig(options: ServerOptions = {}): ServerConfig {
  const known = new Set(['mode', 'recordings', 'upstream', 'port', 'host', 'keyScheme', 'layout', 'upstreamTimeoutMs', 'bodyLimit', 'logLevel', 'logStream']);
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new ConfigError(name, `unknown option; known options are ${[...known].join(', ')}`);
  }
  const logLevel = options.logLevel === false ? false : oneOf('logLevel', options.logLevel, LOG_LEVELS, 'info');
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.trim() === '') throw new ConfigError('host', 'must be a host name or address');
  const recordingsDir = options.recordings ?? './recordings';
  if (typeof recordingsDir !== 'string' || recordingsDir === '') throw new ConfigError('recordings', 'must be a directory path');
  return {
    mode: oneOf('mode', options.mode, MODES, 'replay'),
    recordingsDir,
    upstream: parseUpstream('upstream', options.upstream ?? 'https://api.openai.com'),
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
