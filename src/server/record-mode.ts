// The forwarding modes: record (forward, write each complete answer), record-if-missing
// (answer from a recording when there is one, else record it once however many runs
// ask) and live (forward, write nothing). The answer is written to the client while it
// is forwarded (a stream is passed on event by event), so these return the outcome
// for its bookkeeping, and for an error of llm-replay's own (the upstream unreachable,
// a write that failed) the error, which conclude sends in the caller's dialect.
import { forward, type ForwardOutcome } from '../proxy/forward.js';
import { recordingPlace } from '../recordings/layout.js';
import { toLlamaStackForm } from '../recordings/llama-stack-form.js';
import { recordingId } from '../recordings/occurrence.js';
import type { Recording } from '../recordings/recording.js';
import type { ClientRequest } from '../request/client-request.js';
import { dialectOf } from '../request/dialect.js';
import { AnswerError } from '../errors.js';
import { scrubRecorded } from '../secrets/redact.js';
import { exchangeOf, type ExchangeServer } from './exchange.js';
import type { Outcome } from './outcome.js';
import { answeredFrom } from './replay-mode.js';
import type { KeyedContext, RequestContext } from './request-context.js';
import type { FastifyInstance } from 'fastify';

type RecordServer = ExchangeServer & Pick<FastifyInstance, 'store' | 'answers' | 'inflight' | 'loggedCauses' | 'recordedBy' | 'sequenceSteps' | 'log' | 'recordModeExchanges'>;

export async function live(server: RecordServer, context: RequestContext): Promise<Outcome> {
  const forwarded = await forward(context.reply, exchangeOf(server, context));
  // The client gets our own error (a 502, a 400: sent by conclude, in its SDK's dialect) or has gone: the journal says why.
  if (forwarded.kind === 'not-recorded') return { kind: 'error', reason: forwarded.reason, forwarded: true, ...(forwarded.error ? { answer: forwarded.error } : {}) };
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
  for (let leader = server.inflight.get(id); leader; leader = server.inflight.get(id)) {
    const led = await leader;
    const hit = server.answers.lookup(key.key, position.occurrence);
    if (hit) return answeredFrom(hit, position.occurrence);
    // An answer in a coding llm-replay cannot undo is not shared (it could not be scrubbed of the other request's credentials):
    // the first request to wake asks on its own and the others wait on it, so the upstream is still asked once at a time.
    if (!(led.kind === 'not-recorded' && led.cause === 'unreadable-coding')) {
      position.giveBack();
      return answeredAsLed(led);
    }
  }
  const recording = forwardAndWrite(server, context);
  server.inflight.set(id, recording);
  try {
    return recordedOutcome(server, context, await recording);
  } finally {
    // Requests that waited on one and then ask on their own each take the place: only this one's entry goes.
    if (server.inflight.get(id) === recording) server.inflight.delete(id);
  }
}

/** Forwards, and writes the recording of this occurrence when the exchange completed. */
async function forwardAndWrite(server: RecordServer, context: KeyedContext): Promise<ForwardOutcome> {
  const { key, position, client } = context;
  const place = recordingPlace(server.config.layout, client.testId);
  if (place.refused !== undefined) sayTestFileRefused(server, client, place.refused);
  const relativeDir = place.dir;
  const { occurrence } = position;
  // Record mode records a sequence anew from its first occurrence (the store removes the older one's later occurrences first),
  // and answers nothing it writes: only record-if-missing keeps what it wrote in memory to answer from.
  const recordMode = server.config.mode === 'record';
  const keepInMemory = !recordMode;
  const save = (recording: Recording, secrets: readonly string[]) => {
    warnIfMixed(server, context);
    const asOccurrence = { occurrence, newSequence: recordMode, secrets, keepInMemory };
    if (server.config.keyScheme !== 'llama-stack') return server.store.save(key.key, recording, relativeDir, asOccurrence);
    // Scrubbed before it is adapted: the adapted form quotes the answer's JSON inside strings (an error's message), escaping a secret anew, and names a model list's part by its ids.
    const adapted = toLlamaStackForm(scrubRecorded(recording, secrets), key.key, key.modelList);
    return server.store.save(key.key, adapted.recording, relativeDir, adapted.modelListFile ? { fileName: adapted.modelListFile, secrets, keepInMemory } : asOccurrence);
  };
  // A llama-stack model list is one answer, with no occurrences to keep in order.
  const step = recordMode && !key.modelList ? sequenceStep(server, context) : undefined;
  let outcome: ForwardOutcome;
  try {
    outcome = await forward(context.reply, exchangeOf(server, context), step ? (recording, secrets) => step.persist(() => save(recording, secrets)) : save);
  } catch (error) {
    step?.ended(false);
    throw error;
  }
  step?.ended(outcome.kind === 'recorded');
  // Not written: the occurrence is free for the next identical request (the retry).
  if (outcome.kind !== 'recorded') position.giveBack();
  return outcome;
}

