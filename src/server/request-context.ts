// One request as one value, built once at the edge: the client's request, and in the
// keyed modes its key and position (occurrence and arrival, per run and test).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { routeFor } from '../config/options.js';
import { computeKey, type RequestKey } from '../keys/index.js';
import { clientRequest, type ClientRequest } from '../request/client-request.js';
import type { Position } from './occurrences.js';
import type { FastifyInstance } from 'fastify';

export interface RequestContext {
  request: FastifyRequest;
  reply: FastifyReply;
  /** What the client sent; carries its run scope and test id. */
  client: ClientRequest;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** Absent in live mode unless a fault may need it. */
  key?: RequestKey;
  /** Which of this test's identical requests this is: its occurrence and arrival. */
  position?: Position;
}

export type KeyedContext = RequestContext & { key: RequestKey; position: Position };

export function clientRequestOf(request: FastifyRequest): ClientRequest {
  return clientRequest(request.method, request.raw.url ?? '/', request.headers, Buffer.isBuffer(request.body) ? request.body : undefined);
}

/** Keys the request (`known`: the key the keying thread computed) and takes its position in the test's sequence. */
export function keyedContext(server: Pick<FastifyInstance, 'config' | 'occurrences'>, request: FastifyRequest, reply: FastifyReply, client: ClientRequest, startedAt: number, known?: string): KeyedContext {
  const { config } = server;
  const upstreamHost = routeFor(config.routes, client.path).upstream.host;
  const key = computeKey(config.keyScheme, client, { upstreamHost, ...(config.rules ? { rules: config.rules } : {}) }, known);
  const position = server.occurrences.take(client.run, client.testId, key.key);
  return { request, reply, client, startedAt, key, position };
}
