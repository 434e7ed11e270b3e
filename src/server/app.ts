// The HTTP server: fastify with two plugins, the proxy (proxy-plugin.ts: raw bodies,
// the catch-all route) and the admin endpoints with the inspector (admin.ts: JSON
// bodies, route schemas), its resources and their shutdown (resources.ts: the upstream
// agent among them), and errors rendered by error-handler.ts.
import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import Fastify, { LogController, type FastifyInstance, type FastifyReply } from 'fastify';
import { resolveConfig, type ServerConfig, type ServerOptions } from '../config/options.js';
import { ConfigError } from '../errors.js';
import { isRecordingMode } from '../config/schema.js';
import { errorHandler, sendOwnError } from './error-handler.js';
import { pathRefused } from './proxy-path.js';
import { proxyPlugin } from './proxy-plugin.js';
import { registerResources } from './resources.js';
import { adminPlugin } from './admin.js';
import { ADMIN_PREFIX } from '../request/control-headers.js';
import { adminAccessFor, exposureWarning } from './admin-access.js';
import { ANSWER_HEADERS } from '../wire/answer-headers.js';
import { rewriteTestIdPath } from '../request/test-id-path.js';
import { answerClientError, refuseTooManyHeaders } from './header-limits.js';
import { refuseConnect } from './socket-answer.js';
import { oversizedBodies } from './oversized-body.js';
import { closeQuietConnectionsOnClose } from './quiet-connections.js';
import { redactUrl } from '../secrets/redact.js';
import { RecordingCatalogue } from '../recordings/catalogue.js';
import { RecordingStore } from '../recordings/store.js';
import { makeDirs } from '../recordings/make-dirs.js';
import type { Usage } from './usage.js';
import { cannotWriteIn } from '../recordings/atomic-write.js';
import { RecordLockError } from '../recordings/record-lock.js';
import { pageLink } from './inspector/links.js';
import { takeRecordLock } from './record-lock-hold.js';

export interface RunningServer {
  /** The server's base URL, e.g. http://127.0.0.1:8787 (clients add /v1). */
  url: string;
  port: number;
  config: ServerConfig;
  store: RecordingStore;
  catalogue: RecordingCatalogue;
  usage: Usage;
  app: FastifyInstance;
  /** The token the admin endpoints require (given, or made because the server listens beyond loopback); undefined when none. */
  adminToken: string | undefined;
  /** The page's address for the person who started the server: with the token when it was made at start (and printed), else without. */
  inspectorUrl: string;
  /** Set when listening beyond loopback: what is exposed and how to protect it (also logged). */
  warning?: string;
  /** Stops accepting requests, lets those in flight finish, waits for every write, writes the usage file. */
  close(): Promise<void>;
}

