// The programmatic API, for test setup (e.g. a vitest globalSetup).
export { startServer, type RunningServer } from './server/app.js';
export { MODES, LAYOUTS, type Mode, type Layout, type ServerOptions, type ServerConfig } from './config/options.js';
export { KEY_SCHEMES, computeKey, keyRequest, type KeyScheme, type RawRequest, type RequestKey } from './keys/index.js';
export { clientRequest, type ClientRequest } from './request/client-request.js';
export { testIdPathPrefix, parseTestIdPath } from './request/test-id-path.js';
export { ConfigError, LlmReplayError, RecordingFileError } from './errors.js';
export type { Recording } from './recordings/recording.js';
