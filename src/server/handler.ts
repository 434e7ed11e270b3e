// One request, top to bottom: build the client request at the edge, key it, then
// replay, forward-and-record, or pass through, as the mode says.
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { routeFor, type ServerConfig } from '../config/options.js';
import { describeMiss } from '../replay/miss-report.js';
import { RecordingFileError } from '../errors.js';
import { clientRequest, readMultipartParts, type ClientRequest } from '../request/client-request.js';
import { forward, type Exchange } from '../proxy/forward.js';
import { computeKey, type RequestKey } from '../keys/index.js';
import type { PreparedResponse } from '../replay/prepare.js';
import { sendNow, sendPrepared } from '../replay/send.js';
import { errorBody } from '../wire/error-body.js';
import type { ProxyState } from './state.js';
import type { Recording } from '../recordings/recording.js';
import { recordingDirFor } from '../recordings/layout.js';
import { toLlamaStackForm } from '../recordings/llama-stack-form.js';
import { isMultipart } from '../request/multipart.js';
import type { IdMapper } from '../proxy/ids.js';
import { answerIfFaulted } from './faulted.js';
import { missLink } from './inspector/links.js';

export function clientRequestOf(request: FastifyRequest): ClientRequest {
  return clientRequest(request.method, request.raw.url ?? '/', request.headers, Buffer.isBuffer(request.body) ? request.body : undefined);
}

/** The route's upstream base, plus the path the client called less the route's prefix. */
function upstreamUrlFor(config: ServerConfig, client: ClientRequest, ids?: IdMapper): URL {
  const route = routeFor(config.routes, client.path);
  const base = route.upstream.href.replace(/\/$/, '');
  const rest = client.path.slice(route.prefix.length) || '/';
  const url = `${base}${rest}${client.query ? `?${client.query}` : ''}`;
  return new URL(ids ? ids.toUpstream(url) : url);
}

/** Record modes: the deterministic ids the client sent become the upstream's real ones again. */
function withRealIds(state: ProxyState, exchange: Exchange, key: RequestKey): Exchange {
  const { ids } = state;
  if (!ids) return exchange;
  const { client } = exchange;
  const upstreamUrl = upstreamUrlFor(state.config, client, ids);
  let upstreamBody: Buffer | undefined;
  let forwarded = upstreamUrl.href;
  if (client.body.kind !== 'none') {
    // latin1 maps bytes to characters one to one, so any body survives the round trip.
    const text = ids.toUpstream(client.body.bytes.toString('latin1'));
    upstreamBody = Buffer.from(text, 'latin1');
    forwarded += text;
  }
  return { ...exchange, upstreamUrl, ...(upstreamBody ? { upstreamBody } : {}), ids: ids.session(key.key, forwarded) };
}

async function replayHit(state: ProxyState, reply: FastifyReply, pending: Promise<PreparedResponse>, client: ClientRequest, key: RequestKey, startedAt: number): Promise<FastifyReply> {
  try {
    const prepared = await pending;
    state.usage.hit(key.key, key.endpoint);
    state.journal.add({ kind: 'hit', method: client.method, path: client.path, testId: client.testId, key: key.key, startedAt, response: reply.raw });
    return await sendPrepared(reply, prepared, state.config.paceFactor, startedAt);
  } catch (error) {
    const message = error instanceof RecordingFileError ? `llm-replay: recording ${error.message}` : `llm-replay: ${(error as Error).message}`;
    state.log.error({ key: key.key }, message);
    state.journal.add({ kind: 'failed', method: client.method, path: client.path, testId: client.testId, key: key.key, startedAt, status: 500, message });
    return reply.code(500).send(errorBody(message, 'llm_replay_error', 'llm_replay_bad_recording'));
  }
}

/** A miss; `note` adds to the diagnostic (a faulted request says how to record it). */
async function replayMiss(state: ProxyState, reply: FastifyReply, client: ClientRequest, key: RequestKey, startedAt: number, note = ''): Promise<FastifyReply> {
  // A copy: describeMiss hands out the same report for the same miss again.
  const report = { ...(await describeMiss(state.catalogue, client, key)) };
  report.message += note;
  const body = client.body.kind === 'json' ? { body: client.body.value, bodyBytes: client.body.bytes.length } : {};
  const entry = state.journal.add({ kind: 'miss', method: client.method, path: client.path, testId: client.testId, key: key.key, startedAt, status: 404, miss: report, ...body });
  report.message += `\nSee it in the inspector: ${missLink(state.url, entry.seq)}`;
  state.usage.miss(report, key.endpoint);
  state.log.warn({ key: key.key, method: key.method, endpoint: client.path, testId: client.testId }, report.message);
  // 404: the official SDKs retry 408, 409, 429 and 5xx, never a 404.
  return reply.code(404).send(errorBody(report.message, 'llm_replay_miss', 'llm_replay_recording_not_found'));
}

