// A request a fault was chosen for, in any mode. A faulted exchange is never
// recorded: an HTTP error or a reset is answered without the upstream or the
// recording; any other fault is applied to what the mode would answer (the
// recording, or the upstream's answer passed through unrecorded).
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { answerSignal, delay, eventsOf, writeFaulted, type AnswerToFault } from '../faults/apply.js';
import { dialectOf, errorAnswer } from '../faults/dialects.js';
import type { ChosenFault } from '../faults/registry.js';
import { FaultSpecError } from '../faults/spec.js';
import { forward, type Exchange } from '../proxy/forward.js';
import { streamFormatOf } from '../proxy/capture.js';
import type { RequestKey } from '../keys/index.js';
import { recordingId } from '../recordings/occurrence.js';
import type { ClientRequest } from '../request/client-request.js';
import { FAULT_HEADER, RUN_HEADER } from '../request/control-headers.js';
import type { PreparedResponse } from '../replay/prepare.js';
import { answerEvents } from '../replay/send.js';
import { errorBody } from '../wire/error-body.js';
import type { ProxyState } from './state.js';

export interface FaultedRequest {
  client: ClientRequest;
  key: RequestKey;
  /** The occurrence whose recording a fault is applied to. */
  occurrence: number;
  /** The how-manieth time the test sent this request: what a rule's on= counts. */
  arrival: number;
  startedAt: number;
  /** What to forward in record and live modes. */
  exchange: () => Exchange;
  /** The usual answer to a replay miss, with a note added to its diagnostic. */
  miss: (note: string) => Promise<FastifyReply>;
}

/**
 * Answers the request when a fault hits it (or its fault header is malformed);
 * undefined when no fault applies and the usual path goes on.
 */
export function answerIfFaulted(state: ProxyState, request: FastifyRequest, reply: FastifyReply, faulted: FaultedRequest): Promise<FastifyReply> | FastifyReply | undefined {
  const { client, key } = faulted;
  let chosen: ChosenFault | undefined;
  try {
    chosen = state.faults.choose(client, key.key, faulted.arrival);
  } catch (error) {
    if (!(error instanceof FaultSpecError)) throw error;
    const message = `llm-replay: the ${FAULT_HEADER} header is not valid: ${error.message}`;
    return reply.code(400).send(errorBody(message, 'invalid_request_error', 'llm_replay_bad_fault', FAULT_HEADER));
  }
  return chosen ? answerWithFault(state, request, reply, faulted, chosen) : undefined;
}

function noteInjection(state: ProxyState, faulted: FaultedRequest, chosen: ChosenFault): void {
  const { client, key } = faulted;
  const run = client.headers[RUN_HEADER];
  state.faults.record({
    at: new Date().toISOString(),
    test_id: client.testId,
    run: (Array.isArray(run) ? run[0] : run) ?? null,
    method: client.method,
    endpoint: client.path,
    key: key.key,
    occurrence: chosen.occurrence,
    fault: chosen.rule.text,
    source: chosen.source,
  });
  state.usage.fault(key.endpoint);
  state.log.info({ key: key.key, endpoint: client.path, testId: client.testId, occurrence: chosen.occurrence, injectedFault: chosen.rule.text, source: chosen.source }, `llm-replay: injected fault ${chosen.rule.text}`);
}

async function answerWithFault(state: ProxyState, request: FastifyRequest, reply: FastifyReply, faulted: FaultedRequest, chosen: ChosenFault): Promise<FastifyReply> {
  const { fault } = chosen.rule;
  const { config, answers } = state;
  const signal = answerSignal(reply.raw, state.faults.closed);
  const replays = config.mode === 'replay' || config.mode === 'record-if-missing';
  const recorded = fault.reset || fault.status !== undefined || !replays ? undefined : answers.lookup(faulted.key.key, faulted.occurrence);
  if (config.mode === 'replay' && !recorded && !fault.reset && fault.status === undefined) {
    return faulted.miss(`\nThe fault ${chosen.rule.text} is applied to a recorded answer, and a faulted exchange is never recorded: record this request once without the fault.`);
  }
  noteInjection(state, faulted, chosen);
  const { client } = faulted;
  state.journal.add({ kind: 'fault', method: client.method, path: client.path, testId: client.testId, key: faulted.key.key, startedAt: faulted.startedAt, response: reply.raw, message: `injected fault ${chosen.rule.text} (${chosen.source})` });
  if (fault.latencyMs && !(await delay(fault.latencyMs, signal))) {
    reply.hijack();
    reply.raw.destroy();
    return reply;
  }
  if (fault.reset) {
    reply.hijack();
    request.raw.socket.destroy();
    return reply;
  }
  if (fault.status !== undefined) {
    const answer = errorAnswer(dialectOf(faulted.client.path), { status: fault.status, retryAfterS: fault.retryAfterS, seed: `${faulted.key.key}:${chosen.occurrence}` });
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  }
  if (recorded) {
    const prepared = await recorded;
    state.usage.hit(recordingId(faulted.key.key, faulted.occurrence), faulted.key.endpoint);
    reply.hijack();
    await writeFaulted(reply.raw, replayed(prepared, config.paceFactor, faulted.startedAt), fault, signal);
    return reply;
  }
  // Forwarded, passed through with the fault, never recorded.
  state.usage.forwarded(faulted.key.endpoint);
  const deliver = (source: Readable, contentType: string | undefined) => {
    const format = streamFormatOf(contentType);
    reply.hijack();
    const answer: AnswerToFault = { status: reply.statusCode, headers: reply.getHeaders() as AnswerToFault['headers'], events: eventsOf(source, format), format };
    void writeFaulted(reply.raw, answer, fault, signal).finally(() => source.destroy());
  };
  await forward(request, reply, { ...faulted.exchange(), deliver });
  return reply;
}

function replayed(prepared: PreparedResponse, paceFactor: number, startedAt: number): AnswerToFault {
  return { status: prepared.status, headers: prepared.headers, events: answerEvents(prepared, paceFactor, startedAt), format: streamFormatOf(prepared.headers['content-type']) };
}
