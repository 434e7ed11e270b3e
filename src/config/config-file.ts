// llm-replay.config.json: everything the flags set, for a project to commit once.
// Flags and environment variables win over the file; the file wins over defaults.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { checkOptions, type ServerOptions } from './options.js';

export const DEFAULT_CONFIG_FILE = 'llm-replay.config.json';

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
  const { $schema: _schema, '//': _comment, ...options } = data as Record<string, unknown>;
  try {
    checkOptions(options);
  } catch (error) {
    throw error instanceof ConfigError ? new ConfigError('config', `${file}: ${error.message}`) : error;
  }
  return options as ServerOptions;
}
