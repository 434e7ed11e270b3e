// Which upstream answers the record modes write. The official SDKs retry 408, 409,
// 429 and 5xx (unless the upstream says x-should-retry: false): written, such an
// answer would be replayed to every retry and every later run, freezing a transient
// failure. A 401 or 403 says the key is missing, placeholder or expired: it is about
// the recording setup, not the code under test. Both are passed to the client and
// not written (recordRetryable, recordAuthErrors write them, to test error handling
// from a recording); the retry that succeeds is what gets recorded. Other errors
// (400, 404, 422 ...) are deterministic and written. An answer in a content coding
// llm-replay cannot undo (content-coding.ts) is passed on as it came, its coding
// named, and not written: a recording of bytes nothing can read would be replayed for ever.
// An answer with no body (to HEAD, a 204, a 304) has no bytes to read, whatever its
// coding: it is written like any other. A stream that ends in an error after its
// 200 head (stream-errors.ts) is judged by the status its error stands for.
import type { IncomingHttpHeaders } from 'node:http';
import { dialectOf, KEY_VARIABLES } from '../request/dialect.js';
import { unreadableCoding } from './content-coding.js';
import type { StreamError } from '../recordings/stream-errors.js';

/** The upstream's status line and headers. */
export interface UpstreamHead {
  status: number;
  headers: IncomingHttpHeaders;
  /** The answer has no body (to HEAD, a 204, a 304): its content headers describe one that is not there. */
  bodiless?: boolean;
}

/** Why an answer is passed on and not written (said after "not recorded: "); `cause` groups the log lines. */
export interface NotWritten {
  /** A stream's failure is said apart from the answers the SDKs retried (a warning about one would otherwise silence the other). */
  cause: 'retried' | 'failed-stream' | 'refused-key' | 'unreadable-coding';
  reason: string;
  /** What happened, without what was done about it: what the requests that waited on this one are told. */
  what?: string;
}

export interface FailurePolicy {
  recordRetryable?: boolean;
  recordAuthErrors?: boolean;
}

/** Undefined when the answer is written. `path`: the one the client called, whose API says which key was refused. */
export function notWritten(head: UpstreamHead, policy: FailurePolicy, path: string): NotWritten | undefined {
  const coding = head.bodiless ? undefined : unreadableCoding(head.headers);
  if (coding !== undefined) {
    return { cause: 'unreadable-coding', reason: `the upstream compressed its answer (content-encoding: ${coding}), which llm-replay cannot undo (it asks for identity; gzip, deflate and br it undoes): passed on as it came` };
  }
  return byStatus(head.status, isRetried(head), policy, path, { refused: String(head.status), retried: `the upstream answered ${head.status}, which the SDKs retry` }, 'retried');
}

/**
 * A stream that ended in an error after its 200 head (an overloaded_error mid-answer) is
 * judged as its status would be on a head: a failure of the moment is passed on and not
 * written, or every replay would fail with it; no SDK retries it, but the next run asks again.
 */
export function streamNotWritten(error: StreamError, policy: FailurePolicy, path: string): NotWritten | undefined {
  if (error.status === undefined) return undefined;
  const named = `${error.name}, which stands for a ${error.status}`;
  const what = `the upstream's stream ended in an error (${named})`;
  const judged = byStatus(error.status, isRetriedStatus(error.status), policy, path, { refused: `in its stream: ${error.name}`, retried: `the upstream's stream ended in an error (${named}, an answer the SDKs retry)` }, 'failed-stream');
  return judged && { ...judged, what };
}

/** `retriedCause`: what a retried answer's log line is grouped under (a stream's failure apart from a head's). */
function byStatus(status: number, retried: boolean, policy: FailurePolicy, path: string, words: { refused: string; retried: string }, retriedCause: NotWritten['cause']): NotWritten | undefined {
  if (!policy.recordAuthErrors && (status === 401 || status === 403)) {
    const [variable] = KEY_VARIABLES[dialectOf(path)];
    const set = variable ? `${variable} (or your provider's key)` : "your provider's key";
    return { cause: 'refused-key', reason: `the upstream refused the key (${words.refused}); set ${set} or --upstream (--record-auth-errors records such answers)` };
  }
  if (!policy.recordRetryable && retried) {
    return { cause: retriedCause, reason: `${words.retried}: passed on to the client (--record-retryable writes it)` };
  }
  return undefined;
}

function isRetried(head: UpstreamHead): boolean {
  const override = head.headers['x-should-retry'];
  if (override === 'true') return true;
  if (override === 'false') return false;
  return isRetriedStatus(head.status);
}

function isRetriedStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The headers a client acts on after an error: how long to wait, whether to retry at all, what is left of its limits. */
function actionable(name: string): boolean {
  return name === 'retry-after' || name === 'retry-after-ms' || name === 'x-should-retry' || name.startsWith('x-ratelimit-');
}

/**
 * What a recording keeps of the upstream's headers: the content type, and for an
 * error the headers a client needs to act on it (retry-after, x-should-retry,
 * x-ratelimit-*: a 429 written because it said x-should-retry: false must say so again
 * when replayed, or the SDK retries it). A
 * success keeps only the content type: rate-limit counters change on every call and
 * would make each re-recording differ. An answer to HEAD (`method`) keeps its
 * content-length too: the length of what a GET would get is all it says, and its
 * body, which is none, cannot give it back.
 */
export function keptHeaders(headers: IncomingHttpHeaders, status: number, method: string): Record<string, string> {
  const kept: Record<string, string> = {};
  const type = headers['content-type'];
  if (type) kept['content-type'] = Array.isArray(type) ? (type[0] as string) : type;
  const length = headers['content-length'];
  if (method === 'HEAD' && length !== undefined) kept['content-length'] = length;
  if (status < 400) return kept;
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && actionable(name)) kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

/** A whole answer that was passed to the client and not written: what requests that waited on it are answered with. */
export interface FailedAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}
