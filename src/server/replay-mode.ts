// Replay: the n-th identical request of a test gets the n-th recorded answer (past the
// last, the last again), or a miss. Decides only; `conclude` (outcome.ts) answers.
import { AnswerError, RecordingFileError } from '../errors.js';
import { describeMiss } from '../replay/miss-report.js';
import type { PreparedResponse } from '../replay/prepare.js';
import { answeringOccurrence } from './occurrences.js';
import type { Outcome } from './outcome.js';
import type { KeyedContext } from './request-context.js';
import type { FastifyInstance } from 'fastify';

export type ReplayServer = Pick<FastifyInstance, 'config' | 'store' | 'answers' | 'catalogue'>;

export function replay(server: ReplayServer, context: KeyedContext): Outcome | Promise<Outcome> {
  const { config, answers } = server;
  const { key, position } = context;
  const entry = server.store.entry(key.key);
  const answering = entry ? answeringOccurrence(entry, position.occurrence) : undefined;
  if (!answering || (answering.repeated && config.strictOccurrences)) return miss(server, context);
  const { occurrence, repeated } = answering;
  // Decided without a single await: from memory, or read from its file now.
  let prepared: PreparedResponse | undefined;
  try {
    prepared = answers.answer(key.key, occurrence);
  } catch (error) {
    return unusable(error);
  }
  return prepared ? { kind: 'answered', occurrence, prepared, atOnce: config.paceFactor === 0, repeated } : miss(server, context);
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
  // A broken file does not mend itself: the reader is told what to do with it.
  const reason = error instanceof RecordingFileError ? `recording ${error.message}${error.fault === 'content' ? '; mend it, or delete it and record it again (record-if-missing records only what is missing); llm-replay verify lists every such file' : ''}` : (error as Error).message;
  return { kind: 'error', reason, level: 'error', answer: new AnswerError('llm_replay_bad_recording', reason) };
}

/** A miss; `note` adds to the diagnostic (a faulted request says how to record it). */
export async function miss(server: Pick<ReplayServer, 'catalogue' | 'store'>, { client, key, position }: KeyedContext, note = ''): Promise<Outcome> {
  // A copy: describeMiss hands out the same report for the same miss again.
  const report = { ...(await describeMiss(server.catalogue, client, key, { occurrence: position.occurrence, recorded: server.store.entry(key.key) })) };
  report.message += note;
  return { kind: 'miss', report };
}
