// Which paths the proxy refuses to pass on, checked before the body is read: any
// spelling of the admin prefix (percent-encoded, doubled or back slashes: an upstream
// would read them as /_llm-replay/...) is the admin plugin's 404, never forwarded or
// recorded; a '.' or '..' segment, plain or encoded, is a 400, since it would let a
// path climb out of the upstream's base path (/v1/../../x).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AnswerError } from '../errors.js';
import { adminNotFound } from './admin.js';
import { ADMIN_PREFIX } from '../request/control-headers.js';

/** The path as an upstream would read it: decoded once, any run of / or \ as one /. */
function normalized(rawPath: string): string | undefined {
  try {
    return decodeURIComponent(rawPath).replace(/[/\\]+/g, '/');
  } catch {
    return undefined;
  }
}

/** What is wrong with a path the client asked to be proxied, if anything. */
function pathRefusal(rawPath: string): 'admin' | 'dot-segment' | 'bad-encoding' | 'not-a-path' | undefined {
  // An absolute URL (a forward proxy's request line) or '*': llm-replay only proxies paths to its upstreams.
  if (!rawPath.startsWith('/')) return 'not-a-path';
  // The usual path has none of these: no decoding at all.
  if (!rawPath.includes('%') && !rawPath.includes('/.') && !rawPath.includes('\\') && !rawPath.includes('//') && !rawPath.startsWith(ADMIN_PREFIX)) return undefined;
  const path = normalized(rawPath);
  if (path === undefined) return 'bad-encoding';
  if (path.startsWith(ADMIN_PREFIX)) return 'admin';
  return path.split('/').some((segment) => segment === '.' || segment === '..') ? 'dot-segment' : undefined;
}

/** A route onRequest hook for the proxy's catch-all route. */
export async function refuseUnsafePaths(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const url = request.raw.url ?? '/';
  const q = url.indexOf('?');
  const refusal = pathRefusal(q < 0 ? url : url.slice(0, q));
  if (refusal === undefined) return undefined;
  if (refusal === 'admin') return adminNotFound(request);
  throw pathRefused(request.method, url, refusal);
}

/** The error a refused path is answered with, naming the path (not its query, which can carry a key). */
export function pathRefused(method: string, url: string, refusal: 'dot-segment' | 'bad-encoding' | 'not-a-path'): AnswerError {
  const why =
    refusal === 'bad-encoding'
      ? 'has a malformed percent-encoding'
      : refusal === 'not-a-path'
        ? 'is not a path: llm-replay forwards paths to its configured upstreams, it is no forward proxy for absolute URLs'
        : "has a '.' or '..' segment, which could leave the upstream's base path";
  const q = url.indexOf('?');
  return new AnswerError('llm_replay_bad_path', `the path of ${method} ${url.slice(0, q < 0 ? url.length : q)} ${why}; it is not forwarded`);
}
