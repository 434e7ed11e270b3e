// The inspector: a page at /_llm-replay/ui/ and its JSON API at /_llm-replay/api/,
// registered inside the admin plugin, so the admin surface's access rule covers both.
import type { FastifyPluginAsync } from 'fastify';
import { inspectorApi } from './api.js';
import { driftApi } from './drift-api.js';
import { inspectorPage } from './page.js';

/** needsToken: whether the admin endpoints want a token (the page's record command then sends one). */
export const inspectorPlugin: FastifyPluginAsync<{ needsToken: boolean }> = async (app, { needsToken }) => {
  await app.register(inspectorPage);
  await app.register(inspectorApi, { needsToken });
  await app.register(driftApi, { stateDir: app.config.stateDir, recordingsDir: app.config.recordingsDir });
};
