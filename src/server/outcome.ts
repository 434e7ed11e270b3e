// What a request came to, one value per request, and the one place that turns it
// into the journal entry, the usage count and the log line, then sends what is still
// to be sent (forwarding writes its answer while it forwards: see `sent` below).
import path from 'node:path';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import type { ChosenFault } from '../faults/registry.js';
import type { PreparedResponse } from '../replay/prepare.js';
import type { MissReport } from '../replay/miss-report.js';
import { sendNow, sendPrepared } from '../replay/send.js';
import { recordingId } from '../recordings/occurrence.js';
import { RUN_HEADER } from '../request/control-headers.js';
import { requestedModel } from '../request/client-request.js';
import { AnswerError } from '../errors.js';
import { sendOwnError } from './error-handler.js';
import { applyFault, type FaultServer } from './faulted.js';
import { missLink } from './inspector/links.js';
import type { JournalInput, JournalKind } from './journal.js';
import type { KeyedContext, RequestContext } from './request-context.js';

/** An answer of llm-replay's own to send. */
interface OwnAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export type Outcome =
  /** Answered from the recording of `occurrence` (to send: at once when it was ready in memory). `repeated`: the test sent it more often than recorded. */
  | { kind: 'answered'; occurrence: number; prepared: PreparedResponse; atOnce: boolean; repeated: boolean }
  /** Forwarded and written (`status`: the answer's; `failure`: the error a written stream ends in); the client had its answer while it was forwarded. */
  | { kind: 'recorded'; occurrence: number; status: number; failure?: string }
  /** Forwarded and passed to the client unrecorded (live mode). */
  | { kind: 'passed-through' }
  /** No recording answers it (to send: a 404 with the diagnostic). */
  | { kind: 'miss'; report: MissReport }
  /** A fault was chosen: applied to the recording (`recorded`), to the upstream's answer, or answered as an error or a reset. */
  | { kind: 'fault'; chosen: ChosenFault; occurrence: number; recorded: Promise<PreparedResponse> | undefined }
  /** Something went wrong; `answer` is what to send (an error of our own, or another's answer), absent when the client already has one. `forwarded`: the upstream was called. */
  | { kind: 'error'; reason: string; level?: 'debug' | 'info' | 'warn' | 'error'; answer?: AnswerError | OwnAnswer; forwarded?: boolean };

/** Journal, usage and log for the outcome, then the answer if it is not yet sent. */
type ConcludeServer = FaultServer & Pick<FastifyInstance, 'journal' | 'usage' | 'log' | 'url'>;

