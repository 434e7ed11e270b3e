// The admin endpoints, under a reserved prefix that is never proxied or recorded:
// health, stats, this run's misses, unused recordings, the usage data, and switching
// the mode at runtime.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { MODES, type Mode } from '../config/options.js';
import { IdMapper } from '../proxy/ids.js';
import type { ProxyState } from './handler.js';

export const ADMIN_PREFIX = '/_llm-replay';

function isRecordingMode(mode: Mode): boolean {
  return mode === 'record' || mode === 'record-if-missing';
}

/** Files of recordings this run neither answered from nor wrote. */
export function unusedFiles(state: ProxyState): string[] {
  const out: string[] = [];
  for (const entry of state.store.entries()) {
    if (state.usage.hits.has(entry.key) || state.usage.recorded.has(entry.key)) continue;
    out.push(...entry.files.map((file) => path.relative(state.store.dir, file)));
  }
  return out.sort();
}

export function registerAdmin(app: FastifyInstance, state: ProxyState): void {
  const { config, usage, store } = state;

  app.get(`${ADMIN_PREFIX}/health`, async () => ({ status: 'ok', mode: config.mode, recordings: store.size }));

  app.get(`${ADMIN_PREFIX}/stats`, async () => ({
    mode: config.mode,
    recordings: store.size,
    started_at: usage.startedAt.toISOString(),
    totals: usage.totals(),
    endpoints: Object.fromEntries(usage.endpoints),
  }));

  app.get<{ Querystring: { test_id?: string } }>(`${ADMIN_PREFIX}/misses`, async (request) => {
    const testId = request.query.test_id;
    return { misses: testId === undefined ? usage.misses : usage.misses.filter((miss) => miss.testId === testId) };
  });

  app.get(`${ADMIN_PREFIX}/unused`, async () => ({ unused: unusedFiles(state) }));

  app.get(`${ADMIN_PREFIX}/usage`, async () => usage.toFile(config.mode, config.recordingsDir));

  app.put<{ Body: Buffer }>(`${ADMIN_PREFIX}/mode`, async (request, reply) => {
    let mode: unknown;
    try {
      mode = (JSON.parse(request.body?.toString('utf8') ?? '') as { mode?: unknown }).mode;
    } catch {
      mode = undefined;
    }
    if (typeof mode !== 'string' || !(MODES as readonly string[]).includes(mode)) {
      return reply.code(400).send({ error: { message: `llm-replay: send {"mode": one of ${MODES.join(', ')}}`, type: 'invalid_request_error', param: 'mode', code: 'llm_replay_bad_mode' } });
    }
    const next = mode as Mode;
    if (isRecordingMode(next) && !state.ids && config.statefulIds) {
      state.ids = await IdMapper.open(path.join(config.stateDir, 'upstream-ids.jsonl'));
    }
    const previous = config.mode;
    config.mode = next;
    app.log.info(`llm-replay: mode ${previous} -> ${next}`);
    return { mode: next, previous };
  });
}
