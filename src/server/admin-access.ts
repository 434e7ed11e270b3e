// Who may use the admin endpoints. The rule:
//   - on loopback (127.0.0.1, ::1, localhost) no token is needed, unless one was given;
//   - listening beyond loopback, a token is needed for everything but GET /health: the
//     one given (--admin-token, LLM_REPLAY_ADMIN_TOKEN, or "adminToken" in the config
//     file), or else a random one made at start and printed in the start-up warning.
// A request shows the token as `Authorization: Bearer <token>`, as the
// `x-llm-replay-token` header, or, for a browser opening a page such as the inspector
// (/_llm-replay/ui/), as `?token=<token>` (the logs redact it). The check is an onRequest
// hook of the admin plugin, so every route registered inside it, now or later, is covered.
// Without a token (loopback), a browser is the way in for others: a web page the user
// has open may send requests to 127.0.0.1, or reach it under its own name through DNS
// rebinding. So then a request must name a loopback host (Host) and, when it comes
// from a page (Origin), a page on loopback.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ADMIN_TOKEN_HEADER } from '../request/control-headers.js';
import { AnswerError } from '../errors.js';

export interface AdminAccess {
  /** undefined: no token needed (loopback, none given). */
  token: string | undefined;
  /** Made at start because the server listens beyond loopback and none was given. */
  generated: boolean;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIPv4(bare)) return bare.startsWith('127.');
  if (isIPv6(bare)) return bare === '::1' || /^::ffff:127\./.test(bare) || /^(0{1,4}:){7}0{0,3}1$/.test(bare);
  return false;
}

export function adminAccessFor(host: string, given: string | undefined): AdminAccess {
  if (given !== undefined) return { token: given, generated: false };
  if (isLoopback(host)) return { token: undefined, generated: false };
  return { token: randomBytes(24).toString('base64url'), generated: true };
}

/** What a server listening beyond loopback exposes, and how to protect it; undefined on loopback. */
export function exposureWarning(host: string, access: AdminAccess): string | undefined {
  if (isLoopback(host)) return undefined;
  return [
    `llm-replay: listening on ${host}, beyond loopback: anyone who can reach this port can use the proxy, and with the admin token the admin endpoints under /_llm-replay/:`,
    '  prompts and answers (misses, usage, the inspector page), switching the mode (record overwrites recordings, live makes an open relay), resets and faults.',
    access.generated
      ? `  No admin token was given, so one was made for this run: ${access.token}`
      : '  The admin token given at start is required (GET /_llm-replay/health excepted).',
    `  Send it as "Authorization: Bearer <token>" or "${ADMIN_TOKEN_HEADER}: <token>". To protect the server: listen on 127.0.0.1 (--host),`,
    '  or set your own token (LLM_REPLAY_ADMIN_TOKEN) and keep the port behind a firewall; never point it at a real API key on a shared network.',
  ].join('\n');
}

/** The host part of a Host header or an origin's authority (brackets kept off an IPv6 address). */
function hostnameOf(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(1, authority.indexOf(']'));
  const colon = authority.lastIndexOf(':');
  return colon >= 0 ? authority.slice(0, colon) : authority;
}

/** A host name the server answers: loopback, or one allowed by `allowHosts` ('*' allows any). */
function isAllowedHost(name: string, allowed: ReadonlySet<string>): boolean {
  return isLoopback(name) || allowed.has('*') || allowed.has(name.toLowerCase());
}

/** The names given to `allowHosts` (comma-separated), lower-case. */
function allowedHostsOf(option: string | undefined): ReadonlySet<string> {
  return new Set((option ?? '').split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== ''));
}

