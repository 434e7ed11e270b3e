// The HTTP server: fastify with every body read as raw bytes (the proxy keys and
// forwards exactly what the client sent), one catch-all route, and an undici agent
// for the upstream that verifies TLS and never retries on its own.
import { access, constants, mkdir, stat } from 'node:fs/promises';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import replyFrom from '@fastify/reply-from';
import { Agent } from 'undici';
import { resolveConfig, type ServerConfig, type ServerOptions } from './config.js';
import { ConfigError } from './errors.js';
import { createHandler, type ProxyState } from './handler.js';
import { redactUrl } from './secrets.js';
import { RecordingStore } from './store.js';
import { IdMapper } from './ids.js';
import path from 'node:path';

export interface RunningServer {
  /** The server's base URL, e.g. http://127.0.0.1:8787 (clients add /v1). */
  url: string;
  port: number;
  config: ServerConfig;
  store: RecordingStore;
  app: FastifyInstance;
  /** Stops accepting requests, lets those in flight finish, and waits for every write. */
  close(): Promise<void>;
}

async function prepareRecordingsDir(config: ServerConfig): Promise<void> {
  const dir = config.recordingsDir;
  const recording = config.mode === 'record' || config.mode === 'record-if-missing';
  let info;
  try {
    info = await stat(dir);
  } catch {
    if (!recording) throw new ConfigError('recordings', `directory ${dir} does not exist`);
    await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError('recordings', `cannot create ${dir} (${error.code ?? error.message})`);
    });
    return;
  }
  if (!info.isDirectory()) throw new ConfigError('recordings', `${dir} is not a directory`);
  await access(dir, constants.R_OK | constants.X_OK).catch(() => {
    throw new ConfigError('recordings', `directory ${dir} is not readable`);
  });
}

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const config = resolveConfig({ logLevel: 'warn', ...options });
  await prepareRecordingsDir(config);
  const store = await RecordingStore.open(config.recordingsDir);
  const app = Fastify({
    logger:
      config.logLevel === false
        ? false
        : {
            level: config.logLevel,
            ...(config.logStream ? { stream: config.logStream } : {}),
            serializers: { req: (req) => ({ method: req.method, url: redactUrl(req.url) }) },
          },
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const agent = new Agent({
    connect: { rejectUnauthorized: true },
    headersTimeout: config.upstreamTimeoutMs,
    bodyTimeout: config.upstreamTimeoutMs,
  });
  await app.register(replyFrom, { undici: agent, retryMethods: [], disableRequestLogging: true, destroyAgent: true });
  for (const { file, reason } of store.skipped) app.log.warn(`llm-replay: ignoring ${file}: ${reason}`);
  const recording = config.mode === 'record' || config.mode === 'record-if-missing';
  const ids = recording && config.statefulIds ? await IdMapper.open(path.join(config.stateDir, 'upstream-ids.jsonl')) : undefined;
  const state: ProxyState = { config, store, ids, log: app.log, inflight: new Map() };
  app.route({ method: ALL_METHODS, url: '/*', handler: createHandler(state) });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError('port', `${config.port} on ${config.host} is already in use`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ConfigError('host', `cannot listen on ${config.host}`);
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    port,
    config,
    store,
    app,
    async close() {
      await app.close();
      await store.drain();
      await ids?.drain();
    },
  };
}
