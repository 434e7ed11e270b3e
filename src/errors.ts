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
  ) {
    super(`${file}: ${message}`);
  }
}

/** The upstream failed in a way that means the exchange must not be recorded. */
export class UpstreamError extends LlmReplayError {
  override name = 'UpstreamError';
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`upstream ${url}: ${message}`, options);
  }
}
