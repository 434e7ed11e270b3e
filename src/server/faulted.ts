// A request a fault was chosen for, in any mode. A faulted exchange is never
// recorded: an HTTP error or a reset is answered without the upstream or the
// recording; any other fault is applied to what the mode would answer (the
// recording, or the upstream's answer passed through unrecorded).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AnswerError } from '../errors.js';
import { answerSignal, delay, eventsOf, writeFaulted, type AnswerToFault } from '../faults/apply.js';
import { errorAnswer } from '../faults/dialects.js';
import { dialectOf } from '../request/dialect.js';
import type { ChosenFault } from '../faults/registry.js';
import { FaultSpecError } from '../faults/spec.js';
import { forward } from '../proxy/forward.js';
import { streamFormatOf } from '../proxy/capture.js';
import { FAULT_HEADER } from '../request/control-headers.js';
import type { PreparedResponse } from '../replay/prepare.js';
import { answerEvents } from '../replay/send.js';
import { sendOwnError } from './error-handler.js';
import { exchangeOf, type ExchangeServer } from './exchange.js';
import { answeringOccurrence } from './occurrences.js';
import type { Outcome } from './outcome.js';
import { miss, type ReplayServer } from './replay-mode.js';
import type { KeyedContext } from './request-context.js';

export type FaultServer = ReplayServer & ExchangeServer & Pick<FastifyInstance, 'faults'>;

/**
 * The fault outcome when a fault hits the request (or a miss, when it is to be applied
 * to a recording there is not); undefined when no fault applies and the mode answers.
 * Throws on a malformed fault header.
 */
export function faultOutcome(server: FaultServer, context: KeyedContext): Outcome | Promise<Outcome> | undefined {
  const { client, key, position } = context;
  const { config } = server;
  let chosen: ChosenFault | undefined;
  try {
    chosen = server.faults.choose(client, key.key, position.arrival);
  } catch (error) {
    if (!(error instanceof FaultSpecError)) throw error;
    position.giveBack();
    throw new AnswerError('llm_replay_bad_fault', `the ${FAULT_HEADER} header is not valid: ${error.message}`, FAULT_HEADER);
  }
  if (!chosen) return undefined;
  // A faulted exchange is not the real one: the retry gets this occurrence.
  position.giveBack();
  const { fault } = chosen.rule;
  const entry = config.mode === 'replay' ? server.store.entry(key.key) : undefined;
  // The recording a fault is applied to: the one this occurrence would get.
  const occurrence = (entry && answeringOccurrence(entry, position.occurrence)?.occurrence) ?? position.occurrence;
  const replays = config.mode === 'replay' || config.mode === 'record-if-missing';
  const recorded = fault.reset || fault.status !== undefined || !replays ? undefined : server.answers.lookup(key.key, occurrence);
  if (config.mode === 'replay' && !recorded && !fault.reset && fault.status === undefined) {
    return miss(server, context, `\nThe fault ${chosen.rule.text} is applied to a recorded answer, and a faulted exchange is never recorded: record this request once without the fault.`);
  }
  return { kind: 'fault', chosen, occurrence, recorded };
}

/** Answers with the fault: after its latency, a reset, an error status, or the answer (recorded or forwarded) broken as it says. */
export async function applyFault(server: FaultServer, context: KeyedContext, outcome: Extract<Outcome, { kind: 'fault' }>): Promise<FastifyReply> {
  const { fault } = outcome.chosen.rule;
  const { request, reply, key, startedAt } = context;
  const signal = answerSignal(reply.raw, server.faults.closed);
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
    const answer = errorAnswer(dialectOf(context.client.path), { status: fault.status, retryAfterS: fault.retryAfterS, seed: `${key.key}:${outcome.chosen.arrival}` });
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  }
  if (outcome.recorded) {
    const prepared = await outcome.recorded;
    reply.hijack();
    await writeFaulted(reply.raw, replayed(prepared, server.config.paceFactor, startedAt), fault, signal);
    return reply;
  }
  // Forwarded, passed through with the fault, never recorded: the forwarder hands over the upstream's answer instead of sending it.
  const forwarded = await forward(reply, {
    ...exchangeOf(server, context),
    deliver: (source, contentType) => {
      const format = streamFormatOf(contentType);
      reply.hijack();
      const answer: AnswerToFault = { status: reply.statusCode, headers: reply.getHeaders() as AnswerToFault['headers'], events: eventsOf(source, format), format };
      void writeFaulted(reply.raw, answer, fault, signal).finally(() => source.destroy());
    },
  });
  // No answer to fault (the upstream unreachable): our own error, as without the fault.
  if (forwarded.kind === 'not-recorded' && forwarded.error) return sendOwnError(reply, forwarded.error, context.client.path);
  return reply;
}

function replayed(prepared: PreparedResponse, paceFactor: number, startedAt: number): AnswerToFault {
  return { status: prepared.status, headers: prepared.headers, events: answerEvents(prepared, paceFactor, startedAt), format: streamFormatOf(prepared.headers['content-type']) };
}
