// The inspector: a page at /_llm-replay/ui/ and its JSON API at /_llm-replay/api/,
// registered inside the admin plugin, so the admin surface's access rule covers both.
import type { FastifyPluginAsync } from 'fastify';
import { inspectorApi } from './api.js';
import { driftApi } from './drift-api.js';
import { inspectorPage } from './page.js';

export const inspectorPlugin: FastifyPluginAsync = async (app) => {
  await app.register(inspectorPage);
  await app.register(inspectorApi);
  await app.register(driftApi, { stateDir: app.llmReplay.config.stateDir, recordingsDir: app.llmReplay.config.recordingsDir });
};