export function conclude(server: ConcludeServer, context: RequestContext, outcome: Outcome): FastifyReply | Promise<FastifyReply> {
  const { client, key, reply } = context;
  const { journal, usage, log } = server;
  const endpoint = key?.endpoint ?? client.path;
  switch (outcome.kind) {
    case 'answered': {
      if (outcome.repeated) noteRepeat(server, context as KeyedContext, outcome.occurrence);
      usage.hit(recordingId(key!.key, outcome.occurrence), endpoint);
      const hit = noted(context, 'hit', true);
      const message = replayedError(server, key!.key, outcome.occurrence, outcome.prepared);
      if (message !== undefined) hit.message = message;
      journal.add(hit);
      return outcome.atOnce ? sendNow(reply, outcome.prepared) : sendPrepared(reply, outcome.prepared, server.config.paceFactor, context.startedAt);
    }
    case 'recorded': {
      usage.forwarded(endpoint);
      usage.record(recordingId(key!.key, outcome.occurrence), endpoint);
      journal.add(noted(context, 'recorded', true));
      // The file's relative path costs more than the rest of the bookkeeping: made only for a log that shows it.
      // A written error (a 404, or what --record-auth-errors and --record-retryable keep) says so: it is replayed as it came.
      if (logsInfo(log)) {
        const { occurrence, status, failure } = outcome;
        const what = failure !== undefined ? ` a stream that ends in an error (${failure})` : status >= 200 && status < 300 ? '' : ` a ${status} answer`;
        log.info({ key: key!.key, occurrence, status, endpoint: client.path, file: path.relative(server.store.dir, server.store.fileOf(key!.key, occurrence) ?? '') }, `llm-replay: recorded${what}`);
      }
      return reply;
    }
    case 'passed-through':
      usage.forwarded(endpoint);
      journal.add(noted(context, 'forwarded', true));
      return reply;
    case 'miss': {
      const { report } = outcome;
      const body = client.body.kind === 'json' ? { body: client.body.value, bodyBytes: client.body.bytes.length } : {};
      const entry = journal.add({ ...noted(context, 'miss', false), status: 404, miss: report, ...body });
      report.message += `\nSee it in the inspector: ${missLink(server.url, entry.seq)}`;
      usage.miss(report, endpoint, client.run);
      log.warn({ key: key?.key, method: key?.method, endpoint: client.path, testId: client.testId }, report.message);
      // 404: the official SDKs retry 408, 409, 429 and 5xx, never a 404.
      return sendOwnError(reply, new AnswerError('llm_replay_recording_not_found', report.message), client.path);
    }
    case 'fault': {
      const { chosen } = outcome;
      const run = client.headers[RUN_HEADER];
      server.faults.record({
        at: new Date().toISOString(),
        test_id: client.testId,
        run: (Array.isArray(run) ? run[0] : run) ?? null,
        method: client.method,
        endpoint: client.path,
        key: key!.key,
        // The injection list's field keeps its name: it counts arrivals (on=n).
        occurrence: chosen.arrival,
        fault: chosen.rule.text,
        source: chosen.source,
      });
      usage.fault(endpoint);
      log.info({ key: key!.key, endpoint: client.path, testId: client.testId, arrival: chosen.arrival, injectedFault: chosen.rule.text, source: chosen.source }, `llm-replay: injected fault ${chosen.rule.text}`);
      journal.add({ ...noted(context, 'fault', true), message: `injected fault ${chosen.rule.text} (${chosen.source})` });
      const { fault } = chosen.rule;
      if (outcome.recorded) usage.hit(recordingId(key!.key, outcome.occurrence), endpoint);
      else if (!fault.reset && fault.status === undefined) usage.forwarded(endpoint);
      return applyFault(server, context as KeyedContext, outcome);
    }
    case 'error': {
      if (outcome.forwarded) usage.forwarded(endpoint);
      if (outcome.level) log[outcome.level]({ key: key?.key, occurrence: context.position?.occurrence, endpoint: client.path }, `llm-replay: ${outcome.reason}`);
      const failed = noted(context, 'failed', true);
      failed.message = outcome.reason;
      // Named for whoever reports what was not recorded (the pytest plugin's summary).
      const model = requestedModel(client);
      if (model !== undefined) failed.model = model;
      journal.add(failed);
      const { answer } = outcome;
      if (answer instanceof AnswerError) return sendOwnError(reply, answer, client.path);
      return answer ? reply.code(answer.status).headers(answer.headers ?? {}).send(answer.body) : reply;
    }
  }
}

/** Whether the server's log shows `info` lines (fastify's logger when logging is off has no levels). */
function logsInfo(log: FastifyBaseLogger): boolean {
  return (log as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info') ?? false;
}

/**
 * The journal's note of the request as `kind`; `answering`: the entry is completed (status,
 * duration) when the answer has ended. Built field by field: it runs for every request,
 * where object spreads cost more than the rest of the bookkeeping.
 */
function noted({ client, key, reply, startedAt }: RequestContext, kind: JournalKind, answering: boolean): JournalInput {
  const input: JournalInput = { kind, method: client.method, path: client.path, testId: client.testId, startedAt };
  if (key) input.key = key.key;
  if (answering) input.response = reply.raw;
  return input;
}

/** A replayed error (any non-2xx, or a stream that ends in one) names its file, logged and in the journal: a frozen failure is found by name. */
function replayedError(server: Pick<FastifyInstance, 'store' | 'log'>, key: string, occurrence: number, { status, failure }: PreparedResponse): string | undefined {
  if (status >= 200 && status < 300 && failure === undefined) return undefined;
  const file = path.relative(server.store.dir, server.store.fileOf(key, occurrence) ?? '');
  const what = failure !== undefined ? `stream that ends in an error (${failure})` : String(status);
  const message = `replayed the recorded ${what} from ${file} (delete the file to record it again)`;
  server.log.warn({ key, occurrence, file }, `llm-replay: ${message}`);
  return message;
}

function noteRepeat(server: Pick<FastifyInstance, 'usage' | 'log'>, { client, key, position }: KeyedContext, answered: number): void {
  const repeat = { key: key.key, testId: client.testId, run: client.run, occurrence: position.occurrence, answered };
  server.usage.repeat(repeat, key.endpoint);
  server.log.warn(
    { ...repeat, endpoint: client.path },
    `llm-replay: ${key.method} ${client.path} was sent ${position.occurrence} times in this test but recorded ${answered === 1 ? 'once' : `up to occurrence ${answered}`}: answering the last recording again (--strict-occurrences makes this a miss)`,
  );
}