/**
 * An occurrence of a sequence recorded anew is written after the one before it (identical
 * requests sent at once, a later one answered first: written first, a kill between the two
 * writes would leave a hole), and, while an older recording of the sequence is being
 * replaced, only if that one was recorded (written after it failed, it would leave a hole
 * in the new sequence, or mix it with the older one's files, for good). The wait is for the previous occurrence's
 * write, bounded by --upstream-timeout.
 */
function sequenceStep(server: RecordServer, { key, position, client }: KeyedContext): { persist: (save: () => Promise<void>) => Promise<void>; ended: (recorded: boolean) => void } {
  const sequence = `${client.run}\0${client.testId ?? ''}\0${key.key}\0`;
  const { occurrence } = position;
  const previous = occurrence > 1 ? server.sequenceSteps.get(`${sequence}${occurrence - 1}`) : undefined;
  let resolve!: (recorded: boolean) => void;
  const recorded = new Promise<boolean>((settled) => (resolve = settled));
  const id = `${sequence}${occurrence}`;
  server.sequenceSteps.set(id, recorded);
  let settled = false;
  // Once: a step that was written ends too, and a promise resolved again costs a trip through V8's runtime.
  const settle = (done: boolean) => {
    if (settled) return;
    settled = true;
    resolve(done);
    if (server.sequenceSteps.get(id) === recorded) server.sequenceSteps.delete(id);
  };
  return {
    async persist(save) {
      const before = previous ? await settledWithin(previous, server.config.upstreamTimeoutMs) : true;
      // Recording a sequence from nothing, a later occurrence stands on its own (the one before is recorded on the retry).
      if (before === false && server.store.replacingOlder(key.key)) throw new Error(`occurrence ${occurrence - 1} of this request in this test was not recorded, and this one written alone would leave a hole in the sequence, or mix two recordings of it: send them again`);
      if (before === undefined) throw new Error(`occurrence ${occurrence - 1} of this request in this test was still being recorded after ${server.config.upstreamTimeoutMs} ms, and this one is written only after it: send them again`);
      await save();
      settle(true);
    },
    ended: (done) => settle(done),
  };
}

/** What `promise` resolves to, or undefined once `ms` have passed first. */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms).unref()));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Two runs or tests recording the same request on one server each keep their files (no
 * run removes what another wrote), so its sequence can end up holding occurrences of
 * both: said once per change of hands, naming both.
 */
function warnIfMixed(server: RecordServer, { key, position, client }: KeyedContext): void {
  const scope = scopeName(client);
  const previous = server.recordedBy.get(key.key);
  server.recordedBy.set(key.key, scope);
  if (previous === undefined || previous === scope) return;
  const entry = server.store.entry(key.key);
  if (position.occurrence === 1 && (entry === undefined || entry.occurrences.length < 2)) return;
  server.log.warn(
    { key: key.key, occurrence: position.occurrence },
    `llm-replay: occurrence ${position.occurrence} of this request recorded by ${scope} while ${previous} recorded others of it on this server: its recorded sequence now mixes two recordings (nothing is removed that another run wrote); record it again from one run to have one`,
  );
}

