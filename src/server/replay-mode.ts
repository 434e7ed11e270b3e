// Replay: the n-th identical request of a test gets the n-th recorded answer (past the
// last, the last again), or a miss. Decides only; `conclude` (outcome.ts) answers.
import { AnswerError, RecordingFileError } from '../errors.js';
import { describeMiss } from '../replay/miss-report.js';
import type { PreparedResponse } from '../replay/prepare.js';
import { answeringOccurrence } from './occurrences.js';
import type { Outcome } from './outcome.js';
import type { KeyedContext } from './request-context.js';
import type { ProxyState } from './state.js';

export function replay(state: ProxyState, context: KeyedContext): Outcome | Promise<Outcome> {
  const { config, answers } = state;
  const { key, position } = context;
  const entry = state.store.entry(key.key);
  const answering = entry ? answeringOccurrence(entry, position.occurrence) : undefined;
  if (!answering || (answering.repeated && config.strictOccurrences)) return miss(state, context);
  const { occurrence, repeated } = answering;
  // Decided without a single await: from memory, or read from its file now.
  let prepared: PreparedResponse | undefined;
  try {
    prepared = answers.answer(key.key, occurrence);
  } catch (error) {
    return unusable(error);
  }
  return prepared ? { kind: 'answered', occurrence, prepared, atOnce: config.paceFactor === 0, repeated } : miss(state, context);
}

/** The recording once read and prepared; an error when it cannot be. */
export async function answeredFrom(pending: Promise<PreparedResponse>, occurrence: number, repeated = false): Promise<Outcome> {
  try {
    return { kind: 'answered', occurrence, prepared: await pending, atOnce: false, repeated };
  } catch (error) {
    return unusable(error);
  }
}

function unusable(error: unknown): Outcome {
  const reason = error instanceof RecordingFileError ? `recording ${error.message}` : (error as Error).message;
  return { kind: 'error', reason, level: 'error', answer: new AnswerError('llm_replay_bad_recording', reason) };
}

/** A miss; `note` adds to the diagnostic (a faulted request says how to record it). */
export async function miss(state: ProxyState, { client, key, position }: KeyedContext, note = ''): Promise<Outcome> {
  // A copy: describeMiss hands out the same report for the same miss again.
  const report = { ...(await describeMiss(state.catalogue, client, key, { occurrence: position.occurrence, recorded: state.store.entry(key.key) })) };
  report.message += note;
  return { kind: 'miss', report };
}
