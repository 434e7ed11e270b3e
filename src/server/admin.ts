// The admin endpoints: an encapsulated plugin under a reserved prefix. Everything
// under the prefix is answered here (unknown routes and methods get 404) and is never
// proxied or recorded; beyond loopback it needs the admin token (admin-access.ts):
// health, stats, this run's misses, unused recordings, the usage data, switching the
// mode at runtime, the faults to inject (admin-faults.ts), resetting occurrence counts
// (admin-occurrences.ts), and the inspector page with its API (inspector/).
import path from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { redactUrl } from '../secrets/redact.js';
import Type, { type Static } from 'typebox';
import { isRecordingMode, MODES, type Mode } from '../config/schema.js';
import { jsonBody, parseJsonBodies } from './admin-body.js';
import { AnswerError } from '../errors.js';
import { cannotWriteIn } from '../recordings/atomic-write.js';
import { RecordLockError } from '../recordings/record-lock.js';
import { releaseRecordLock, takeRecordLock } from './record-lock-hold.js';
import { faultsAdmin } from './admin-faults.js';
import { inspectorPlugin } from './inspector/index.js';
import { occurrencesAdmin } from './admin-occurrences.js';
import { requireAdminToken, type AdminAccess } from './admin-access.js';
import { ADMIN_PREFIX } from '../request/control-headers.js';

/** Files of recordings this run neither answered from nor wrote. */
function unusedFiles({ store, usage }: Pick<FastifyInstance, 'store' | 'usage'>): string[] {
  const out: string[] = [];
  for (const { id, file } of store.filesWithIds()) {
    if (!usage.hits.has(id) && !usage.recorded.has(id)) out.push(path.relative(store.dir, file));
  }
  return out.sort();
}

/** The answer for anything under the prefix that no admin route takes, however the path was spelled. */
export function adminNotFound(request: { method: string; url: string }): never {
  throw new AnswerError('llm_replay_unknown_admin_endpoint', `no admin endpoint ${request.method} ${redactUrl(request.url)} (${ADMIN_PREFIX}/ is reserved: it is never proxied or recorded)`);
}

export const adminPlugin: FastifyPluginAsync<{ access: AdminAccess }> = async (app, { access }) => {
  const { config, usage, store } = app;
  // First, so every route registered in this plugin (here or in its child plugins) is covered.
  app.addHook('onRequest', requireAdminToken(access, ADMIN_PREFIX));
  parseJsonBodies(app);

  // The route prefixes, so a runner that did not start the server (pytest reads this) points each SDK at its route.
  // Never the upstreams: this answers without the admin token, and a URL can carry a credential.
  const health = Type.Object({ status: Type.Literal('ok'), mode: Type.String(), recordings: Type.Integer(), routes: Type.Array(Type.String()) });
  const routePrefixes = config.routes.map((route) => route.prefix).filter((prefix) => prefix !== '');
  app.get('/health', { schema: { response: { 200: health } } }, async () => ({ status: 'ok', mode: config.mode, recordings: store.size, routes: routePrefixes }));

  app.get('/stats', async () => ({
    mode: config.mode,
    recordings: store.size,
    started_at: usage.startedAt.toISOString(),
    totals: usage.totals(),
    endpoints: Object.fromEntries(usage.endpoints),
  }));

  const missesQuery = Type.Object({ test_id: Type.Optional(Type.String()), run: Type.Optional(Type.String()) });
  app.get<{ Querystring: Static<typeof missesQuery> }>('/misses', { schema: { querystring: missesQuery } }, async (request) => {
    const { test_id: testId, run } = request.query;
    return usage.missesOf(testId, run);
  });

  app.get('/unused', async () => ({ unused: unusedFiles(app) }));

  app.get('/usage', async () => usage.toFile(config.mode, config.recordingsDir));

  const modeBody = Type.Object({ mode: Type.Union(MODES.map((mode) => Type.Literal(mode))) }, { additionalProperties: false });
  const modeSwitched = Type.Object({ mode: Type.String(), previous: Type.String() });
  const modeRoute = jsonBody(modeBody, { code: 'llm_replay_bad_mode', hint: `send {"mode": one of ${MODES.join(', ')}}` }, modeSwitched);
  app.put<{ Body: Static<typeof modeBody> }>('/mode', modeRoute, async (request) => {
    const next: Mode = request.body.mode;
    if (!store.opened && next !== 'live') {
      throw new AnswerError('llm_replay_mode_unavailable', `this server started in live mode without its recordings directory ${config.recordingsDir}, which it reads only at start: restart it with --mode ${next}; the mode stays ${config.mode}`, 'mode');
    }
    const cannot = isRecordingMode(next) ? cannotWriteIn(config.recordingsDir) : undefined;
    if (cannot) {
      throw new AnswerError('llm_replay_not_writable', `${config.recordingsDir} is not writable (${cannot}): ${next} mode could not record; the mode stays ${config.mode}`, 'mode');
    }
    if (isRecordingMode(next)) await app.upstreamIds.open();
    // Taken after the await and just before the switch: a release waiting on the last record exchanges must see record mode if the lock is to stay.
    if (next === 'record') {
      try {
        takeRecordLock(app);
      } catch (error) {
        if (!(error instanceof RecordLockError)) throw error;
        throw new AnswerError('llm_replay_directory_locked', `${error.message}; the mode stays ${config.mode}`, 'mode');
      }
    }
    const previous = config.mode;
    config.mode = next;
    app.recordModeExchanges.modeChanged();
    app.log.info(`llm-replay: mode ${previous} -> ${next}`);
    // Answered once the lock is free: a second record server may start when this answer comes.
    if (previous === 'record' && next !== 'record') await releaseRecordLock(app, app.recordModeExchanges);
    return { mode: next, previous };
  });

  await app.register(faultsAdmin);
  await app.register(occurrencesAdmin);
  await app.register(inspectorPlugin, { needsToken: access.token !== undefined });

  // The whole prefix is reserved: what no route above answers is a 404 here, never forwarded.
  app.all('/', adminNotFound);
  app.all('/*', adminNotFound);
  app.setNotFoundHandler(adminNotFound);
};