/** The last scope named: a test's requests come one after another, so they share one name, which recordedBy keeps per key instead of a new string each. */
let lastScope: { run: string; testId: string | null; name: string } | undefined;

/** How a warning names a run and test. */
function scopeName({ run, testId }: ClientRequest): string {
  if (lastScope?.run !== run || lastScope.testId !== testId) lastScope = { run, testId, name: `run '${run}', test '${testId ?? ''}'` };
  return lastScope.name;
}

/** A test id whose test file cannot have its recordings folder (it would lead outside the directory, say): said at warn once per server, then at debug. */
function sayTestFileRefused(server: RecordServer, client: ClientRequest, refused: string): void {
  const cause = 'test-file-refused';
  // Later ones at info (the CLI's level): each says where a test's recordings went instead, and why.
  const level = server.loggedCauses.has(cause) ? 'info' : 'warn';
  server.loggedCauses.add(cause);
  server.log[level]({ testId: client.testId }, `llm-replay: test id ${JSON.stringify(client.testId)}: ${refused}, so --layout by-test-file writes its recordings in the top folder, ${server.store.dir}, instead`);
}

function recordedOutcome(server: RecordServer, { position, client }: KeyedContext, forwarded: ForwardOutcome): Outcome {
  if (forwarded.kind === 'recorded') return { kind: 'recorded', occurrence: position.occurrence, status: forwarded.status, ...(forwarded.failure !== undefined ? { failure: forwarded.failure } : {}) };
  if (forwarded.kind === 'passed-through') return { kind: 'passed-through' };
  // A cause of the setup (a refused key, a rate limit) is said once, not on every request it affects;
  // a refused key once per API, as each names its own key (OpenAI's, then Anthropic's through a route).
  const cause = forwarded.cause === 'refused-key' ? `${forwarded.cause}:${dialectOf(client.path)}` : forwarded.cause;
  // Later ones at info (the CLI's level): each unrecorded exchange is a miss in the next replay, so each is seen, without a warning each.
  const level = cause && server.loggedCauses.has(cause) ? 'info' : 'warn';
  if (cause) server.loggedCauses.add(cause);
  return { kind: 'error', reason: `not recorded: ${forwarded.reason}`, level, forwarded: true, ...(forwarded.error ? { answer: forwarded.error } : {}) };
}

/**
 * The request this one waited on was not written: it gets the same answer (a 429 with
 * its retry-after, a 503), or a 502 when there was no whole answer, so its client
 * retries as it would have; the waiters never become one paid upstream call each (but
 * for an answer in a coding that cannot be scrubbed, which is not shared: see recordIfMissing).
 */
function answeredAsLed(led: ForwardOutcome): Outcome {
  // What happened to it, not what was done about it for its own client (a stream it was passed).
  const reason = led.kind === 'not-recorded' ? (led.what ?? led.reason) : led.kind === 'recorded' ? 'it was not found after it was written' : 'passed through';
  const message = `answered as the identical request it waited on: ${reason}`;
  if (led.kind === 'not-recorded' && led.answer) return { kind: 'error', reason: message, answer: { status: led.answer.status, headers: led.answer.headers, body: led.answer.body } };
  // The same error of our own (a 504 for a silent upstream, a 500 for a file that cannot be written), saying it was another's.
  if (led.kind === 'not-recorded' && led.error) return { kind: 'error', reason: message, answer: new AnswerError(led.error.code, `an identical request (the same occurrence, from another run) was being recorded and was not: ${led.error.message}`, null, { status: led.error.status, final: led.error.final }) };
  return { kind: 'error', reason: message, answer: new AnswerError('llm_replay_upstream_error', `an identical request (the same occurrence, from another run) was being recorded and was not (${reason}); send it again`) };
}