/** Why a request without a token may come from elsewhere (a web page, DNS rebinding); undefined when it may not. */
function notFromThisMachine(request: FastifyRequest, allowed: ReadonlySet<string> = new Set()): string | undefined {
  const host = request.headers.host;
  if (host !== undefined && !isAllowedHost(hostnameOf(host), allowed)) return `the Host header names ${JSON.stringify(host)}, not a loopback address`;
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return origin === 'null' ? 'the request comes from a page with an opaque origin' : undefined;
  let from: URL;
  try {
    from = new URL(origin);
  } catch {
    return `the Origin header ${JSON.stringify(origin)} is not a URL`;
  }
  return isAllowedHost(hostnameOf(from.host), allowed) ? undefined : `it comes from a web page at ${origin}`;
}

/**
 * The onRequest hook of the proxied routes on a loopback server: the same check as the
 * admin endpoints' without a token, so a web page can neither read prompts and answers
 * through the proxy nor record through it by DNS rebinding. Beyond loopback the
 * proxied routes are open to whoever reaches the port (the start-up warning says so).
 */
export function requireLocalRequest(listenHost: string, allowHosts: string | undefined) {
  const allowed = allowedHostsOf(allowHosts);
  const guarded = isLoopback(listenHost);
  // Without an Origin the verdict depends on the Host header alone, and a test suite sends
  // one or two: each is judged once (a few kept, so that no client can grow the memo).
  const byHost = new Map<string, string | undefined>();
  const judge = (request: FastifyRequest): string | undefined => {
    const { host, origin } = request.headers;
    if (origin !== undefined || host === undefined) return notFromThisMachine(request, allowed);
    if (byHost.has(host)) return byHost.get(host);
    const verdict = notFromThisMachine(request, allowed);
    if (byHost.size < 16) byHost.set(host, verdict);
    return verdict;
  };
  // Callback style: on every proxied request, so no promise is made for a check that is synchronous.
  return function checkLocalRequest(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const refused = guarded ? judge(request) : undefined;
    if (!refused) return done();
    done(new AnswerError('llm_replay_host_forbidden', `a server listening on loopback answers only requests made on this machine, and ${refused}; to reach it under another name (a container name, a forwarded port), start it with --allow-hosts <names>`));
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The token a request shows, from whichever place it used. */
function presented(request: FastifyRequest): string | undefined {
  const header = request.headers[ADMIN_TOKEN_HEADER];
  if (typeof header === 'string') return header;
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && /^bearer /i.test(authorization)) return authorization.slice(7).trim();
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.['token'] === 'string' ? query['token'] : undefined;
}

/**
 * The onRequest hook: refuses, with 401, any admin request without the token, when one
 * is needed. Open to all: GET `${prefix}/health`, and the inspector page's own files
 * under `${prefix}/ui` (markup, script and style, no data: a browser loads them without
 * the token; the page sends it with every call to its API).
 */
export function requireAdminToken(access: AdminAccess, prefix: string) {
  const expected = access.token === undefined ? undefined : digest(access.token);
  const health = `${prefix}/health`;
  const page = `${prefix}/ui`;
  return async function checkAdminToken(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (!expected) {
      const refused = notFromThisMachine(request);
      if (!refused) return undefined;
      throw new AnswerError('llm_replay_admin_forbidden', `without an admin token the admin endpoints answer only requests made on this machine, and ${refused}; reaching the server through another name (a forwarded port, a proxy), start it with --admin-token`);
    }
    const route = request.routeOptions.url ?? '';
    if (request.method === 'GET' && (route === health || route === page || route.startsWith(`${page}/`))) return undefined;
    const token = presented(request);
    // Compared as digests: equal lengths, and in constant time.
    if (token !== undefined && timingSafeEqual(digest(token), expected)) return undefined;
    reply.header('www-authenticate', 'Bearer realm="llm-replay"');
    throw new AnswerError('llm_replay_admin_token_required', `the admin endpoints need the admin token: send "Authorization: Bearer <token>" or "${ADMIN_TOKEN_HEADER}: <token>"${token === undefined ? '' : ' (the one sent is not it)'}`);
  };
}