/** Forwards, and writes the recording when the exchange completed. Resolves true when written. */
async function record(state: ProxyState, request: FastifyRequest, reply: FastifyReply, exchange: Exchange, key: RequestKey): Promise<boolean> {
  const relativeDir = recordingDirFor(state.config.layout, exchange.client.testId);
  let fileName = `${key.key}.json`;
  const persist = (recording: Recording) => {
    if (state.config.keyScheme !== 'llama-stack') return state.store.save(key.key, recording, relativeDir);
    const adapted = toLlamaStackForm(recording, key.key, key.modelList);
    fileName = adapted.fileName;
    return state.store.save(key.key, adapted.recording, relativeDir, fileName);
  };
  state.usage.forwarded(key.endpoint);
  const outcome = await forward(request, reply, withRealIds(state, { ...exchange, recordTiming: state.config.recordTiming }, key), persist);
  const { client, startedAt } = exchange;
  const noted = { method: client.method, path: client.path, testId: client.testId, key: key.key, startedAt, response: reply.raw };
  if (outcome.kind !== 'recorded') {
    if (outcome.kind === 'not-recorded') {
      state.log.warn({ key: key.key, endpoint: client.path }, `llm-replay: not recorded: ${outcome.reason}`);
      state.journal.add({ ...noted, kind: 'failed', message: `not recorded: ${outcome.reason}` });
    }
    return false;
  }
  state.usage.record(key.key, key.endpoint);
  state.journal.add({ ...noted, kind: 'recorded' });
  state.log.info({ key: key.key, endpoint: exchange.client.path, file: path.join(relativeDir, fileName) }, 'llm-replay: recorded');
  return true;
}

async function recordIfMissing(state: ProxyState, request: FastifyRequest, reply: FastifyReply, exchange: Exchange, key: RequestKey): Promise<FastifyReply> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const hit = state.answers.lookup(key.key);
    if (hit) return replayHit(state, reply, hit, exchange.client, key, exchange.startedAt);
    const leader = state.inflight.get(key.key);
    if (!leader) break;
    // Identical request in flight: wait for its recording, then answer from it.
    await leader;
  }
  const recording = record(state, request, reply, exchange, key);
  state.inflight.set(key.key, recording);
  try {
    await recording;
  } finally {
    state.inflight.delete(key.key);
  }
  return reply;
}

export function createHandler(state: ProxyState) {
  return function handle(request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> {
    const startedAt = performance.now();
    const client = clientRequestOf(request);
    // Live mode keys nothing, unless a fault may need the key.
    if (state.config.mode === 'live' && !state.faults.armed(client.headers)) return live(request, reply, client, startedAt);
    if (client.body.kind === 'bytes' && isMultipart(client.body.contentType)) return readMultipartParts(client).then(() => handleKeyed(request, reply, client, startedAt));
    return handleKeyed(request, reply, client, startedAt);
  };

  function live(request: FastifyRequest, reply: FastifyReply, client: ClientRequest, startedAt: number): Promise<FastifyReply> {
    state.usage.forwarded(client.path);
    state.journal.add({ kind: 'forwarded', method: client.method, path: client.path, testId: client.testId, startedAt, response: reply.raw });
    return forward(request, reply, { client, upstreamUrl: upstreamUrlFor(state.config, client), startedAt }).then(() => reply);
  }

  function handleKeyed(request: FastifyRequest, reply: FastifyReply, client: ClientRequest, startedAt: number): FastifyReply | Promise<FastifyReply> {
    const { config, answers } = state;
    const upstreamHost = routeFor(config.routes, client.path).upstream.host;
    const key = computeKey(config.keyScheme, client, { upstreamHost, ...(config.rules ? { rules: config.rules } : {}) });
    if (state.faults.armed(client.headers)) {
      const faulted = answerIfFaulted(state, request, reply, {
        client,
        key,
        startedAt,
        exchange: () => (config.mode === 'live' ? { client, upstreamUrl: upstreamUrlFor(config, client), startedAt } : withRealIds(state, { client, key, upstreamUrl: upstreamUrlFor(config, client), startedAt }, key)),
        miss: (note) => replayMiss(state, reply, client, key, startedAt, note),
      });
      if (faulted) return faulted;
    }
    if (config.mode === 'live') return live(request, reply, client, startedAt);
    if (config.mode === 'replay') {
      // The common case, answered without a single await: a recording already in memory, sent at once.
      const ready = config.paceFactor === 0 ? answers.ready(key.key) : undefined;
      if (ready) {
        state.usage.hit(key.key, key.endpoint);
        sendNow(reply, ready);
        state.journal.add({ kind: 'hit', method: client.method, path: client.path, testId: client.testId, key: key.key, startedAt, response: reply.raw });
        return reply;
      }
      const hit = answers.lookup(key.key);
      return hit ? replayHit(state, reply, hit, client, key, startedAt) : replayMiss(state, reply, client, key, startedAt);
    }
    const exchange: Exchange = { client, key, upstreamUrl: upstreamUrlFor(config, client), startedAt };
    if (config.mode === 'record-if-missing') return recordIfMissing(state, request, reply, exchange, key);
    return record(state, request, reply, exchange, key).then(() => reply);
  }
}
