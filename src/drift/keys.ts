// The user's key for a recording, and where it may go. A recording names the host it
// was made against, and a recordings directory can come from anyone: without -u, a
// dialect's key goes only to that dialect's own API, to a host the config file names
// (`upstream`, `routes`), or to this machine, never to whatever host a file says.
import { DriftCheckError } from '../errors.js';
import type { Recording } from '../recordings/recording.js';
import { KEY_VARIABLES, type Dialect } from '../request/dialect.js';

/** Each dialect's own API: its key may always go there. */
export const OFFICIAL_HOSTS: Record<Dialect, string | undefined> = {
  openai: 'api.openai.com',
  anthropic: 'api.anthropic.com',
  gemini: 'generativelanguage.googleapis.com',
  ollama: undefined,
};

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

export interface KeyedHeaders {
  headers: Record<string, string>;
  /** The environment variable the key came from; undefined when the dialect needs none. */
  variable?: string;
}

/** The headers that carry the user's key for a dialect, from the environment; throws when the key is not set. */
export function authHeaders(dialect: Dialect, env: NodeJS.ProcessEnv, recorded: Recording): KeyedHeaders {
  const names = KEY_VARIABLES[dialect];
  if (names.length === 0) return { headers: {} };
  const variable = names.find((name) => env[name] !== undefined && env[name] !== '');
  if (variable === undefined) throw new DriftCheckError(`no key for ${recorded.request.endpoint}: set ${names.join(' or ')}`);
  const key = env[variable]!;
  if (dialect === 'anthropic') return { variable, headers: { 'x-api-key': key, 'anthropic-version': recorded.response.origin?.version_headers?.['anthropic-version'] ?? '2023-06-01' } };
  if (dialect === 'gemini') return { variable, headers: { 'x-goog-api-key': key } };
  return { variable, headers: { authorization: `Bearer ${key}` } };
}

/**
 * Throws unless the key may go to `target`: anywhere when the user named the upstream
 * (`chosen`), else the dialect's own API, a host the config file names, or loopback.
 */
export function checkKeyHost(dialect: Dialect, target: URL, chosen: boolean, configHosts: readonly string[], file: string): void {
  if (chosen || KEY_VARIABLES[dialect].length === 0) return;
  const host = target.hostname.toLowerCase();
  if (host === OFFICIAL_HOSTS[dialect] || LOOPBACK.test(host) || configHosts.includes(target.host.toLowerCase()) || configHosts.includes(host)) return;
  throw new DriftCheckError(
    `${file}: recorded against ${target.host}, not ${OFFICIAL_HOSTS[dialect]}: your ${KEY_VARIABLES[dialect].join(' or ')} is not sent there unless you name it with -u/--upstream ${target.origin} (or as the config file's upstream or a route)`,
  );
}

/** The hosts a config file's `upstream` and `routes` name, as host and host:port. */
export function configHostsOf(upstream: string | undefined, routes: Record<string, string> | undefined): string[] {
  const hosts: string[] = [];
  for (const text of [upstream, ...Object.values(routes ?? {})]) {
    if (text === undefined) continue;
    try {
      const url = new URL(text);
      hosts.push(url.host.toLowerCase(), url.hostname.toLowerCase());
    } catch {
      // The config file's own check names a bad URL when a server starts with it.
    }
  }
  return hosts;
}
