// The inspector page's JSON API under the admin prefix, read-only: the recordings
// (filtered, paged), one recording as a person reads it, and this run's journal,
// whole, one entry at a time (a miss with its diff), or live as server-sent events.
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Static } from 'typebox';
import { AnswerError } from '../../errors.js';
import type { JournalEntry } from '../journal.js';
import type { RecordingStore } from '../../recordings/store.js';
import type { JournalDetail, JournalItem, JournalPage } from './contract.js';
import { missView } from './miss-view.js';
import { recordingRows } from './recording-rows.js';
import { recordingView } from './recording-view.js';
import { listed, queryRecordings, type RecordingFilter } from './recordings-query.js';
import { afterQuery, fileQuery, journalPage, listQuery, recordingPage, seqParams } from './api-schemas.js';

/** Keeps idle event streams open through proxies that close silent connections. */
const KEEP_ALIVE_MS = 15_000;
/** Bytes of events a reader of the event stream may leave unread before it is dropped. */
const UNREAD_BYTES_KEPT = 1024 * 1024;
const invalid = { code: 'llm_replay_bad_inspector_query' } as const;

function filterOf(query: Static<typeof listQuery>): RecordingFilter {
  const { test_id: testId, endpoint, model, q: text, status, streaming, used, occurrence } = query;
  const given = { testId, endpoint, model, text, status: status?.toLowerCase(), streaming, used, occurrence };
  // An empty text parameter filters nothing.
  return Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined && value !== '')) as RecordingFilter;
}

function fileOf(store: RecordingStore, key: string | undefined): string | undefined {
  const file = key === undefined ? undefined : store.entry(key)?.files[0];
  return file === undefined ? undefined : path.relative(store.dir, file).split(path.sep).join('/');
}

function itemOf(store: RecordingStore, entry: JournalEntry): JournalItem {
  const { miss, ...rest } = entry;
  const item: JournalItem = { ...rest };
  if (entry.kind !== 'miss') {
    const file = fileOf(store, entry.key);
    if (file) item.file = file;
  }
  if (miss) {
    item.message = miss.message;
    if (miss.nearest) item.nearest = { file: path.relative(store.dir, path.resolve(miss.nearest.file)).split(path.sep).join('/'), differences: miss.nearest.differences.length };
  }
  return item;
}

export const inspectorApi: FastifyPluginAsync<{ needsToken: boolean }> = async (app, { needsToken }) => {
  const { store, usage, journal, config, catalogue } = app;
  const context = () => ({ source: recordingRows(catalogue), recordingsDir: store.dir, usage, lastUsed: journal.lastUsed });

  app.get<{ Querystring: Static<typeof listQuery> }>('/api/recordings', { schema: { querystring: listQuery, response: { 200: recordingPage } }, config: { invalid } }, async (request) => {
    const { cursor, limit } = request.query;
    return queryRecordings(context(), filterOf(request.query), cursor, limit);
  });

  app.get<{ Querystring: Static<typeof fileQuery> }>('/api/recording', { schema: { querystring: fileQuery }, config: { invalid } }, async (request) => {
    const { file } = request.query;
    // Only files the catalogue knows: the query never names a path to read.
    const row = recordingRows(catalogue).byFile(file);
    if (!row) {
      const unreadable = catalogue.problems.get(file);
      if (unreadable !== undefined) throw new AnswerError('llm_replay_bad_recording', `recording ${path.join(store.dir, file)} is there but cannot be used: ${unreadable}`, 'file');
      throw new AnswerError('llm_replay_no_such_recording', `no recording ${JSON.stringify(file)} in ${store.dir}`, 'file');
    }
    return recordingView(store, listed(row, context()));
  });

  const page = (after: number): JournalPage => ({
    items: journal.entries(after).map((entry) => itemOf(store, entry)),
    next: journal.nextSeq,
    mode: config.mode,
    url: app.url,
    recordingsDir: store.dir,
    startedAt: usage.startedAt.toISOString(),
  });

  const journalRoute = { schema: { querystring: afterQuery, response: { 200: journalPage } }, config: { invalid } };
  app.get<{ Querystring: Static<typeof afterQuery> }>('/api/journal', journalRoute, async (request) => page(request.query.after));

  app.get<{ Params: Static<typeof seqParams> }>('/api/journal/:seq', { schema: { params: seqParams }, config: { invalid } }, async (request) => {
    const { seq } = request.params;
    const entry = journal.entry(seq);
    if (!entry) throw new AnswerError('llm_replay_no_such_request', `request #${request.params.seq} is not in this run's journal (it keeps the most recent requests)`);
    const detail: JournalDetail = { item: itemOf(store, entry) };
    const miss = await missView(app, seq, needsToken);
    if (miss) detail.miss = miss;
    return detail;
  });

  // Live: every request as its answer ends, as server-sent events (after the ones already kept).
  const streams = new Set<ServerResponse>();
  app.get<{ Querystring: Static<typeof afterQuery> }>('/api/journal/events', { schema: { querystring: afterQuery }, config: { invalid } }, (request, reply) => {
    const { after } = request.query;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.flushHeaders();
    // A reader that does not read is dropped, not buffered for: the page reconnects with ?after= and catches up.
    const send = (entry: JournalEntry) => {
      if (res.writableLength > UNREAD_BYTES_KEPT) res.destroy();
      else res.write(`id: ${entry.seq}\ndata: ${JSON.stringify(itemOf(store, entry))}\n\n`);
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
