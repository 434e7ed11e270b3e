// llm-replay.config.json: everything the flags set, for a project to commit once.
// Flags and environment variables win over the file; the file wins over defaults.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { ServerOptions } from './options.js';

export const DEFAULT_CONFIG_FILE = 'llm-replay.config.json';

const FIELDS: Record<string, 'string' | 'number' | 'object' | 'boolean'> = {
  statefulIds: 'boolean',
  stateDir: 'string',
  recordTiming: 'boolean',
  strict: 'boolean',
  usageDir: 'string',
  normalize: 'object',
  mode: 'string',
  recordings: 'string',
  upstream: 'string',
  port: 'number',
  host: 'string',
  keyScheme: 'string',
  layout: 'string',
  upstreamTimeoutMs: 'number',
  bodyLimit: 'number',
  logLevel: 'string',
  routes: 'object',
  pace: 'string',
};

/** Reads and checks a config file; `required` false means a missing file is no error. */
export function readConfigFile(file: string, required: boolean): ServerOptions {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError('config', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('config', `${file} is not valid JSON (${(error as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ConfigError('config', `${file} must hold a JSON object`);
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(data)) {
    if (name === '$schema' || name === '//') continue;
    const type = FIELDS[name];
    if (!type) throw new ConfigError('config', `${file}: unknown field "${name}"; known fields are ${Object.keys(FIELDS).join(', ')}`);
    if (typeof value !== type || value === null) throw new ConfigError('config', `${file}: "${name}" must be a ${type}`);
    options[name] = value;
  }
  return options as ServerOptions;
}
