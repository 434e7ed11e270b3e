// The forwarding modes: record (forward, write each complete answer), record-if-missing
// (answer from a recording when there is one, else record it once however many runs
// ask) and live (forward, write nothing). The answer is written to the client while it
// is forwarded (a stream is passed on event by event), so these return the outcome
// only for its bookkeeping.
import { forward, type ForwardOutcome } from '../proxy/forward.js';
import { recordingDirFor } from '../recordings/layout.js';
import { toLlamaStackForm } from '../recordings/llama-stack-form.js';
import { recordingId } from '../recordings/occurrence.js';
import type { Recording } from '../recordings/recording.js';
import { AnswerError } from '../errors.js';
import { exchangeOf, type ExchangeServer } from './exchange.js';
import type { Outcome } from './outcome.js';
import { answeredFrom } from './replay-mode.js';
import type { KeyedContext, RequestContext } from './request-context.js';
import type { FastifyInstance } from 'fastify';

type RecordServer = ExchangeServer & Pick<FastifyInstance, 'store' | 'answers' | 'inflight' | 'loggedCauses' | 'recordedBy' | 'sequenceStarts' | 'log' | 'recordModeExchanges'>;

export async function live(server: RecordServer, context: RequestContext): Promise<Outcome> {
  const forwarded = await forward(context.reply, exchangeOf(server, context));
  // The client already has its answer (a 502, a 400) or has gone: the journal says why.
  if (forwarded.kind === 'not-recorded') return { kind: 'error', reason: forwarded.reason, forwarded: true };
  return { kind: 'passed-through' };
}

export async function record(server: RecordServer, context: KeyedContext): Promise<Outcome> {
  // Counted until its write is done, however early its client hung up: leaving record mode lets the lock go only after.
  return recordedOutcome(server, context, await server.recordModeExchanges.hold(forwardAndWrite(server, context)));
}

export async function recordIfMissing(server: RecordServer, context: KeyedContext): Promise<Outcome> {
  const { key, position } = context;
  const id = recordingId(key.key, position.occurrence);
  const recorded = server.answers.lookup(key.key, position.occurrence);
  if (recorded) return answeredFrom(recorded, position.occurrence);
  // The same occurrence being recorded for another run: wait for it, then answer from it.
  const leader = server.inflight.get(id);
  if (leader) {
    const led = await leader;
    const hit = server.answers.lookup(key.key, position.occurrence);
    if (hit) return answeredFrom(hit, position.occurrence);
    position.giveBack();
    return answeredAsLed(led);
  }
  const recording = forwardAndWrite(server, context);
  server.inflight.set(id, recording);
  try {
    return recordedOutcome(server, context, await recording);
  } finally {
    server.inflight.delete(id);
  }
}

/** Forwards, and writes the recording of this occurrence when the exchange completed. */
async function forwardAndWrite(server: RecordServer, context: KeyedContext): Promise<ForwardOutcome> {
  const { key, position, client } = context;
  const relativeDir = recordingDirFor(server.config.layout, client.testId);
  const { occurrence } = position;
  // Record mode records a sequence anew from its first occurrence (the store removes the older one's later occurrences first),
  // and answers nothing it writes: only record-if-missing keeps what it wrote in memory to answer from.
  const recordMode = server.config.mode === 'record';
  const kept = { keepInMemory: !recordMode };
  const asOccurrence = { occurrence, newSequence: recordMode, ...kept };
  // A later occurrence of a sequence recorded anew is written only once its first has been (or has failed): written
  // before it, in place over the older sequence's, it would leave that older first with a new later one to a kill.
  const sequence = `${client.run}\0${client.testId ?? ''}\0${key.key}`;
  const first = recordMode && occurrence > 1 ? server.sequenceStarts.get(sequence) : undefined;
  const save = (recording: Recording) => {
    warnIfMixed(server, context);
    if (server.config.keyScheme !== 'llama-stack') return server.store.save(key.key, recording, relativeDir, asOccurrence);
    const adapted = toLlamaStackForm(recording, key.key, key.modelList);
    return server.store.save(key.key, adapted.recording, relativeDir, adapted.modelListFile ? { fileName: adapted.modelListFile, ...kept } : asOccurrence);
  };
  const persist = first ? (recording: Recording) => first.then(() => save(recording)) : save;
  const forwarded = forward(context.reply, exchangeOf(server, context), persist);
  if (recordMode && occurrence === 1) {
    const started = forwarded.catch(() => undefined);
    server.sequenceStarts.set(sequence, started);
    void started.then(() => server.sequenceStarts.get(sequence) === started && server.sequenceStarts.delete(sequence));
  }
  const outcome = await forwarded;
  // Not written: the occurrence is free for the next identical request (the retry).
  if (outcome.kind !== 'recorded') position.giveBack();
  return outcome;
}

/**
 * Two runs or tests recording the same request on one server each keep their files (no
 * run removes what another wrote), so its sequence can end up holding occurrences of
 * both: said once per change of hands, naming both.
 */
function warnIfMixed(server: RecordServer, { key, position, client }: KeyedContext): void {
  const scope = `run '${client.run}', test '${client.testId ?? ''}'`;
  const previous = server.recordedBy.get(key.key);
  server.recordedBy.set(key.key, scope);
  const entry = server.store.entry(key.key);
  const sequence = position.occurrence > 1 || (entry !== undefined && entry.occurrences.length > 1);
  if (previous === undefined || previous === scope || !sequence) return;
  server.log.warn(
    { key: key.key, occurrence: position.occurrence },
    `llm-replay: occurrence ${position.occurrence} of this request recorded by ${scope} while ${previous} recorded others of it on this server: its recorded sequence now mixes two recordings (nothing is removed that another run wrote); record it again from one run to have one`,
  );
}

function recordedOutcome(server: RecordServer, { position }: KeyedContext, forwarded: ForwardOutcome): Outcome {
  if (forwarded.kind === 'recorded') return { kind: 'recorded', occurrence: position.occurrence };
  if (forwarded.kind === 'passed-through') return { kind: 'passed-through' };
  // A cause of the setup (a refused key, a rate limit) is said once, not on every request it affects.
  const { cause } = forwarded;
  const level = cause && server.loggedCauses.has(cause) ? 'debug' : 'warn';
  if (cause) server.loggedCauses.add(cause);
  return { kind: 'error', reason: `not recorded: ${forwarded.reason}`, level, forwarded: true };
}

/**
 * The request this one waited on was not written: it gets the same answer (a 429 with
 * its retry-after, a 503), or a 502 when there was no whole answer, so its client
 * retries as it would have; the waiters never become one paid upstream call each.
 */
function answeredAsLed(led: ForwardOutcome): Outcome {
  const reason = led.kind === 'not-recorded' ? led.reason : led.kind === 'recorded' ? 'it was not found after it was written' : 'passed through';
  const message = `answered as the identical request it waited on: ${reason}`;
  if (led.kind === 'not-recorded' && led.answer) return { kind: 'error', reason: message, answer: { status: led.answer.status, headers: led.answer.headers, body: led.answer.body } };
  return { kind: 'error', reason: message, answer: new AnswerError('llm_replay_upstream_error', `an identical request (the same occurrence, from another run) was being recorded and was not (${reason}); send it again`) };
}
