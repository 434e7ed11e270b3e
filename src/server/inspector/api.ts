// The inspector page's JSON API under the admin prefix, read-only: the recordings
// (filtered, paged), one recording as a person reads it, and this run's journal,
// whole, one entry at a time (a miss with its diff), or live as server-sent events.
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { ServerResponse } from 'node:http';
import Type, { type Static } from 'typebox';
import { AnswerError } from '../../errors.js';
import type { JournalEntry } from '../journal.js';
import type { ProxyState } from '../state.js';
import type { JournalDetail, JournalItem, JournalPage } from './contract.js';
import { missView } from './miss-view.js';
import { recordingRows } from './recording-rows.js';
import { recordingView } from './recording-view.js';
import { listed, queryRecordings, type RecordingFilter } from './recordings-query.js';

interface ListQuery {
  test_id?: string;
  endpoint?: string;
  model?: string;
  status?: string;
  streaming?: string;
  occurrence?: string;
  q?: string;
  used?: string;
  cursor?: string;
  limit?: string;
}

const MAX_LIMIT = 500;
/** Keeps idle event streams open through proxies that close silent connections. */
/** Bytes of events a reader of the event stream may leave unread before it is dropped. */
const UNREAD_BYTES_KEPT = 1024 * 1024;
const KEEP_ALIVE_MS = 15_000;

function badRequest(message: string, param: string): never {
  throw new AnswerError('llm_replay_bad_inspector_query', message, param);
}

function wholeNumber(value: string | undefined, fallback: number): number | undefined {
  if (value === undefined || value === '') return fallback;
  return /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

function boolean(value: string | undefined): boolean | undefined | null {
  if (value === undefined || value === '') return undefined;
  return value === 'true' ? true : value === 'false' ? false : null;
}

function filterOf(query: ListQuery): RecordingFilter | string {
  const filter: RecordingFilter = {};
  if (query.test_id) filter.testId = query.test_id;
  if (query.endpoint) filter.endpoint = query.endpoint;
  if (query.model) filter.model = query.model;
  if (query.q) filter.text = query.q;
  if (query.status) {
    if (!/^([1-5]xx|[1-5]\d\d)$/i.test(query.status)) return 'status: expected a status code (404) or a class (4xx)';
    filter.status = query.status.toLowerCase();
  }
  const streaming = boolean(query.streaming);
  if (streaming === null) return 'streaming: expected true or false';
  if (streaming !== undefined) filter.streaming = streaming;
  const used = boolean(query.used);
  if (used === null) return 'used: expected true or false';
  if (used !== undefined) filter.used = used;
  if (query.occurrence) {
    const occurrence = wholeNumber(query.occurrence, 0);
    if (!occurrence) return 'occurrence: expected a whole number from 1';
    filter.occurrence = occurrence;
  }
  return filter;
}

function fileOf(state: ProxyState, key: string | undefined): string | undefined {
  const file = key === undefined ? undefined : state.store.entry(key)?.files[0];
  return file === undefined ? undefined : path.relative(state.store.dir, file).split(path.sep).join('/');
}

function itemOf(state: ProxyState, entry: JournalEntry): JournalItem {
  const { miss, ...rest } = entry;
  const item: JournalItem = { ...rest };
  if (entry.kind !== 'miss') {
    const file = fileOf(state, entry.key);
    if (file) item.file = file;
  }
  if (miss) {
    item.message = miss.message;
    if (miss.nearest) item.nearest = { file: path.relative(state.store.dir, path.resolve(miss.nearest.file)).split(path.sep).join('/'), differences: miss.nearest.differences.length };
  }
  return item;
}

export const inspectorApi: FastifyPluginAsync = async (app) => {
  const state = app.llmReplay;
  const { store, usage, journal, config, catalogue } = state;
  const context = () => ({ source: recordingRows(catalogue), recordingsDir: store.dir, usage, lastUsed: journal.lastUsed });

  app.get<{ Querystring: ListQuery }>('/api/recordings', async (request) => {
    const filter = filterOf(request.query);
    if (typeof filter === 'string') return badRequest(filter, filter.split(':')[0]!);
    const cursor = wholeNumber(request.query.cursor, 0);
    const limit = wholeNumber(request.query.limit, 100);
    if (cursor === undefined) return badRequest('cursor: expected a whole number', 'cursor');
    if (!limit || limit > MAX_LIMIT) return badRequest(`limit: expected a whole number from 1 to ${MAX_LIMIT}`, 'limit');
    return queryRecordings(context(), filter, cursor, limit);
  });

  app.get<{ Querystring: { file?: string } }>('/api/recording', async (request) => {
    const file = request.query.file ?? '';
    // Only files the catalogue knows: the query never names a path to read.
    const row = recordingRows(catalogue).byFile(file);
    if (!row) throw new AnswerError('llm_replay_no_such_recording', `no recording ${JSON.stringify(file)} in ${store.dir}`, 'file');
    return recordingView(store, listed(row, context()));
  });

  const page = (after: number): JournalPage => ({
    items: journal.entries(after).map((entry) => itemOf(state, entry)),
    next: journal.nextSeq,
    mode: config.mode,
    url: state.url,
    recordingsDir: store.dir,
    startedAt: usage.startedAt.toISOString(),
  });

  const journalQuery = Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0 })) });
  const journalRoute = { schema: { querystring: journalQuery }, config: { invalid: { code: 'llm_replay_bad_inspector_query' } as const } };
  app.get<{ Querystring: Static<typeof journalQuery> }>('/api/journal', journalRoute, async (request) => page(request.query.after ?? 0));

  app.get<{ Params: { seq: string } }>('/api/journal/:seq', async (request) => {
    const seq = wholeNumber(request.params.seq, 0) ?? 0;
    const entry = journal.entry(seq);
    if (!entry) throw new AnswerError('llm_replay_no_such_request', `request #${request.params.seq} is not in this run's journal (it keeps the most recent requests)`);
    const detail: JournalDetail = { item: itemOf(state, entry) };
    const miss = await missView(state, seq);
    if (miss) detail.miss = miss;
    return detail;
  });

  // Live: every request as its answer ends, as server-sent events (after the ones already kept).
  const streams = new Set<ServerResponse>();
  app.get<{ Querystring: { after?: string } }>('/api/journal/events', (request, reply) => {
    const after = wholeNumber(request.query.after, 0) ?? 0;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.flushHeaders();
    // A reader that does not read is dropped, not buffered for: the page reconnects with ?after= and catches up.
    const send = (entry: JournalEntry) => {
      if (res.writableLength > UNREAD_BYTES_KEPT) res.destroy();
      else res.write(`id: ${entry.seq}\ndata: ${JSON.stringify(itemOf(state, entry))}\n\n`);
    };
    for (const entry of journal.entries(after)) send(entry);
    const stop = journal.listen(send);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    streams.add(res);
    res.once('close', () => {
      stop();
      clearInterval(keepAlive);
      streams.delete(res);
    });
  });
  // Open event streams would keep the server from closing.
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
  });
};
