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
import { OFF_THREAD_BYTES } from '../keys/key-thread.js';
import type { PreparedResponse } from '../replay/prepare.js';
import { sendNow, sendPrepared } from '../replay/send.js';
import { errorBody, upstreamErrorBody } from '../wire/error-body.js';
import type { ProxyState, RecordedOccurrence } from './state.js';
import type { Recording } from '../recordings/recording.js';
import { recordingDirFor } from '../recordings/layout.js';
import { toLlamaStackForm } from '../recordings/llama-stack-form.js';
import { isMultipart } from '../request/multipart.js';
import type { IdMapper } from '../proxy/ids.js';
import { answerIfFaulted } from './faulted.js';
import { missLink } from './inspector/links.js';
import { recordingId } from '../recordings/occurrence.js';
import { answeringOccurrence, type Position } from './occurrences.js';

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
function withRealIds(state: ProxyState, exchange: Exchange, key: RequestKey, occurrence: number): Exchange {
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
  // Each occurrence mints its own ids: a second identical request makes new upstream state.
  return { ...exchange, upstreamUrl, ...(upstreamBody ? { upstreamBody } : {}), ids: ids.session(recordingId(key.key, occurrence), forwarded) };
}

async function replayHit(state: ProxyState, reply: FastifyReply, pending: Promise<PreparedResponse>, client: ClientRequest, key: RequestKey, occurrence: number, startedAt: number): Promise<FastifyReply> {
  try {
    const prepared = await pending;
    state.usage.hit(recordingId(key.key, occurrence), key.endpoint);
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
async function replayMiss(state: ProxyState, reply: FastifyReply, client: ClientRequest, key: RequestKey, taken: Position, startedAt: number, note = ''): Promise<FastifyReply> {
  // A copy: describeMiss hands out the same report for the same miss again.
  const report = { ...(await describeMiss(state.catalogue, client, key, { occurrence: taken.occurrence, recorded: state.store.entry(key.key) })) };
  report.message += note;
  const body = client.body.kind === 'json' ? { body: client.body.value, bodyBytes: client.body.bytes.length } : {};
  const entry = state.journal.add({ kind: 'miss', method: client.method, path: client.path, testId: client.testId, key: key.key, startedAt, status: 404, miss: report, ...body });
  report.message += `\nSee it in the inspector: ${missLink(state.url, entry.seq)}`;
  state.usage.miss(report, key.endpoint, client.run);
  state.log.warn({ key: key.key, method: key.method, endpoint: client.path, testId: client.testId }, report.message);
  // 404: the official SDKs retry 408, 409, 429 and 5xx, never a 404.
  return reply.code(404).send(errorBody(report.message, 'llm_replay_miss', 'llm_replay_recording_not_found'));
}

/** Replay: the n-th identical request of a test gets the n-th recorded answer (past the last, the last again). */
function replay(state: ProxyState, reply: FastifyReply, client: ClientRequest, key: RequestKey, taken: Position, startedAt: number): FastifyReply | Promise<FastifyReply> {
  const { config, answers } = state;
  const entry = state.store.entry(key.key);
  const answering = entry ? answeringOccurrence(entry, taken.occurrence) : undefined;
  if (!answering || (answering.repeated && config.strictOccurrences)) return replayMiss(state, reply, client, key, taken, startedAt);
  if (answering.repeated) noteRepeat(state, client, key, taken, answering.occurrence);
  // The common case, answered without a single await: a recording already in memory, sent at once.
  const ready = config.paceFactor === 0 ? answers.ready(key.key, answering.occurrence) : undefined;
  if (ready) {
    state.usage.hit(recordingId(key.key, answering.occurrence), key.endpoint);
    sendNow(reply, ready);
    state.journal.add({ kind: 'hit', method: client.method, path: client.path, testId: client.testId, key: key.key, startedAt, response: reply.raw });
    return reply;
  }
  const hit = answers.lookup(key.key, answering.occurrence);
  return hit ? replayHit(state, reply, hit, client, key, answering.occurrence, startedAt) : replayMiss(state, reply, client, key, taken, startedAt);
}

function noteRepeat(state: ProxyState, client: ClientRequest, key: RequestKey, taken: Position, answered: number): void {
  const repeat = { key: key.key, testId: client.testId, run: client.run, occurrence: taken.occurrence, answered };
  state.usage.repeat(repeat, key.endpoint);
  state.log.warn(
    { ...repeat, endpoint: client.path },
    `llm-replay: ${key.method} ${client.path} was sent ${taken.occurrence} times in this test but recorded ${answered === 1 ? 'once' : `up to occurrence ${answered}`}: answering the last recording again (--strict-occurrences makes this a miss)`,
  );
}

/** Forwards, and writes the recording of this occurrence when the exchange completed. */
async function record(state: ProxyState, request: FastifyRequest, reply: FastifyReply, exchange: Exchange, key: RequestKey, taken: Position): Promise<RecordedOccurrence> {
  const relativeDir = recordingDirFor(state.config.layout, exchange.client.testId);
  const { occurrence } = taken;
  const persist = (recording: Recording) => {
    if (state.config.keyScheme !== 'llama-stack') return state.store.save(key.key, recording, relativeDir, { occurrence });
    const adapted = toLlamaStackForm(recording, key.key, key.modelList);
    return state.store.save(key.key, adapted.recording, relativeDir, adapted.modelListFile ? { fileName: adapted.modelListFile } : { occurrence });
  };
  state.usage.forwarded(key.endpoint);
  const { recordTiming, recordRetryable } = state.config;
  const outcome = await forward(request, reply, withRealIds(state, { ...exchange, recordTiming, recordRetryable }, key, occurrence), persist);
  const { client, startedAt } = exchange;
  const noted = { method: client.method, path: client.path, testId: client.testId, key: key.key, startedAt, response: reply.raw };
  if (outcome.kind !== 'recorded') {
    // Not written: the occurrence is free for the next identical request (the retry).
    taken.giveBack();
    if (outcome.kind !== 'not-recorded') return { written: false, reason: 'passed through' };
    state.log.warn({ key: key.key, occurrence, endpoint: client.path }, `llm-replay: not recorded: ${outcome.reason}`);
    state.journal.add({ ...noted, kind: 'failed', message: `not recorded: ${outcome.reason}` });
    return { written: false, reason: outcome.reason, ...(outcome.answer ? { answer: outcome.answer } : {}) };
  }
  state.usage.record(recordingId(key.key, occurrence), key.endpoint);
  state.journal.add({ ...noted, kind: 'recorded' });
  state.log.info({ key: key.key, occurrence, endpoint: client.path, file: path.relative(state.store.dir, state.store.fileOf(key.key, occurrence) ?? '') }, 'llm-replay: recorded');
  // The sequence is being recorded again from its start: later occurrences of the old one must not follow the new ones.
  if (occurrence === 1 && state.config.mode === 'record') {
    // Since the sequence began: a retry that recorded occurrence 1 late keeps the occurrences recorded meanwhile.
    const removed = await state.store.removeStaleOccurrences(key.key, taken.sequenceStartedAt).catch((error: Error) => {
      state.log.warn({ key: key.key }, `llm-replay: ${error.message}`);
      return [];
    });
    if (removed.length > 0) state.log.info({ key: key.key, files: removed.map((file) => path.relative(state.store.dir, file)) }, `llm-replay: removed ${removed.length} later occurrence(s) of an older recording of this sequence`);
  }
  return { written: true };
}

async function recordIfMissing(state: ProxyState, request: FastifyRequest, reply: FastifyReply, exchange: Exchange, key: RequestKey, taken: Position): Promise<FastifyReply> {
  const id = recordingId(key.key, taken.occurrence);
  const recorded = state.answers.lookup(key.key, taken.occurrence);
  if (recorded) return replayHit(state, reply, recorded, exchange.client, key, taken.occurrence, exchange.startedAt);
  // The same occurrence being recorded for another run: wait for it, then answer from it.
  const leader = state.inflight.get(id);
  if (leader) {
    const led = await leader;
    const hit = state.answers.lookup(key.key, taken.occurrence);
    if (hit) return replayHit(state, reply, hit, exchange.client, key, taken.occurrence, exchange.startedAt);
    taken.giveBack();
    return answerAsLed(state, reply, exchange, key, led);
  }
  const recording = record(state, request, reply, exchange, key, taken);
  state.inflight.set(id, recording);
  try {
    await recording;
  } finally {
    state.inflight.delete(id);
  }
  return reply;
}

/**
 * The request this one waited on was not written: it gets the same answer (a 429 with
 * its retry-after, a 503), or a 502 when there was no whole answer, so its client
 * retries as it would have; the waiters never become one paid upstream call each.
 */
function answerAsLed(state: ProxyState, reply: FastifyReply, exchange: Exchange, key: RequestKey, led: RecordedOccurrence): FastifyReply {
  const { client, startedAt } = exchange;
  const reason = led.written ? 'it was not found after it was written' : led.reason;
  state.journal.add({ kind: 'failed', method: client.method, path: client.path, testId: client.testId, key: key.key, startedAt, response: reply.raw, message: `answered as the identical request it waited on: ${reason}` });
  if (!led.written && led.answer) return reply.code(led.answer.status).headers(led.answer.headers).send(led.answer.body);
  const message = `llm-replay: an identical request (the same occurrence, from another run) was being recorded and was not (${reason}); send it again`;
  return reply.code(502).send(upstreamErrorBody(message));
}

export function createHandler(state: ProxyState) {
  return function handle(request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> {
    const startedAt = performance.now();
    const client = clientRequestOf(request);
    // Live mode keys nothing, unless a fault may need the key.
    if (state.config.mode === 'live' && !state.faults.armed(client.headers)) return live(request, reply, client, startedAt);
    if (client.body.kind === 'bytes' && isMultipart(client.body.contentType)) return readMultipartParts(client).then(() => handleKeyed(request, reply, client, startedAt));
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    if (body && body.length >= OFF_THREAD_BYTES) {
      // Keyed on the keying thread, so that other requests go on being answered meanwhile
      // (undefined when there is no keying thread to be had: handleKeyed then keys here).
      const upstreamHost = routeFor(state.config.routes, client.path).upstream.host;
      const raw = { method: request.method, url: request.raw.url ?? '/', headers: request.headers as Record<string, string | string[] | undefined>, body };
      return state.keyThread.key({ scheme: state.config.keyScheme, raw, upstreamHost }).then((key) => handleKeyed(request, reply, client, startedAt, key));
    }
    return handleKeyed(request, reply, client, startedAt);
  };

  function live(request: FastifyRequest, reply: FastifyReply, client: ClientRequest, startedAt: number): Promise<FastifyReply> {
    state.usage.forwarded(client.path);
    state.journal.add({ kind: 'forwarded', method: client.method, path: client.path, testId: client.testId, startedAt, response: reply.raw });
    return forward(request, reply, { client, upstreamUrl: upstreamUrlFor(state.config, client), startedAt }).then(() => reply);
  }

  function handleKeyed(request: FastifyRequest, reply: FastifyReply, client: ClientRequest, startedAt: number, known?: string): FastifyReply | Promise<FastifyReply> {
    const { config } = state;
    const upstreamHost = routeFor(config.routes, client.path).upstream.host;
    const key = computeKey(config.keyScheme, client, { upstreamHost, ...(config.rules ? { rules: config.rules } : {}) }, known);
    const taken = state.occurrences.take(client.run, client.testId, key.key);
    if (state.faults.armed(client.headers)) {
      const entry = config.mode === 'replay' ? state.store.entry(key.key) : undefined;
      const faulted = answerIfFaulted(state, request, reply, {
        client,
        key,
        // The recording a fault is applied to: the one this occurrence would get.
        occurrence: (entry && answeringOccurrence(entry, taken.occurrence)?.occurrence) ?? taken.occurrence,
        arrival: taken.arrival,
        startedAt,
        exchange: () =>
          config.mode === 'live' ? { client, upstreamUrl: upstreamUrlFor(config, client), startedAt } : withRealIds(state, { client, key, upstreamUrl: upstreamUrlFor(config, client), startedAt }, key, taken.occurrence),
        miss: (note) => replayMiss(state, reply, client, key, taken, startedAt, note),
      });
      if (faulted) {
        // A faulted exchange is not the real one: the retry gets this occurrence.
        taken.giveBack();
        return faulted;
      }
    }
    if (config.mode === 'live') return live(request, reply, client, startedAt);
    if (config.mode === 'replay') return replay(state, reply, client, key, taken, startedAt);
    const exchange: Exchange = { client, key, upstreamUrl: upstreamUrlFor(config, client), startedAt };
    if (config.mode === 'record-if-missing') return recordIfMissing(state, request, reply, exchange, key, taken);
    return record(state, request, reply, exchange, key, taken).then(() => reply);
  }
}
