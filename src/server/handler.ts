// One request, top to bottom: build its context at the edge (keyed on the keying
// thread when its body is large), let a fault or the mode decide its outcome, then
// `conclude` turns the outcome into bookkeeping and the answer.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { routeFor } from '../config/options.js';
import { OFF_THREAD_BYTES } from '../keys/key-thread.js';
import { readMultipartParts, type ClientRequest } from '../request/client-request.js';
import { isMultipart } from '../request/multipart.js';
import { faultOutcome } from './faulted.js';
import { conclude, type Outcome } from './outcome.js';
import { live, record, recordIfMissing } from './record-mode.js';
import { replay } from './replay-mode.js';
import { clientRequestOf, keyedContext, type KeyedContext, type RequestContext } from './request-context.js';

export function createHandler(server: FastifyInstance) {
  return function handle(request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> {
    const startedAt = performance.now();
    const client = clientRequestOf(request);
    if (client.testIdUnread !== undefined) sayTestIdUnread(server, client);
    // Live mode keys nothing, unless a fault may need the key.
    if (server.config.mode === 'live' && !server.faults.armed(client.headers)) return passThrough({ request, reply, client, startedAt });
    if (client.body.kind === 'bytes' && isMultipart(client.body.contentType)) return readMultipartParts(client).then(() => handleKeyed(request, reply, client, startedAt));
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    if (body && body.length >= OFF_THREAD_BYTES) {
      // Keyed on the keying thread, so that other requests go on being answered meanwhile
      // (undefined when there is no keying thread to be had: the key is then computed here).
      const upstreamHost = routeFor(server.config.routes, client.path).upstream.host;
      const raw = { method: request.method, url: request.raw.url ?? '/', headers: request.headers as Record<string, string | string[] | undefined>, body };
      return server.keyThread.key({ scheme: server.config.keyScheme, raw, upstreamHost }).then((key) => handleKeyed(request, reply, client, startedAt, key));
    }
    return handleKeyed(request, reply, client, startedAt);
  };

  function handleKeyed(request: FastifyRequest, reply: FastifyReply, client: ClientRequest, startedAt: number, known?: string): FastifyReply | Promise<FastifyReply> {
    const context = keyedContext(server, request, reply, client, startedAt, known);
    const faulted = server.faults.armed(client.headers) ? faultOutcome(server, context) : undefined;
    // Keyed only for the faults: live mode's bookkeeping stays by path.
    if (!faulted && server.config.mode === 'live') return passThrough({ request, reply, client, startedAt });
    const outcome = faulted ?? decide(context);
    // Most replays are decided without an await, and answered so.
    return outcome instanceof Promise ? outcome.then((settled) => conclude(server, context, settled)) : conclude(server, context, outcome);
  }

  function passThrough(context: RequestContext): Promise<FastifyReply> {
    return live(server, context).then((outcome) => conclude(server, context, outcome));
  }

  function decide(context: KeyedContext): Outcome | Promise<Outcome> {
    switch (server.config.mode) {
      case 'replay':
        return replay(server, context);
      case 'record':
        return record(server, context);
      default:
        return recordIfMissing(server, context);
    }
  }
}

/** A provider-data header that is not JSON leaves its requests without a test id: said at warn once per server, then at debug. */
function sayTestIdUnread(server: FastifyInstance, client: ClientRequest): void {
  const cause = 'test-id-unread';
  const level = server.loggedCauses.has(cause) ? 'debug' : 'warn';
  server.loggedCauses.add(cause);
  server.log[level]({ endpoint: client.path }, `llm-replay: ${client.testIdUnread}: the request has no test id (llama-stack's clients send {"__test_id": "..."} there; x-test-id names one too)`);
}
