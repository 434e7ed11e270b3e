// Typed errors with the context a user needs to act on them.

export class LlmReplayError extends Error {
  override name = 'LlmReplayError';
}

/** An option or configuration value is invalid. */
export class ConfigError extends LlmReplayError {
  override name = 'ConfigError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
  }
}

/** A file in the recordings directory cannot be used as a recording. */
export class RecordingFileError extends LlmReplayError {
  override name = 'RecordingFileError';
  constructor(
    readonly file: string,
    message: string,
    /** What is wrong: what the file holds (mended by editing or re-recording it), or reaching it at all (permissions, a file gone). */
    readonly fault: 'content' | 'access' = 'content',
  ) {
    super(`${file}: ${message}`);
  }
}

/** The drift check itself could not run (no key, the upstream unreachable, bad options): exit 2, not drift. */
export class DriftCheckError extends LlmReplayError {
  override name = 'DriftCheckError';
  constructor(
    message: string,
    /** No later request can do better (the key was refused): the check sends no more. */
    readonly stopsRun = false,
  ) {
    super(message);
  }
}

/**
 * Every answer of llm-replay's own, by its code: the status and the error type it is
 * sent with (README, "Errors", lists them; a test checks the list against this).
 */
export const ERROR_CATALOGUE = {
  llm_replay_recording_not_found: { status: 404, type: 'llm_replay_miss', when: 'replay found no recording for the request (the message says which is nearest)' },
  llm_replay_bad_recording: { status: 500, type: 'llm_replay_error', when: 'the recording file that answers, or that the inspector was asked for, cannot be read or parsed (answered with `x-should-retry: false`: a broken file does not mend itself, so the SDKs do not send it again)' },
  llm_replay_write_failed: { status: 500, type: 'llm_replay_error', when: 'a whole answer could not be written in a record mode (with `x-should-retry: false` when the directory refused the file: the SDKs do not send it again)' },
  llm_replay_upstream_error: { status: 502, type: 'upstream_error', when: 'the upstream cannot be reached or broke off (504 when it stayed silent past --upstream-timeout)' },
  llm_replay_bad_url: { status: 400, type: 'invalid_request_error', when: 'the request URL cannot be forwarded' },
  llm_replay_bad_path: { status: 400, type: 'invalid_request_error', when: "the path has a malformed percent-encoding, a '.' or '..' segment, or is an absolute URL; or the request is a CONNECT (llm-replay is no forward proxy: set the client's base URL, not HTTPS_PROXY)" },
  llm_replay_bad_fault: { status: 400, type: 'invalid_request_error', when: 'the x-llm-replay-fault header, or a fault rule sent to the admin endpoint, is not valid' },
  llm_replay_body_too_large: { status: 413, type: 'invalid_request_error', when: 'the request body is larger than --body-limit' },
  llm_replay_too_many_headers: { status: 431, type: 'invalid_request_error', when: 'the request has more than 1,000 headers' },
  llm_replay_headers_too_large: { status: 431, type: 'invalid_request_error', when: "the request's headers are larger than Node's --max-http-header-size (16 KB)" },
  llm_replay_request_timeout: { status: 408, type: 'invalid_request_error', when: 'the request headers or body took longer than --headers-timeout or --body-timeout' },
  llm_replay_bad_http: { status: 400, type: 'invalid_request_error', when: 'the request is not valid HTTP' },
  llm_replay_unknown_admin_endpoint: { status: 404, type: 'invalid_request_error', when: 'no admin endpoint or inspector file has that path' },
  llm_replay_bad_mode: { status: 400, type: 'invalid_request_error', when: 'the mode sent to the admin endpoint is not one of the modes' },
  llm_replay_not_writable: { status: 409, type: 'invalid_request_error', when: 'a record mode was asked for and the recordings directory is not writable' },
  llm_replay_directory_locked: { status: 409, type: 'invalid_request_error', when: 'record mode was asked for and another record-mode server holds the recordings directory' },
  llm_replay_mode_unavailable: { status: 409, type: 'invalid_request_error', when: 'a server started in live mode without its recordings directory was asked for another mode (it reads the directory only at start)' },
  llm_replay_bad_reset: { status: 400, type: 'invalid_request_error', when: 'the occurrence reset body is not {"test_id", "run"}' },
  llm_replay_admin_forbidden: { status: 403, type: 'invalid_request_error', when: 'an admin request without a token came from beyond this machine' },
  llm_replay_host_forbidden: { status: 403, type: 'invalid_request_error', when: 'a proxied request to a loopback server named another host (Host or Origin) than loopback or --allow-hosts' },
  llm_replay_admin_token_required: { status: 401, type: 'invalid_request_error', when: 'the admin token is missing or wrong' },
  llm_replay_bad_inspector_query: { status: 400, type: 'invalid_request_error', when: "a query parameter of the inspector's API is not valid" },
  llm_replay_no_such_recording: { status: 404, type: 'invalid_request_error', when: 'the inspector was asked for a recording file there is not' },
  llm_replay_no_such_request: { status: 404, type: 'invalid_request_error', when: "the inspector was asked for a request no longer in this run's journal" },
  llm_replay_page_not_built: { status: 503, type: 'llm_replay_error', when: 'the inspector page is not built (npm run build)' },
  llm_replay_bad_request: { status: 400, type: 'invalid_request_error', when: 'an admin request does not match its route (a query parameter of the wrong type, say)' },
  llm_replay_error: { status: 500, type: 'llm_replay_error', when: 'anything else that went wrong inside llm-replay' },
} as const satisfies Record<string, { status: number; type: string; when: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/**
 * Errors that asking again cannot mend: sent with `x-should-retry: false`, which the official SDKs
 * obey (a 500 they would otherwise send twice more). Others are final only where they are made so
 * (a write the directory refused).
 */
const FINAL: ReadonlySet<ErrorCode> = new Set(['llm_replay_bad_recording']);

/** A request llm-replay answers with one of its own errors: thrown, and rendered by the server's error handler. */
export class AnswerError extends LlmReplayError {
  override name = 'AnswerError';
  readonly status: number;
  readonly type: string;
  /** Asking again cannot mend it. */
  readonly final: boolean;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The request field or header at fault. */
    readonly param: string | null = null,
    {
      status,
      final,
    }: {
      /** Another status than the code's, where its catalogue entry names one (a 504 for a silent upstream). */
      status?: number;
      /** Asking again cannot mend this one, whatever its code (the code's own: FINAL). */
      final?: boolean;
    } = {},
  ) {
    super(message);
    this.status = status ?? ERROR_CATALOGUE[code].status;
    this.type = ERROR_CATALOGUE[code].type;
    this.final = final ?? FINAL.has(code);
  }
}
