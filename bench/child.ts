// One server of the benchmark, in its own process so that the load generator never
// shares its event loop. Started with a role and a JSON config; tells its parent
// (over IPC) its port once listening, and its resident memory when asked.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import Fastify from 'fastify';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import replyFrom, { type FastifyReplyFromHooks as ReplyFromOptions } from '@fastify/reply-from';
import { startServer } from 'llm-replay';
import { markerFor, withMarker } from './check.js';

export type Role = 'llm-replay' | 'bare-fastify' | 'reply-from' | 'talkback' | 'upstream';

interface ChildConfig {
  role: Role;
  recordings?: string;
  mode?: 'replay' | 'record';
  upstream?: string;
  /** bare-fastify: the bytes to answer with, and their content type. */
  body?: string;
  contentType?: string;
  /** talkback: its tapes folder and record mode. */
  tapes?: string;
  talkbackMode?: 'DISABLED' | 'OVERWRITE';
  /** upstream: the JSON answer, and the stream chunks with the pause between them. */
  json?: string;
  sse?: string[];
  pauseMs?: number;
  /** upstream: put the request's marker (check.ts) at the start of the answer's text. */
  echo?: boolean;
  /** reply-from: also write each answer to a new file in this folder (a temporary file renamed into place) before sending it. */
  writeTo?: string;
  /** llm-replay: another build to start (the path of its dist/index.js; default this checkout's), and options beyond the benchmark's. */
  build?: string;
  options?: Record<string, unknown>;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;

/** Answers given so far, JSON and streams alike: no two answers share an id. */
let answers = 0;

/**
 * Each answer with an id of its own, as a real API gives (a recorder that keeps ids
 * deterministic maps, and journals, each new one). Called once per answer, it gives
 * what swaps the id in `sample` for a new one of the same length, in each text of that
 * answer (every event of a stream carries it), so that answers keep their size.
 */
function idSwapper(sample: string | undefined): () => (text: string) => string {
  if (sample === undefined) return () => (text) => text;
  const found = /"id":"([a-z]+[-_])([A-Za-z0-9]+)"/.exec(sample);
  if (!found) throw new Error(`the upstream's answer has no id to make fresh: ${sample.slice(0, 80)}`);
  const [original, prefix, rest] = [`${found[1]}${found[2]}`, found[1]!, found[2]!];
  return () => {
    const id = `${prefix}${(++answers).toString(36).padStart(rest.length, '0')}`;
    return (text) => text.replaceAll(original, id);
  };
}

function markEvents(events: string[], marker: string): string[] {
  const first = events.findIndex((event) => /"content":"[^"]/.test(event));
  return events.map((event, i) => (i === first ? withMarker(event, marker) : event));
}

async function listen(): Promise<number> {
  switch (config.role) {
    case 'llm-replay': {
      const start = config.build ? ((await import(pathToFileURL(path.resolve(config.build)).href)) as { startServer: typeof startServer }).startServer : startServer;
      // The state folder beside the recordings, in the run's scratch folder: removed with it, not left in the OS temp folder.
      const server = await start({ mode: config.mode ?? 'replay', recordings: config.recordings!, stateDir: `${config.recordings!}.state`, upstream: config.upstream ?? 'http://127.0.0.1:9', port: 0, logLevel: 'silent', recordTiming: false, ...config.options });
      return server.port;
    }
    case 'bare-fastify': {
      const app = Fastify();
      const body = Buffer.from(config.body ?? '{}');
      app.removeAllContentTypeParsers();
      app.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, payload, done) => done(null, payload));
      app.post('/*', (_request, reply) => reply.header('content-type', config.contentType ?? 'application/json').send(body));
      await app.listen({ port: 0, host: '127.0.0.1' });
      return (app.server.address() as { port: number }).port;
    }
    case 'reply-from': {
      const app = Fastify();
      app.removeAllContentTypeParsers();
      app.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, payload, done) => done(null, payload));
      await app.register(replyFrom, { base: config.upstream!, retryMethods: [] });
      const writeTo = config.writeTo;
      if (writeTo) mkdirSync(writeTo, { recursive: true });
      let written = 0;
      // The least a recorder that keeps a file per exchange must do: the answer on disk, atomically, before the client has it.
      const onResponse: ReplyFromOptions['onResponse'] = (_request, reply, response) => {
        const parts: Buffer[] = [];
        response.stream.on('data', (part: Buffer) => parts.push(part));
        response.stream.on('end', () => {
          const body = Buffer.concat(parts);
          const temp = path.join(writeTo!, `.tmp-${written}`);
          writeFileSync(temp, body, { flag: 'wx' });
          renameSync(temp, path.join(writeTo!, `${written++}.json`));
          reply.send(body);
        });
      };
      app.post('/*', (request, reply) => reply.from(request.url, { body: request.body as Buffer, contentType: 'application/json', ...(writeTo ? { onResponse } : {}) }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      return (app.server.address() as { port: number }).port;
    }
    case 'talkback': {
      // talkback is CommonJS whose typings describe an ES default export; load it as Node does.
      const talkback = createRequire(import.meta.url)('talkback') as typeof import('talkback').default;
      const server = talkback({
        host: config.upstream ?? 'http://127.0.0.1:9',
        port: 0,
        path: config.tapes!,
        record: talkback.Options.RecordMode[config.talkbackMode ?? 'DISABLED'],
        allowHeaders: [],
        silent: true,
        summary: false,
      });
      await server.start();
      return ((server as unknown as { server: { address(): { port: number } } }).server.address()).port;
    }
    case 'upstream': {
      const jsonIds = idSwapper(config.json);
      const streamIds = idSwapper(config.sse?.find((event) => event.includes('"id":"')));
      const server = createServer((request, response) => {
        let body = '';
        request.on('data', (part) => (body += part));
        request.on('end', () => {
          const marker = config.echo ? markerFor(body) : undefined;
          if (!body.includes('"stream":true')) {
            response.writeHead(200, { 'content-type': 'application/json' }).end(jsonIds()(marker ? withMarker(config.json ?? '', marker) : (config.json ?? '')));
            return;
          }
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          const events = marker ? markEvents(config.sse ?? [], marker) : (config.sse ?? []);
          const withId = streamIds();
          let i = 0;
          const next = () => {
            if (i === events.length) return void response.end();
            response.write(withId(events[i++]!));
            setTimeout(next, config.pauseMs ?? 0);
          };
          next();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as { port: number }).port;
    }
  }
}

const port = await listen();
process.send?.({ port });
process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'rss') process.send?.({ rss: process.memoryUsage().rss });
  if (message.cmd === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
  }
});
