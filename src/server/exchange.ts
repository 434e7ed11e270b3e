// What is forwarded for a request: the route's upstream URL and, in the record modes
// with deterministic ids, the upstream's real ids swapped back in.
import { routeFor, type ServerConfig } from '../config/options.js';
import type { Exchange } from '../proxy/forward.js';
import type { IdMapper } from '../proxy/ids.js';
import { recordingId } from '../recordings/occurrence.js';
import { asksToStore, type ClientRequest } from '../request/client-request.js';
import { onHangUp } from '../wire/hang-up.js';
import type { RequestContext } from './request-context.js';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * URLs parsed lately: a suite calls a few endpoints over and over, and parsing one costs
 * more than the rest of its bookkeeping. Short ones without a query only (a query can
 * carry a key: Gemini's ?key=), so that what is kept is small and names no credential.
 * Shared, so never changed once made.
 */
const parsedUrls = new Map<string, URL>();
const PARSED_URLS_KEPT = 256;
const PARSED_URL_LONGEST = 1024;

/** The route's upstream base, plus the path the client called less the route's prefix. */
function upstreamUrlFor(config: ServerConfig, client: ClientRequest, ids?: IdMapper): Readonly<URL> {
  const route = routeFor(config.routes, client.path);
  const rest = client.path.slice(route.prefix.length) || '/';
  const text = `${route.base}${rest}${client.query ? `?${client.query}` : ''}`;
  const url = ids ? ids.toUpstream(text) : text;
  if (client.query !== '' || url.length > PARSED_URL_LONGEST) return new URL(url);
  let parsed = parsedUrls.get(url);
  if (parsed === undefined) {
    parsed = new URL(url);
    if (parsedUrls.size >= PARSED_URLS_KEPT) parsedUrls.delete(parsedUrls.keys().next().value as string);
    parsedUrls.set(url, parsed);
  }
  return parsed;
}

export type ExchangeServer = Pick<FastifyInstance, 'config' | 'upstreamIds' | 'upstream'>;

/**
 * Aborted when the client hangs up before its answer has been written: in live mode the
 * paid upstream call then ends too (the record modes go on, so that the answer is still recorded).
 */
function hangUpSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  onHangUp(reply.raw, () => controller.abort());
  return controller.signal;
}

/** The exchange to forward: plain in live mode; keyed, with real ids, in the record modes. */
export function exchangeOf(server: ExchangeServer, context: RequestContext): Exchange {
  const { config } = server;
  const { client, key, position, startedAt } = context;
  if (config.mode === 'live' || !key || !position) return { client, dispatcher: server.upstream, upstreamUrl: upstreamUrlFor(config, client), startedAt, signal: hangUpSignal(context.reply) };
  const ids = server.upstreamIds.mapper;
  const upstreamUrl = upstreamUrlFor(config, client, ids);
  const exchange: Exchange = { client, dispatcher: server.upstream, upstreamUrl, startedAt, key, recordTiming: config.recordTiming, recordRetryable: config.recordRetryable, recordAuthErrors: config.recordAuthErrors };
  if (!ids) return exchange;
  let forwarded = upstreamUrl.href;
  if (client.body.kind !== 'none') {
    // latin1 maps bytes to characters one to one, so any body survives the round trip.
    const text = client.body.bytes.toString('latin1');
    const swapped = ids.toUpstream(text);
    if (swapped !== text) exchange.upstreamBody = Buffer.from(swapped, 'latin1');
    forwarded += swapped;
  }
  // Each occurrence mints its own ids: a second identical request makes new upstream state.
  exchange.ids = ids.session(recordingId(key.key, position.occurrence), forwarded, asksToStore(client.body));
  return exchange;
}