/** Checks the recordings directory for the mode, creating it for a recording mode; false when it is absent and need not be there. */
async function prepareRecordingsDir(config: ServerConfig): Promise<boolean> {
  const dir = config.recordingsDir;
  let info;
  try {
    info = await stat(dir);
  } catch {
    // Live mode reads and writes no recording: it runs without the directory.
    if (config.mode === 'live') return false;
    // A first run: say how to begin rather than only what is missing.
    if (!isRecordingMode(config.mode)) throw new ConfigError('recordings', `directory ${dir} does not exist, so ${config.mode} mode has nothing to answer from. To start: run once with --mode record-if-missing (LLM_REPLAY_MODE=record-if-missing) and a real API key to record what the tests send, or create it (mkdir -p ${dir}) to start empty`);
    try {
      makeDirs(dir);
    } catch (error) {
      throw new ConfigError('recordings', `cannot create ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    return true;
  }
  if (!info.isDirectory()) throw new ConfigError('recordings', `${dir} is not a directory`);
  await access(dir, constants.R_OK | constants.X_OK).catch(() => {
    throw new ConfigError('recordings', `directory ${dir} is not readable`);
  });
  const cannot = isRecordingMode(config.mode) ? cannotWriteIn(dir) : undefined;
  if (cannot) throw new ConfigError('recordings', `directory ${dir} is not writable (${cannot}), and ${config.mode} mode writes its recordings there`);
  return true;
}

/** The temporary files of dead writers the scan removed: gone from the directory, so said once, as a count (a killed writer's leftovers, never read as recordings). */
function sayRemovedTemps(app: FastifyInstance, store: RecordingStore): void {
  if (store.removedTemps > 0) app.log.info({ removed: store.removedTemps }, `llm-replay: removed ${store.removedTemps} temporary file${store.removedTemps === 1 ? '' : 's'} left in ${store.dir} by writers no longer running (processes killed mid-write)`);
}

/**
 * Folders the index does not read, files it passed over, and files that do not parse, found as the catalogue
 * reads them: once it is first needed, so a large directory does not delay the first answer,
 * or before listening with --strict, which refuses to start on any.
 */
async function reportUnusableFiles(app: FastifyInstance, store: RecordingStore, catalogue: RecordingCatalogue, config: ServerConfig): Promise<void> {
  const skipped = store.skipped.map(({ file, reason }) => `${file}: ${reason}`);
  const unusable = () => [...catalogue.problems].map(([file, reason]) => `${path.join(store.dir, file)}: ${reason}`);
  for (const folder of store.unreadFolders) app.log.warn(`llm-replay: not reading ${folder}: hidden and node_modules folders are never read (nor written to)`);
  if (config.strict) {
    await catalogue.build();
    const bad = [...skipped, ...unusable()];
    if (bad.length > 0) throw new ConfigError('strict', `${bad.length} unusable file(s) in ${config.recordingsDir}:\n  ${bad.join('\n  ')}`);
    return;
  }
  for (const line of skipped) app.log.warn(`llm-replay: ignoring ${line}`);
  // Not started here: the catalogue is read on the first miss or inspector query (a replay that never misses never reads its files twice).
  void catalogue.built.then(() => {
    for (const line of unusable()) app.log.warn(`llm-replay: unusable recording ${line}`);
  });
}

/** Record mode removes older sequences' files: a second record-mode server on the directory is refused at start. */
function lockForRecording(app: FastifyInstance): void {
  try {
    takeRecordLock(app);
  } catch (error) {
    if (error instanceof RecordLockError) throw new ConfigError('mode', error.message);
    throw error;
  }
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const config = resolveConfig({ port: 0, logLevel: 'warn', ...options });
  const store = (await prepareRecordingsDir(config)) ? await RecordingStore.open(config.recordingsDir, { removeStaleTemps: isRecordingMode(config.mode) }) : RecordingStore.empty(config.recordingsDir);
  const app = Fastify({
    logger:
      config.logLevel === 'silent'
        ? false
        : {
            level: config.logLevel,
            ...(config.logStream ? { stream: config.logStream } : {}),
            serializers: { req: (req) => ({ method: req.method, url: redactUrl(req.url) }) },
          },
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler: answerClientError,
    bodyLimit: config.bodyLimit,
    // A test id and run carried in the path become their headers before routing.
    rewriteUrl: (req) => rewriteTestIdPath(req),
    // A path the router cannot decode is refused as the proxy refuses other bad paths, in the caller's dialect.
    frameworkErrors: (error, request, reply) => {
      const url = request.raw.url ?? '/';
      // This reply runs no onSend hook: the answer headers are set here.
      if (error.code === 'FST_ERR_BAD_URL') return sendOwnError(reply.headers(ANSWER_HEADERS), pathRefused(request.method, url, 'bad-encoding'), url.split('?')[0]!);
      return (reply as FastifyReply).send(error);
    },
    // A client has headersTimeoutMs for its headers and bodyTimeoutMs more for its body,
    // then gets 408: trickling connections cannot pile up. Checked every second (Node: 30 s).
    requestTimeout: config.headersTimeoutMs + config.bodyTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.headersTimeoutMs + config.bodyTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(Math.min(config.headersTimeoutMs, config.bodyTimeoutMs) / 2))),
    },
  });
  // Every header is taken (Node would drop those past 2000 without a word); the hook refuses too many.
  app.server.maxHeadersCount = 0;
  app.server.on('connect', refuseConnect);
  app.addHook('onRequest', refuseTooManyHeaders);
  app.setErrorHandler(errorHandler(config, oversizedBodies(app, config.bodyLimit)));
  await registerResources(app, config, store);
  closeQuietConnectionsOnClose(app);
  const access = adminAccessFor(config.host, config.adminToken);
  // Before the routes, so it covers every answer; the inspector page's files keep their own policy.
  // Not async: a stream's head then goes out as it did without the hook, before a cut can end it.
  app.addHook('onSend', (request, reply, payload, done) => {
    // The header first: routeOptions builds a fresh object on each read.
    if (!(reply.hasHeader('content-security-policy') && request.routeOptions.url?.startsWith(`${ADMIN_PREFIX}/ui`))) reply.headers(ANSWER_HEADERS);
    done(null, payload);
  });
  // The proxy first: the methods it adds are the admin plugin's catch-all's too.
  await app.register(proxyPlugin);
  await app.register(adminPlugin, { prefix: ADMIN_PREFIX, access });

  try {
    // Said before anything can refuse the start (the record lock): the scan has removed them already.
    sayRemovedTemps(app, store);
    if (config.mode === 'record') lockForRecording(app);
    await reportUnusableFiles(app, store, app.catalogue, config);
    // The CLI prints its own one-line start-up message; fastify's "Server listening" would repeat it.
    const level = app.log.level;
    if (config.logLevel !== 'silent') app.log.level = 'warn';
    try {
      await app.listen({ port: config.port, host: config.host });
    } finally {
      app.log.level = level;
    }
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError('port', `${config.port} on ${config.host} is already in use`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ConfigError('host', `cannot listen on ${config.host}`);
    throw error;
  }
  const warning = exposureWarning(config.host, access);
  if (warning) app.log.warn(warning);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const { url } = app;
  return {
    url,
    port,
    config,
    store,
    catalogue: app.catalogue,
    usage: app.usage,
    app,
    adminToken: access.token,
    inspectorUrl: access.generated ? `${pageLink(url)}?token=${encodeURIComponent(access.token!)}` : pageLink(url),
    ...(warning ? { warning } : {}),
    /** Stops accepting requests, lets those in flight finish, then runs the onClose hooks (writes, usage file). */
    close: () => app.close(),
  };
}
